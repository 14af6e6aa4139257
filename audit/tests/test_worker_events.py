"""Events written by a real Celery worker process: an upload's import and a large "all
matching" bulk action started by a Reviewer, each event naming the user and the task."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

pytestmark = pytest.mark.worker


def test_the_worker_records_an_uploads_and_a_bulk_actions_events(client, make_user, celery_worker_process):
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.REVIEW) for i in range(10_050)
    )
    client.force_login(make_user("Reviewer", "rita"))
    leads = SimpleUploadedFile("leads.csv", b"phone\n4155550100\n4155550101\n", content_type="text/csv")
    client.post(reverse("blacklist:upload"), {"file": leads})
    upload = wait_until_finished(TaskLog.objects.get(kind=TaskLog.Kind.IMPORT))

    client.post(reverse("blacklist:bulk_action", args=["review"]),
                {"action": "approve", "scope": "all", "query": "phone=212", "confirmed": "on"})
    bulk = wait_until_finished(TaskLog.objects.get(kind=TaskLog.Kind.BULK_APPROVE))

    assert (upload.state, bulk.state, bulk.changed) == (TaskLog.State.SUCCEEDED, TaskLog.State.SUCCEEDED, 10_050)
    assert sorted(Event.objects.filter(task=upload).values_list("phone", "action", "via", "actor")) == [
        ("+14155550100", "added", "upload", "rita"), ("+14155550101", "added", "upload", "rita")]
    approved = Event.objects.filter(task=bulk, action=Event.Action.APPROVED, via=Event.Via.BULK_TASK, actor="rita",
                                    from_status=Status.REVIEW, to_status=Status.APPROVED)
    assert approved.count() == 10_050 == Event.objects.filter(task=bulk).count()
