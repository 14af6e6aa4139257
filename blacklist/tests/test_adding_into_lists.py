"""Putting numbers onto a list (docs/uploads.md): the upload form and hand entry choose the list
(the one chosen above the tabs first, else Internal), the import adds into the list its TaskLog
names, archived lists take nothing at upload or at import, `import_blacklist --list`, and the same
number on two lists is two entries, each with its own events."""

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from blacklist import csv_files, services
from blacklist.models import BlacklistedNumber, DncList, Status, internal_list_id
from tasks_logs.models import TaskLog, Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(db):
    """Internal, an open campaign list and an archived client list."""
    internal = DncList.objects.get(pk=internal_list_id())
    solar = DncList.objects.create(name="Campaign: Solar West")
    acme = DncList.objects.create(name="Client: Acme", archived_at=timezone.now())
    return internal, solar, acme


def entries(phone: str) -> dict[str, int]:
    """The lists a number is on, and its status on each."""
    return dict(BlacklistedNumber.objects.filter(phone=phone).values_list("dnc_list__name", "status"))


def text(response) -> str:
    return html.unescape(response.content.decode())


def csv_upload(name: str, *rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("phone\n" + "\n".join(rows) + "\n").encode())


def upload(client, file, captured, **data):
    """Post the upload form and run the import it queued, in-process, as the worker would."""
    with captured(execute=False) as callbacks:
        response = client.post(reverse("blacklist:upload"), {"file": file, **data})
    task_log = TaskLog.objects.order_by("-pk").first()
    if callbacks:
        services.import_numbers(task_log)
        task_log.refresh_from_db()
    return response, task_log


def selected(response, form_id: str) -> str:
    """The option a list select of the add page has selected, by its label."""
    field = response.context["form" if form_id == "id_dnc_list" else "upload"]["dnc_list"]
    return DncList.objects.get(pk=field.value()).name


# The choice on the add page.

def test_both_forms_offer_the_open_lists_and_start_on_the_one_chosen_above_the_tabs(manager_client, lists):
    internal, solar, acme = lists

    chosen = manager_client.get(reverse("blacklist:add") + f"?list={solar.pk}")
    for unchosen in ("", "?list=all", f"?list={acme.pk}"):  # none, all, archived
        response = manager_client.get(reverse("blacklist:add") + unchosen)
        assert (selected(response, "id_dnc_list"), selected(response, "id_upload_dnc_list")) == ("Internal", "Internal")
    for junk in ("?list=junk", "?list=999999"):  # as on the tabs: never a guess at another list
        assert manager_client.get(reverse("blacklist:add") + junk).status_code == 400

    assert (selected(chosen, "id_dnc_list"), selected(chosen, "id_upload_dnc_list")) == (solar.name, solar.name)
    page = text(chosen)
    assert page.count(f'<option value="{solar.pk}" selected>{solar.name}</option>') == 3  # two forms, the picker
    assert page.count(f">{internal.name}</option>") == 3  # the two forms and the picker above the tabs
    assert page.count(f">{acme.name} (archived)</option>") == 1  # archived: in the picker only, offered by no form
    assert page.count(f">{acme.name}</option>") == 0


# Hand entry.

