"""The status numbers are added at: one three-way choice (for review / approved / approved
permanently) for Managers, none for Reviewers; and adding permanently, which cannot be undone,
asks first with the exact count, server-side. An upload awaiting that answer is stored but not
queued: no worker or sweep picks it up, "Cancel" deletes it, and one left a day is dropped."""

import html
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from blacklist import tasks
from blacklist.models import BlacklistedNumber, DncList, Status
from tasks_logs import jobs
from tasks_logs.models import TaskLog, Upload

pytestmark = pytest.mark.django_db

QUESTION = "Add the 3 rows of optouts.csv to “Internal” as approved permanently?"


def text(response) -> str:
    return html.unescape(response.content.decode())


def optouts() -> SimpleUploadedFile:
    return SimpleUploadedFile("optouts.csv", b"phone\n4155550100\n4155550101\n(415) 555-0102\n")


def upload_permanently(client):
    return client.post(reverse("blacklist:upload"), {"file": optouts(), "add_as": "permanent"})


def awaiting_upload(client) -> TaskLog:
    """An upload stored to be added permanently, awaiting its uploader's answer."""
    upload_permanently(client)
    return TaskLog.objects.latest("pk")


def test_managers_choose_one_of_three_statuses_reviewers_see_no_choice(manager_client, make_user, client):
    page = text(manager_client.get(reverse("blacklist:add")))
    for form in ("id_upload_add_as", "id_add_as"):  # the upload and hand entry
        assert f'<input type="radio" name="add_as" value="review" class="form-check-input" id="{form}_0" checked>' in page
        assert f'<label class="form-check-label" for="{form}_1">Mark all dnc leads as approved</label>' in page
        assert f'<label class="form-check-label" for="{form}_2">Mark all dnc leads as approved permanently</label>' in page
    assert 'type="checkbox" name="approve' not in page

    client.force_login(make_user("Reviewer", "rita"))
    page = text(client.get(reverse("blacklist:add")))
    assert 'name="add_as"' not in page and "Mark all dnc leads" not in page


@pytest.mark.parametrize("data", [{"add_as": "approved"}, {"add_as": "permanent"}, {"approve": "on"},
                                  {"approve_permanently": "on", "confirmed": "on"}])
def test_a_forged_approved_status_from_a_reviewer_is_refused(reviewer_client, data):
    assert reviewer_client.post(reverse("blacklist:add"), {"numbers": "4155550100", **data}).status_code == 403
    assert reviewer_client.post(reverse("blacklist:upload"), {"file": optouts(), **data}).status_code == 403
    assert not BlacklistedNumber.objects.exists() and not TaskLog.objects.exists()


