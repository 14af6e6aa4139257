"""Uploads into a named list, imported by a real `celery worker` process: the list travels with
the job, and the worker judges prefix rows by the uploader's permission."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Event
from blacklist.models import BlacklistedNumber, DncList, Status
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

pytestmark = pytest.mark.worker


def upload(client, name, rows, **data) -> TaskLog:
    file = SimpleUploadedFile(name, ("phone\n" + "\n".join(rows) + "\n").encode())
    response = client.post(reverse("blacklist:upload"), {"file": file, **data})
    assert response.status_code == 302
    task_log = wait_until_finished(TaskLog.objects.get(file_name=name))
    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    return task_log


def test_a_worker_imports_an_upload_into_the_chosen_list_with_its_prefix_rows(client, make_user,
                                                                              celery_worker_process):
    solar = DncList.objects.create(name="Campaign: Solar West")
    client.force_login(make_user("Manager"))
    rows = [f"(646) 555-{i:04d}" for i in range(3_000)] + ["+1201*", "212XXXXXXX", "+120*"]

    task_log = upload(client, "solar.csv", rows, dnc_list=solar.pk, approve="on")

    assert (task_log.total, task_log.new, task_log.invalid) == (3_003, 3_002, 1)
    assert list(task_log.rejected_rows.values_list("value", "reason")) == [
        ("+120*", "too broad: at least 3 digits after the country code (+1)")]
    on_solar = BlacklistedNumber.objects.filter(dnc_list=solar, source_task=task_log, status=Status.APPROVED)
    assert on_solar.count() == 3_002
    assert set(on_solar.prefixes().values_list("phone", flat=True)) == {"+1201*", "+1212*"}
    assert not BlacklistedNumber.objects.exclude(dnc_list=solar).exists()
    assert Event.objects.filter(dnc_list=solar.pk, task=task_log, action=Event.Action.ADDED).count() == 3_002
    assert "into Campaign: Solar West" in html.unescape(client.get(reverse("tasks_logs:list")).content.decode())
    assert celery_worker_process.poll() is None


def test_a_worker_rejects_the_prefix_rows_of_a_reviewers_upload(client, make_user, celery_worker_process):
    client.force_login(make_user("Reviewer"))

    task_log = upload(client, "reviewer.csv", ["4155550100", "+1201*", "201XXXXXXX"])

    assert (task_log.new, task_log.invalid) == (1, 2)
    assert list(task_log.rejected_rows.values_list("line", "value", "reason")) == [
        (3, "+1201*", "a prefix block: only Managers may add one"),
        (4, "201XXXXXXX", "a prefix block: only Managers may add one")]
    assert list(BlacklistedNumber.objects.values_list("phone", "dnc_list__name")) == [("+14155550100", "Internal")]