def test_hand_entry_adds_into_the_chosen_list_with_its_events(manager_client, lists):
    internal, solar, _ = lists

    response = manager_client.post(reverse("blacklist:add"), {"numbers": "415 555 0100\n415 555 0101", "dnc_list": solar.pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("blacklist:add") + f"?list={solar.pk}"  # the same list, for the next batch
    assert "on the list “Campaign: Solar West”" in text(manager_client.get(response["Location"]))
    assert entries("+14155550100") == {solar.name: Status.REVIEW}
    assert list(Event.objects.filter(action=Event.Action.ADDED).values_list("phone", "dnc_list", "via")) == [
        ("+14155550100", solar.pk, Event.Via.HAND), ("+14155550101", solar.pk, Event.Via.HAND)]


def test_hand_entry_without_a_list_goes_to_internal(manager_client, lists):
    response = manager_client.post(reverse("blacklist:add"), {"numbers": "415 555 0100"})  # a script, an older page

    assert response.status_code == 302
    assert entries("+14155550100") == {"Internal": Status.REVIEW}


@pytest.mark.parametrize("which", ["archived", "unknown"])
def test_hand_entry_into_an_archived_or_unknown_list_is_a_form_error_and_adds_nothing(manager_client, lists, which):
    _, _, acme = lists
    list_id = acme.pk if which == "archived" else 999_999

    response = manager_client.post(reverse("blacklist:add"), {"numbers": "415 555 0100", "dnc_list": list_id})

    assert response.status_code == 200
    expected = ("The list “Client: Acme” is archived: it takes no new numbers." if which == "archived"
                else "Select a valid choice.")
    assert expected in " ".join(response.context["form"].errors["dnc_list"])
    assert expected in text(response)
    assert not BlacklistedNumber.objects.exists()
    assert not Event.objects.exists()


def test_a_list_archived_after_the_form_was_checked_refuses_the_whole_batch(manager_client, lists, monkeypatch):
    _, solar, _ = lists
    add_numbers = services.add_numbers

    def archived_meanwhile(*args, **kwargs):  # another Manager archives it between the check and the write
        DncList.objects.filter(pk=solar.pk).update(archived_at=timezone.now())
        return add_numbers(*args, **kwargs)

    monkeypatch.setattr(services, "add_numbers", archived_meanwhile)

    response = manager_client.post(reverse("blacklist:add"), {"numbers": "415 555 0100", "dnc_list": solar.pk}, follow=True)

    assert "The list “Campaign: Solar West” is archived: it takes no new numbers. Nothing was added." in text(response)
    assert not BlacklistedNumber.objects.exists()


# Uploads.

def test_an_upload_goes_into_the_chosen_list_and_tasks_logs_say_which(manager_client, lists,
                                                                      django_capture_on_commit_callbacks):
    _, solar, _ = lists

    response, task_log = upload(manager_client, csv_upload("solar.csv", "415 555 0100", "415 555 0101"),
                                django_capture_on_commit_callbacks, dnc_list=solar.pk, approve="on")

    assert response.status_code == 302
    assert "solar.csv: 2 rows queued for import into “Campaign: Solar West”." in text(manager_client.get(response["Location"]))
    assert task_log.params["dnc_list"] == solar.pk
    assert (task_log.state, task_log.new) == (TaskLog.State.SUCCEEDED, 2)
    assert entries("+14155550100") == entries("+14155550101") == {solar.name: Status.APPROVED}
    assert set(Event.objects.values_list("dnc_list", "task")) == {(solar.pk, task_log.pk)}
    listed = text(manager_client.get(reverse("tasks_logs:list")))
    assert "into Campaign: Solar West" in listed
    detail = text(manager_client.get(reverse("tasks_logs:detail", args=[task_log.pk])))
    assert '<dd class="col-8" id="task-list">Campaign: Solar West</dd>' in detail


def test_an_upload_into_an_archived_list_is_refused_and_nothing_is_stored(manager_client, lists,
                                                                          django_capture_on_commit_callbacks):
    _, _, acme = lists

    response, task_log = upload(manager_client, csv_upload("acme.csv", "415 555 0100"), django_capture_on_commit_callbacks,
                                dnc_list=acme.pk)

    assert response["Location"] == reverse("blacklist:add")
    assert ("The file was not uploaded. The list “Client: Acme” is archived: it takes no new numbers."
            " Nothing was stored.") in text(manager_client.get(response["Location"]))
    assert task_log is None
    assert not Upload.objects.exists()


def test_a_list_archived_between_upload_and_import_fails_the_job_and_adds_nothing(manager_client, lists,
                                                                                  django_capture_on_commit_callbacks):
    _, solar, _ = lists
    with django_capture_on_commit_callbacks(execute=False):
        manager_client.post(reverse("blacklist:upload"), {"file": csv_upload("late.csv", "415 555 0100", "oops"),
                                                   "dnc_list": solar.pk})
    DncList.objects.filter(pk=solar.pk).update(archived_at=timezone.now())

    with pytest.raises(services.ArchivedList):
        services.import_numbers(TaskLog.objects.get())

    task_log = TaskLog.objects.get()
    assert task_log.state == TaskLog.State.FAILED
    assert task_log.message == ("The import failed and added nothing:"
                                " The list “Campaign: Solar West” is archived: it takes no new numbers.")
    assert not BlacklistedNumber.objects.exists()
    assert not task_log.rejected_rows.exists()  # nothing half-done: not even the rejected rows
    assert "Campaign: Solar West (archived)" in text(manager_client.get(reverse("tasks_logs:detail", args=[task_log.pk])))


def test_an_import_queued_before_there_were_lists_goes_into_internal(manager_client, lists):
    task_log = services.save_upload(csv_files.read_csv("old.csv", io.BytesIO(b"4155550100\n")), Status.REVIEW)
    del task_log.params["dnc_list"]  # as jobs queued by the version before lists were stored
    TaskLog.objects.filter(pk=task_log.pk).update(params=task_log.params)

    services.import_numbers(task_log)

    assert entries("+14155550100") == {"Internal": Status.REVIEW}
    assert "into Internal" in text(manager_client.get(reverse("tasks_logs:list")))
    assert '<dd class="col-8" id="task-list">Internal</dd>' in text(
        manager_client.get(reverse("tasks_logs:detail", args=[task_log.pk])))


def test_the_same_number_uploaded_into_two_lists_is_two_entries_each_with_its_own_events(
    manager_client, lists, django_capture_on_commit_callbacks
):
    internal, solar, _ = lists
    _, first = upload(manager_client, csv_upload("first.csv", "415 555 0100"), django_capture_on_commit_callbacks,
                      dnc_list=internal.pk)
    _, second = upload(manager_client, csv_upload("second.csv", "(415) 555-0100"), django_capture_on_commit_callbacks,
                       dnc_list=solar.pk, approve="on")
    _, again = upload(manager_client, csv_upload("again.csv", "+14155550100"), django_capture_on_commit_callbacks,
                      dnc_list=solar.pk, approve_permanently="on", confirmed="on")

    assert entries("+14155550100") == {"Internal": Status.REVIEW, solar.name: Status.PERMANENT}
    assert (first.new, second.new, again.new, again.raised) == (1, 1, 0, 1)
    assert sorted(Event.objects.values_list("dnc_list", "action", "to_status", "task")) == sorted([
        (internal.pk, Event.Action.ADDED, Status.REVIEW, first.pk),
        (solar.pk, Event.Action.ADDED, Status.APPROVED, second.pk),
        (solar.pk, Event.Action.RAISED, Status.PERMANENT, again.pk),
    ])
    # Each entry keeps its own rules: removing the Internal one leaves the permanent one on its list.
    outcome = services.remove(BlacklistedNumber.objects.filter(phone="+14155550100"), justification="")
    assert outcome.changed == 0  # both kept: permanent, and kept for retention (the default reason)
    assert entries("+14155550100") == {"Internal": Status.REVIEW, solar.name: Status.PERMANENT}


# From the command line.

def test_import_blacklist_adds_into_the_list_it_names_in_any_case(tmp_path, lists):
    _, solar, _ = lists
    path = tmp_path / "solar.csv"
    path.write_bytes(b"4155550100\n4155550101\n")
    out = io.StringIO()

    call_command("import_blacklist", str(path), "--list", "campaign: SOLAR west", stdout=out)

    task_log = TaskLog.objects.get()
    assert out.getvalue().splitlines()[0] == (
        f"solar.csv: 2 rows, adding them for review to the list “Campaign: Solar West” (task {task_log.pk})")
    assert task_log.params["dnc_list"] == solar.pk
    assert entries("+14155550101") == {solar.name: Status.REVIEW}


@pytest.mark.parametrize(("name", "message"), [
    ("Campaign: Nowhere", "There is no list 'Campaign: Nowhere'. The lists that take numbers: Internal,"
                          " Campaign: Solar West. Nothing was stored."),
    ("client: acme", "The list “Client: Acme” is archived: it takes no new numbers. Nothing was stored."),
])
def test_import_blacklist_refuses_an_unknown_or_archived_list_and_stores_nothing(tmp_path, lists, name, message):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"4155550100\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_blacklist", str(path), "--list", name, stdout=io.StringIO())

    assert str(refused.value) == message
    assert not TaskLog.objects.exists()
    assert not BlacklistedNumber.objects.exists()