def test_an_upload_to_add_permanently_waits_for_a_yes_with_its_row_count(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        response = upload_permanently(manager_client)
    task_log = TaskLog.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("blacklist:confirm_upload", args=[task_log.pk])
    assert (task_log.state, task_log.total, task_log.params["status"]) == (TaskLog.State.AWAITING, 3, Status.PERMANENT)
    assert Upload.objects.filter(task_log=task_log).exists() and not sent  # stored, not queued

    page = text(manager_client.get(response["Location"]))
    assert QUESTION in page and "They can never be unapproved or removed." in page
    assert '<button class="btn btn-dark" type="submit" name="answer" value="yes">Yes, add permanently</button>' in page
    assert 'name="answer" value="cancel">Cancel</button>' in page

    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = manager_client.post(response["Location"], {"answer": "yes"}, follow=True)
    task_log.refresh_from_db()
    assert task_log.state == TaskLog.State.QUEUED and len(sent) == 1
    assert "optouts.csv: 3 rows queued for import into “Internal”." in text(response)
    assert f'data-message-tags="task-{task_log.pk}"' in text(response)  # Tasks Logs turns it into the result


def test_cancel_deletes_the_stored_upload_and_adds_nothing(manager_client, django_capture_on_commit_callbacks):
    task_log = awaiting_upload(manager_client)

    with django_capture_on_commit_callbacks() as sent:
        response = manager_client.post(reverse("blacklist:confirm_upload", args=[task_log.pk]), {"answer": "cancel"},
                                follow=True)
    assert "optouts.csv was not added; the uploaded file was deleted." in text(response)
    assert not TaskLog.objects.exists() and not Upload.objects.exists() and not sent


def test_only_its_uploader_may_answer_and_only_once(manager_client, make_user, django_capture_on_commit_callbacks):
    url = reverse("blacklist:confirm_upload", args=[awaiting_upload(manager_client).pk])
    other = Client()
    other.force_login(make_user("Manager", "mona"))
    assert other.get(url).status_code == 404 and other.post(url, {"answer": "yes"}).status_code == 404

    with django_capture_on_commit_callbacks(execute=False) as sent:
        manager_client.post(url, {"answer": "yes"})
        again = manager_client.post(url, {"answer": "yes"}, follow=True)
    assert len(sent) == 1 and "was confirmed already" in text(again)


def test_the_sweep_never_sends_an_upload_awaiting_confirmation_and_drops_it_after_a_day(manager_client):
    task_log, young = awaiting_upload(manager_client), awaiting_upload(manager_client)
    TaskLog.objects.filter(pk=task_log.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1),
                                                  updated_at=timezone.now() - timedelta(days=1))

    assert jobs.sweep_stale_jobs() == []
    tasks.sweep_stale_jobs()

    assert list(TaskLog.objects.values_list("pk", flat=True)) == [young.pk]
    assert list(Upload.objects.values_list("task_log", flat=True)) == [young.pk]


def test_hand_entry_to_add_permanently_asks_first_with_the_count_then_adds(manager_client):
    typed = {"numbers": "415 555 0100\n415 555 0101\n(415) 555-0100", "add_as": "permanent"}

    page = text(manager_client.post(reverse("blacklist:add"), typed))

    assert "Add the 2 numbers you typed to “Internal” as approved permanently?" in page  # a repeat counts once
    assert not BlacklistedNumber.objects.exists()
    assert '<input type="hidden" name="add_as" value="permanent">' in page
    assert '<input type="hidden" name="confirmed" value="on">' in page

    response = manager_client.post(reverse("blacklist:add"), {**typed, "confirmed": "on", "answer": "yes"}, follow=True)
    assert "Added 2 new number(s)" in text(response)
    assert set(BlacklistedNumber.objects.values_list("status", flat=True)) == {Status.PERMANENT}


def test_cancelling_hand_entry_gives_the_form_back_as_typed_and_adds_nothing(manager_client):
    typed = {"numbers": "415 555 0100\n415 555 0101", "add_as": "permanent"}

    response = manager_client.post(reverse("blacklist:add"), {**typed, "confirmed": "on", "answer": "change"})

    page = text(response)
    assert response.status_code == 200 and "as approved permanently?" not in page
    assert ">415 555 0100\n415 555 0101</textarea>" in page
    assert 'name="add_as" value="permanent" class="form-check-input" id="id_add_as_2" checked' in page
    assert not BlacklistedNumber.objects.exists()


def test_adding_approved_is_not_asked(manager_client):
    response = manager_client.post(reverse("blacklist:add"), {"numbers": "4155550100", "add_as": "approved"}, follow=True)
    assert "Added 1 new number(s)" in text(response)
    assert BlacklistedNumber.objects.get().status == Status.APPROVED


def test_an_upload_whose_list_was_deleted_while_it_waited_is_dropped(manager_client):
    solar = DncList.objects.create(name="Campaign: Solar West")
    manager_client.post(reverse("blacklist:upload"), {"file": optouts(), "add_as": "permanent", "dnc_list": solar.pk})
    task_log = TaskLog.objects.get()
    solar.delete()

    response = manager_client.post(reverse("blacklist:confirm_upload", args=[task_log.pk]), {"answer": "yes"}, follow=True)

    assert "The list that optouts.csv was to go into no longer exists. Nothing was added." in text(response)
    assert not TaskLog.objects.exists() and not Upload.objects.exists()
