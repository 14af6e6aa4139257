"""Loading registry files through `manage.py import_registry` and the registry_load job, on both
databases: full lists replace their area codes, change lists apply, bad files change nothing."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from registry import loads
from registry.models import AreaCode, RegistryExchange
from tasks_logs.models import RejectedRow, TaskLog

from .files import changes, flat, numbers, xml, zipped

pytestmark = pytest.mark.django_db


def registry() -> set[int]:
    return set(RegistryExchange.objects.numbers())


def run(tmp_path, content: bytes, *args: str, name: str = "registry.txt") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    out = _Out()
    call_command("import_registry", str(path), *args, stdout=out)
    return out.text


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def job(content: bytes, **options) -> TaskLog:
    return loads.load(loads.save_file("registry.zip", content, **options))


def counts(task_log: TaskLog) -> tuple[int, int, int, int]:
    return task_log.new, task_log.deleted, task_log.unchanged, task_log.invalid


def test_a_full_list_of_several_area_codes_loads_through_the_command(tmp_path):
    loaded = numbers(201, 1500) + numbers(212, 1000) + numbers(415, 500)

    out = run(tmp_path, flat(loaded), "--full", "--data-date", "2026-11-01")

    assert registry() == set(loaded)
    assert "The full list of area code(s) 201, 212, 415 was loaded (data of 2026-11-01)." in out
    assert "3,000 added, 0 deleted, 0 unchanged, 0 unreadable, 0 repeated within the file. Took" in out
    assert list(AreaCode.objects.values_list("code", "state", "numbers", "data_date")) == [
        (201, "NJ", 1500, date(2026, 11, 1)), (212, "NY", 1000, date(2026, 11, 1)),
        (415, "CA", 500, date(2026, 11, 1))]
    task_log = TaskLog.objects.get()
    assert (task_log.kind, task_log.state, counts(task_log)) == ("registry_load", "succeeded", (3000, 0, 0, 0))
    assert AreaCode.objects.filter(last_load=task_log, loaded_at__isnull=False).count() == 3


def test_a_full_reload_replaces_the_area_codes_it_covers_and_leaves_the_others(tmp_path):
    job(flat(numbers(201, 1000) + numbers(212, 300)))
    new_list = numbers(201, 1000, start=500) + numbers(201, 10, start=500)  # 500 kept, 500 new, 10 repeated

    task_log = job(zipped(("201.txt", flat(new_list, comma=True))), area_code=201, changes=False)

    assert registry() == set(numbers(201, 1000, start=500) + numbers(212, 300))
    assert counts(task_log) == (500, 500, 500, 0)
    assert task_log.duplicates == 10
    assert dict(AreaCode.objects.values_list("code", "numbers")) == {201: 1000, 212: 300}


def test_a_change_list_applies_its_adds_and_deletes_the_last_record_of_a_number_counting(tmp_path):
    job(flat(numbers(201, 1000) + numbers(212, 1000)))
    added, deleted = numbers(201, 200, start=1000), numbers(201, 100)
    records = [(n, "A") for n in added] + [(n, "D") for n in deleted] + [(n, "A") for n in numbers(212, 50)]
    records += [(numbers(212, 1, start=2000)[0], "A"), (numbers(212, 1, start=2000)[0], "delete")]  # then gone

    out = run(tmp_path, changes(records, us_dates=True), "--changes")

    expected = (set(numbers(201, 1000)) | set(added)) - set(deleted) | set(numbers(212, 1000))
    assert registry() == expected
    assert "200 added, 100 deleted, 51 unchanged, 0 unreadable, 1 repeated within the file." in out
    assert dict(AreaCode.objects.values_list("code", "numbers")) == {201: 1100, 212: 1000}


def test_xml_full_and_change_lists_zipped_in_several_members():
    full = numbers(201, 800) + numbers(415, 400)
    job(zipped(("part1.xml", xml(full[:600])), ("part2.xml", xml(full[600:]))))
    records = numbers(415, 10) + numbers(415, 5, start=400)

    task_log = job(zipped(("changes.xml", xml(records, ["D"] * 10 + ["A"] * 5))), changes=True)

    assert registry() == set(full) - set(numbers(415, 10)) | set(numbers(415, 5, start=400))
    assert counts(task_log) == (5, 10, 0, 0)


def test_numbers_of_9_or_11_digits_are_counted_as_unreadable_with_their_lines(tmp_path):
    content = flat(numbers(201, 300)) + b"201555012\n20155501234\n2015550123x\n"

    out = run(tmp_path, content)

    task_log = TaskLog.objects.get()
    assert counts(task_log) == (300, 0, 0, 3)
    assert "3 unreadable line(s) were skipped: see below." in task_log.message
    assert "Unreadable lines: see Tasks Logs" in out
    assert list(RejectedRow.objects.values_list("line", "value", "reason")) == [
        (301, "201555012", "9 digits, not 10"), (302, "20155501234", "11 digits, not 10"),
        (303, "2015550123x", "not a phone number")]
    assert len(registry()) == 300


def test_an_area_code_that_does_not_exist_is_refused_before_anything_is_stored(tmp_path):
    with pytest.raises(CommandError, match="Area code 555 does not exist"):
        run(tmp_path, flat(numbers(201, 10)), "--area-code", "555")

    assert not TaskLog.objects.exists()


def test_a_date_of_the_data_in_the_future_is_refused_before_anything_is_stored(tmp_path):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(CommandError, match=f"The date of the data, {tomorrow}, is in the future. Nothing was loaded."):
        run(tmp_path, flat(numbers(201, 10)), "--data-date", tomorrow.isoformat())

    assert not TaskLog.objects.exists()


def test_numbers_of_another_area_code_refuse_an_area_codes_file_whole(tmp_path):
    job(flat(numbers(201, 100)))

    with pytest.raises(CommandError, match="a number of area code 212: this is not area code 201's file"):
        run(tmp_path, flat(numbers(201, 50, start=500) + numbers(212, 5)), "--area-code", "201")

    assert registry() == set(numbers(201, 100))
    assert TaskLog.objects.order_by("pk").last().state == TaskLog.State.FAILED


def test_a_states_file_with_another_states_area_code_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"Area code\(s\) 212 are not in NJ: this is not NJ's file"):
        run(tmp_path, flat(numbers(201, 50) + numbers(212, 5)), "--state", "nj")

    assert not registry() and not AreaCode.objects.exists()


def test_a_truncated_zip_fails_the_job_with_a_clear_message_and_changes_nothing():
    job(flat(numbers(201, 100)))
    whole = zipped(("201.txt", flat(numbers(201, 5000, start=100))))

    task_log = job(whole[:len(whole) // 2])

    assert task_log.state == TaskLog.State.FAILED
    assert task_log.message.startswith("The ZIP file is truncated or corrupt")
    assert registry() == set(numbers(201, 100))
    assert AreaCode.objects.get().last_load_id != task_log.pk


def test_a_change_list_for_an_area_code_never_loaded_in_full_is_refused_nothing_applied():
    job(flat(numbers(201, 100)))
    records = [(n, "D") for n in numbers(201, 10)] + [(n, "A") for n in numbers(212, 10)]

    task_log = job(changes(records))

    assert task_log.state == TaskLog.State.FAILED
    assert task_log.message == ("Area code(s) 212 were never loaded in full: load a full list first, then its"
                                " change lists. Nothing was changed.")
    assert registry() == set(numbers(201, 100))
    assert list(AreaCode.objects.values_list("code", flat=True)) == [201]


@pytest.mark.parametrize("content", [b"phone,name\n(201) 555-0123,Ann\nBob,x\n", b"\x00\x01\x02" * 1000,
                                     b"2015550123\nnot\nregistry\ndata\n"])
def test_a_file_that_is_not_a_registry_file_is_refused_with_nothing_changed(tmp_path, content):
    job(flat(numbers(201, 100)))

    with pytest.raises(CommandError, match="not a registry file"):
        run(tmp_path, content)

    assert registry() == set(numbers(201, 100))
    assert not RejectedRow.objects.exists()


def test_a_job_run_twice_loads_once():
    task_log = job(flat(numbers(201, 100)))

    again = loads.load(task_log)

    assert (again.state, again.attempts, counts(again)) == (TaskLog.State.SUCCEEDED, 1, (100, 0, 0, 0))


def test_freshness_is_the_age_of_the_data_against_registry_stale_days(settings):
    settings.REGISTRY_STALE_DAYS = 31
    today = timezone.localdate()
    fresh = AreaCode(code=201, data_date=today - timedelta(days=31))
    old = AreaCode(code=212, data_date=today - timedelta(days=32))

    assert (fresh.age_days(), fresh.is_stale()) == (31, False)
    assert (old.age_days(), old.is_stale()) == (32, True)
    assert AreaCode(code=415).is_stale() and AreaCode(code=415).age_days() is None
    AreaCode.objects.bulk_create([fresh, old, AreaCode(code=415)])
    assert list(AreaCode.objects.stale().values_list("code", flat=True)) == [212, 415]
    settings.REGISTRY_STALE_DAYS = 40
    assert list(AreaCode.objects.stale().values_list("code", flat=True)) == [415]


def test_the_jobs_page_shows_a_loads_counts_and_its_unreadable_lines(admin_client):
    task_log = job(flat(numbers(201, 40)) + b"201555012\n")

    page = admin_client.get(reverse("tasks_logs:detail", args=[task_log.pk])).content.decode()

    assert 'id="count-added">40<' in page and 'id="count-invalid">1<' in page
    assert "Unreadable lines (the first 100)" in page and "9 digits, not 10" in page


def test_a_registry_load_left_queued_is_sent_again_by_the_stale_sweep(monkeypatch):
    from blacklist.tasks import sweep_stale_jobs
    from registry.tasks import load_registry_file

    task_log = loads.save_file("201.txt", flat(numbers(201, 10)))
    TaskLog.objects.filter(pk=task_log.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    sent: list[int] = []
    monkeypatch.setattr(load_registry_file, "delay", sent.append)  # the broker's side only

    sweep_stale_jobs()

    assert sent == [task_log.pk]
    assert loads.load(task_log).state == TaskLog.State.SUCCEEDED


# Full lists read a block of plain lines at a time (formats.BLOCK), its numbers set in their area
# code's bitmap at once; small blocks and chunks here cut these files into many, as a 10M-number
# file is cut.

@pytest.fixture
def small_chunks(monkeypatch):
    from registry import formats

    monkeypatch.setattr(formats, "BLOCK", 40 * formats.PLAIN)
    monkeypatch.setattr(loads, "CHUNK", 100)


def test_an_area_codes_full_list_in_many_chunks_with_crlf_a_repeat_and_no_final_line_end(small_chunks):
    job(flat(numbers(201, 300)))
    lines = [str(n) for n in numbers(201, 500, start=100)]
    lines.insert(250, lines[10])  # a repeated number, deep in the file
    lines.insert(400, "201555012")  # an unreadable line in a block of plain ones

    task_log = job("\r\n".join(lines).encode())

    assert registry() == set(numbers(201, 500, start=100))
    assert counts(task_log) == (300, 100, 200, 1) and task_log.duplicates == 1
    assert list(RejectedRow.objects.values_list("line", "reason")) == [(401, "9 digits, not 10")]
    assert (task_log.processed, AreaCode.objects.get().numbers) == (502, 500)


def test_a_full_list_with_another_area_code_deep_in_it_loads_each_area_code(small_chunks):
    job(flat(numbers(212, 50)))
    content = flat(numbers(201, 700) + numbers(212, 20, start=40) + numbers(201, 10, start=900))

    task_log = job(content)

    assert registry() == set(numbers(201, 700) + numbers(201, 10, start=900) + numbers(212, 20, start=40))
    assert counts(task_log) == (720, 40, 10, 0)
    assert dict(AreaCode.objects.values_list("code", "numbers")) == {201: 710, 212: 20}


@pytest.mark.parametrize(("tail", "message"), [
    (flat(numbers(212, 1)), "Line 601 holds 2122000000, a number of area code 212: this is not area code 201's file"),
    (b"junk\n" * 601, "601 of its 1,201 lines are not registry numbers"),
])
def test_a_full_list_refused_after_many_chunks_were_copied_changes_nothing(small_chunks, tail, message):
    job(flat(numbers(201, 100)))

    task_log = job(flat(numbers(201, 600, start=1000)) + tail, area_code=201)

    assert task_log.state == TaskLog.State.FAILED and message in task_log.message
    assert registry() == set(numbers(201, 100))
    assert AreaCode.objects.get().numbers == 100
