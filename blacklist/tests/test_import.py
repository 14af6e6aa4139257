"""The import task's work, run in-process: messy but good files give exact counts, the merge
never lowers a status, the accounting always closes, a second run changes nothing, a crash
leaves a failed TaskLog and no numbers, and the stale sweep finds what a dead worker left."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blacklist import csv_files, phone_cache, services
from blacklist.models import BlacklistedNumber, Status
from blacklist.phones import InvalidPhone, is_written_prefix, normalize_phone, normalize_prefix
from tasks_logs import jobs
from tasks_logs.models import RejectedRow, TaskLog, Upload

pytestmark = pytest.mark.django_db

SCIENTIFIC = "in scientific notation (a spreadsheet rounded it); export the column as text"


def statuses() -> dict[str, int]:
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def queue(content: bytes, status=Status.REVIEW, name="numbers.csv", user=None) -> TaskLog:
    """Store a file as the upload view does, after the same file rules."""
    return services.save_upload(csv_files.read_csv(name, io.BytesIO(content)), status, user)


def counts(task_log: TaskLog) -> dict[str, int]:
    return {name: getattr(task_log, name) for name in ("total", "new", "raised", "unchanged", "duplicates", "invalid")}


def rejected(task_log: TaskLog) -> list[tuple]:
    return list(task_log.rejected_rows.values_list("line", "value", "reason"))


def existing(*numbers: tuple[Status, str]):
    BlacklistedNumber.objects.bulk_create(BlacklistedNumber(phone=phone, status=status) for status, phone in numbers)


# Good but messy files, as spreadsheets and people make them.

EXCEL_UTF8 = (
    "\ufeffPhone Number,\r\n"        # line 1: byte order mark, header, trailing comma
    '"(415) 555-0100",\r\n'          # 2: new
    "415.555.0101,\r\n"              # 3: new
    "\r\n"                           # 4: blank
    "+1 415 555 0100,\r\n"           # 5: the number of line 2 written another way
    '"4.15555E+09",\r\n'             # 6: Excel's scientific notation
    "12345,\r\n"                     # 7: too short
    "555-CALL-NOW,\r\n"              # 8: letters
    "+44 20 7946 0958,\r\n"          # 9: new, British
    "1-212-555-0100,\r\n"            # 10: listed for review → raised
    "(212) 555-0101,\r\n"            # 11: listed permanently → unchanged
    "tel:+1-646-555-0102,\r\n"       # 12: listed approved → unchanged
).encode()


def test_a_messy_excel_file_is_imported_with_exact_counts(admin_user):
    existing((Status.REVIEW, "+12125550100"), (Status.PERMANENT, "+12125550101"), (Status.APPROVED, "+16465550102"))
    task_log = queue(EXCEL_UTF8, Status.APPROVED, user=admin_user)

    task_log = services.import_numbers(task_log)

    assert task_log.state == TaskLog.State.SUCCEEDED
    assert counts(task_log) == {"total": 10, "new": 3, "raised": 1, "unchanged": 2, "duplicates": 1, "invalid": 3}
    assert task_log.processed == 10 and task_log.percent == 100
    assert rejected(task_log) == [
        (6, "4.15555E+09", SCIENTIFIC),
        (7, "12345", "too short"),
        (8, "555-CALL-NOW", "contains letters"),
    ]
    assert statuses() == {
        "+14155550100": Status.APPROVED, "+14155550101": Status.APPROVED, "+442079460958": Status.APPROVED,
        "+12125550100": Status.APPROVED, "+12125550101": Status.PERMANENT, "+16465550102": Status.APPROVED,
    }
    added = BlacklistedNumber.objects.get(phone="+442079460958")
    assert (added.added_by, added.source_task) == (admin_user, task_log)
    assert task_log.message == "New numbers were added as approved. 3 row(s) were rejected: see below."
    assert task_log.started_at <= task_log.finished_at and task_log.attempts == 1


@pytest.mark.parametrize("content, encoding", [
    # Excel's "Unicode text": UTF-16 with a byte order mark, tab separated, a trailing tab.
    ("Phone\t\r\n4155550100\t\r\n\t\r\n(415) 555-0101\t\r\n".encode("utf-16"), "utf-16"),
    # UTF-16 without a byte order mark.
    ("4155550100\n4155550101\n".encode("utf-16-le"), "utf-16"),
    # Windows-1252 with an accented header and a non-breaking space inside a number.
    ("Téléphone\r\n415 555 0100\r\n415\xa0555\xa00101\r\n".encode("cp1252"), "cp1252"),
    # European Excel: semicolons, a trailing one, no header.
    (b"+1 415 555 0100;\n\n\"415-555-0101\";\n", "utf-8"),
    # Old Mac line ends, quoted, spaces around.
    (b'  "4155550100"  \r"4155550101"\r', "utf-8"),
])
def test_common_encodings_separators_and_line_ends_read_the_same(content, encoding):
    task_log = services.import_numbers(queue(content))

    assert Upload.objects.get(task_log=task_log).encoding == encoding
    assert counts(task_log) == {"total": 2, "new": 2, "raised": 0, "unchanged": 0, "duplicates": 0, "invalid": 0}
    assert statuses() == {"+14155550100": Status.REVIEW, "+14155550101": Status.REVIEW}


def test_rejected_rows_keep_their_line_raw_value_and_reason():
    long_value = "4" * 150
    content = f"phone\n4155550100\n\n{long_value}\n=cmd|' /C calc'!A0\n+999 123\n".encode()

    task_log = services.import_numbers(queue(content))

    assert rejected(task_log) == [
        (4, "4" * 100, "too long to be a phone number"),
        (5, "=cmd|' /C calc'!A0", "contains letters"),
        (6, "+999 123", "unknown country code"),
    ]
    assert counts(task_log)["invalid"] == 3


# The merge rules: new numbers at the asked status, existing ones raised, never lowered.

@pytest.mark.parametrize("asked, before, after, outcome", [
    (Status.REVIEW, Status.REVIEW, Status.REVIEW, "unchanged"),
    (Status.REVIEW, Status.APPROVED, Status.APPROVED, "unchanged"),
    (Status.REVIEW, Status.PERMANENT, Status.PERMANENT, "unchanged"),
    (Status.APPROVED, Status.REVIEW, Status.APPROVED, "raised"),
    (Status.APPROVED, Status.APPROVED, Status.APPROVED, "unchanged"),
    (Status.APPROVED, Status.PERMANENT, Status.PERMANENT, "unchanged"),
    (Status.PERMANENT, Status.REVIEW, Status.PERMANENT, "raised"),
    (Status.PERMANENT, Status.APPROVED, Status.PERMANENT, "raised"),
    (Status.PERMANENT, Status.PERMANENT, Status.PERMANENT, "unchanged"),
    (Status.APPROVED, None, Status.APPROVED, "new"),
])
def test_merge_raises_a_listed_number_never_lowers_it(asked, before, after, outcome):
    if before:
        existing((before, "+14155550100"))

    task_log = services.import_numbers(queue(b"415-555-0100\n", asked))

    assert statuses() == {"+14155550100": after}
    assert getattr(task_log, outcome) == 1 and task_log.new + task_log.raised + task_log.unchanged == 1


# Safe to run twice.

def test_running_the_same_import_twice_changes_nothing_the_second_time():
    existing((Status.REVIEW, "+12125550100"))
    task_log = services.import_numbers(queue(EXCEL_UTF8, Status.APPROVED))
    first = (counts(task_log), statuses(), rejected(task_log), task_log.finished_at)

    again = services.import_numbers(task_log)  # a redelivered message

    assert (counts(again), statuses(), rejected(again), again.finished_at) == first
    assert again.attempts == 1  # the second run did not even start


def test_a_run_that_died_midway_is_finished_by_the_next_with_the_same_counts():
    existing((Status.REVIEW, "+12125550100"))
    task_log = queue(EXCEL_UTF8, Status.APPROVED)
    # What a worker killed after its first progress step leaves behind.
    TaskLog.objects.filter(pk=task_log.pk).update(state=TaskLog.State.RUNNING, processed=5, attempts=1)

    task_log = services.import_numbers(task_log)

    assert (task_log.state, task_log.attempts) == (TaskLog.State.SUCCEEDED, 2)
    assert counts(task_log) == {"total": 10, "new": 5, "raised": 1, "unchanged": 0, "duplicates": 1, "invalid": 3}


def test_a_crash_marks_the_import_failed_and_adds_nothing(monkeypatch):
    task_log = queue(b"4155550100\n12345\n")

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "add_numbers", broken)
    with pytest.raises(RuntimeError):
        services.import_numbers(task_log)

    task_log.refresh_from_db()
    assert task_log.state == TaskLog.State.FAILED and task_log.finished_at
    assert task_log.message == "The import failed and added nothing: the database went away"
    assert not BlacklistedNumber.objects.exists() and not RejectedRow.objects.exists()
    assert services.import_numbers(task_log).state == TaskLog.State.FAILED  # finished: never run again


def test_progress_is_reported_every_5000_rows():
    task_log = queue("".join(f"+1212555{i:04d}\n" for i in range(12_000)).encode())
    seen = []
    services.import_numbers(task_log, on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(5_000, 12_000), (10_000, 12_000), (12_000, 12_000)]


# The accounting always closes, whatever the file holds.

POOL = ["+14155550100", "+14155550101", "+12125550100", "+16465550102", "+442079460958"]
WRITINGS = [
    lambda e164: e164,
    lambda e164: e164[2:] if e164.startswith("+1") else e164,
    lambda e164: f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}" if e164.startswith("+1") else e164,
    lambda e164: "tel:" + e164,
    lambda e164: f'"{e164}"',
]
JUNK = ["12345", "555-CALL-NOW", "4.15555E+09", "+999 1", "n/a", "00000000000", "x" * 70, "+1 800 FLOWERS"]
row = st.one_of(
    st.tuples(st.sampled_from(POOL), st.sampled_from(WRITINGS)).map(lambda pair: pair[1](pair[0])),
    st.sampled_from(JUNK),
    st.text(alphabet="0123456789 ()-.+abcXYZ", min_size=1, max_size=20).filter(lambda text: text.strip()),
    st.just(""),  # a blank line
)


def _reference(values: list[str], before: dict[str, int], asked: Status) -> tuple[dict[str, int], set[str]]:
    """The counts and the valid numbers, worked out row by row with normalize_phone: the slow obvious way."""
    expected = {"total": 0, "new": 0, "raised": 0, "unchanged": 0, "duplicates": 0, "invalid": 0}
    seen = set()
    for value in values:
        if not value.strip():
            continue
        expected["total"] += 1
        value = value.strip().strip('"')
        try:  # the file's uploader here is the command's (no user), who may add prefix blocks
            phone = normalize_prefix(value) if is_written_prefix(value) else normalize_phone(value)
        except InvalidPhone:
            expected["invalid"] += 1
            continue
        if phone in seen:
            expected["duplicates"] += 1
            continue
        seen.add(phone)
        outcome = "new" if phone not in before else "raised" if before[phone] < asked else "unchanged"
        expected[outcome] += 1
    return expected, seen


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(row, min_size=1, max_size=40).filter(lambda values: any(value.strip() for value in values)),
    listed=st.dictionaries(st.sampled_from(POOL), st.sampled_from(list(Status)), max_size=len(POOL)),
    asked=st.sampled_from(list(Status)),
)
@example(values=["201XXXXXXX", "1212 555*"], listed={}, asked=Status.REVIEW)  # random text that reads as prefixes
def test_the_accounting_always_closes_and_matches_row_by_row_reading(values, listed, asked):
    with transaction.atomic():
        BlacklistedNumber.objects.bulk_create(BlacklistedNumber(phone=p, status=s) for p, s in listed.items())
        content = ("phone number\n" + "\n".join(values) + "\n").encode()

        task_log = services.import_numbers(queue(content, asked))

        got = counts(task_log)
        assert got["new"] + got["raised"] + got["unchanged"] + got["duplicates"] + got["invalid"] == got["total"]
        expected, in_file = _reference(values, listed, asked)
        assert got == expected
        assert task_log.rejected_rows.count() == got["invalid"]
        assert statuses() == {
            **{phone: asked for phone in in_file},
            **{phone: max(status, asked) if phone in in_file else status for phone, status in listed.items()},
        }
        transaction.set_rollback(True)


# The cache in front of normalize_phone gives exactly what normalize_phone gives.

@settings(max_examples=500, deadline=None)
@given(
    plus=st.booleans(),
    digits=st.text(alphabet="0123456789", min_size=1, max_size=16),
    spacing=st.lists(st.sampled_from(["", " ", "-", ".", "(", ")", " (", ") ", "--"]), min_size=17, max_size=17),
)
def test_cached_normalization_agrees_with_normalize_phone(plus, digits, spacing):
    value = ("+" if plus else "") + "".join(s + d for s, d in zip(spacing, digits, strict=False)) + spacing[-1]
    value = value.strip()
    if not value:
        return
    try:
        expected = (normalize_phone(value), "")
    except InvalidPhone as error:
        expected = ("", error.reason)
    assert phone_cache.normalized(value) == expected


def test_cached_normalization_agrees_on_the_hand_picked_cases():
    for value in ["1-2", "12", "(415) 555-0100", "+1 (415) 555-0100", "+44 20 7946 0958", "0044 20 7946 0958",
                  "011 44 20 7946 0958", "1 415 555 0100", "4155550100", "415555010", "+1415555010099999"]:
        try:
            expected = (normalize_phone(value), "")
        except InvalidPhone as error:
            expected = ("", error.reason)
        assert phone_cache.normalized(value) == expected, value


# The stale sweep: nothing stays "running" forever.

def make_task(state, minutes_ago, attempts=1) -> TaskLog:
    task_log = queue(b"4155550100\n")
    TaskLog.objects.filter(pk=task_log.pk).update(
        state=state, attempts=attempts, updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return task_log


def test_sweep_sends_again_the_imports_whose_worker_died_and_gives_up_after_three_tries():
    dead = make_task(TaskLog.State.RUNNING, minutes_ago=10, attempts=1)
    lost = make_task(TaskLog.State.QUEUED, minutes_ago=10, attempts=0)
    hopeless = make_task(TaskLog.State.RUNNING, minutes_ago=10, attempts=3)
    alive = make_task(TaskLog.State.RUNNING, minutes_ago=0.5)
    done = make_task(TaskLog.State.SUCCEEDED, minutes_ago=60)

    again = [pk for _, pk in jobs.sweep_stale_jobs()]

    assert sorted(again) == sorted([dead.pk, lost.pk])
    hopeless.refresh_from_db()
    assert hopeless.state == TaskLog.State.FAILED
    assert hopeless.message.startswith("The worker stopped 3 times while importing this file")
    for untouched, state in ((alive, TaskLog.State.RUNNING), (done, TaskLog.State.SUCCEEDED)):
        untouched.refresh_from_db()
        assert untouched.state == state
    assert jobs.sweep_stale_jobs() == []  # re-sent ones wait TASK_STALE_SECONDS before the next try


# The same code path from the command line.

def test_import_blacklist_command_imports_and_prints_the_counts(tmp_path, admin_user):
    path = tmp_path / "leads.csv"
    path.write_bytes(EXCEL_UTF8)
    out = io.StringIO()

    call_command("import_blacklist", str(path), "--permanent", "--user", "admin", stdout=out)

    task_log = TaskLog.objects.get()
    assert (task_log.kind, task_log.state, task_log.file_name, task_log.created_by) == (
        TaskLog.Kind.IMPORT, TaskLog.State.SUCCEEDED, "leads.csv", admin_user)
    assert out.getvalue().splitlines() == [
        f"leads.csv: 10 rows, adding them as approved permanently to the list “Internal” (task {task_log.pk})",
        "10 rows: 6 new, 0 raised, 0 already listed unchanged, 1 duplicates within the file, 3 invalid.",
        f"Rejected rows: see Tasks Logs, task {task_log.pk}.",
    ]
    assert set(statuses().values()) == {Status.PERMANENT}


def test_import_blacklist_command_refuses_a_bad_file_and_stores_nothing(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"4155550100,John\n")

    with pytest.raises(CommandError, match="Line 1 has 2 values .* Nothing was stored."):
        call_command("import_blacklist", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_blacklist", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("import_blacklist", str(path), "--user", "nobody")
    assert not TaskLog.objects.exists() and not BlacklistedNumber.objects.exists()
