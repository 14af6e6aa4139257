"""A large "all matching" bulk action runs in a real Celery worker process."""

import json

import pytest
from django.urls import reverse

from audit.models import Event
from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id
from tasks_logs.models import TaskLog
from tests.helpers import wait_until, wait_until_finished

pytestmark = pytest.mark.worker


def test_large_bulk_remove_runs_in_the_worker_and_keeps_permanent_numbers(admin_client, celery_worker_process):
    default_reason_id()  # the built-in reasons, after an earlier test's flush
    other = Reason.objects.get(slug="other")  # not kept for retention (test_retention.py)
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.APPROVED, reason=other) for i in range(10_050)
    )
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1415555{i:04d}", status=Status.PERMANENT) for i in range(3)
    )

    response = admin_client.post(reverse("blacklist:bulk_action", args=["approved"]),
                                 {"action": "remove", "scope": "all", "query": "", "confirmed": "on"})

    assert response["Location"] == reverse("tasks_logs:list")
    task_log = wait_until_finished(TaskLog.objects.get())
    assert (task_log.state, task_log.changed, task_log.skipped) == (TaskLog.State.SUCCEEDED, 10_050, 3)
    assert task_log.message == "3 permanently approved numbers were skipped."
    assert sorted(BlacklistedNumber.objects.values_list("status", flat=True)) == [Status.PERMANENT] * 3
    expected = {("started", task_log.pk), ("finished", task_log.pk)}

    def logged() -> set:
        events = [json.loads(line) for line in celery_worker_process.log_path.read_text().splitlines()
                  if line.startswith("{") and '"task_log_id"' in line]
        return {(e["event"], e["task_log_id"]) for e in events}

    # the worker logs "finished" just after the row is committed
    assert wait_until(lambda: logged() >= expected, 10, f"the worker to log {expected}")


def test_large_bulk_remove_in_the_worker_keeps_retained_numbers_unless_justified(admin_client, celery_worker_process):
    """Numbers kept for retention (the default reason, received now) stay and are counted; the
    same job sent again with a Manager's justification removes them, recording it on each event."""
    consumer, other = Reason.objects.get(pk=default_reason_id()), Reason.objects.get(slug="other")
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.APPROVED, reason=consumer if i % 2 else other)
        for i in range(20_100)  # 10,050 kept by the first job: still enough for the background
    )
    data = {"action": "remove", "scope": "all", "query": "", "confirmed": "on"}

    admin_client.post(reverse("blacklist:bulk_action", args=["approved"]), data)
    first = wait_until_finished(TaskLog.objects.get())
    admin_client.post(reverse("blacklist:bulk_action", args=["approved"]), {**data, "justification": "Test data"})
    second = wait_until_finished(TaskLog.objects.exclude(pk=first.pk).get())

    assert (first.state, first.changed, first.skipped) == (TaskLog.State.SUCCEEDED, 10_050, 10_050)
    assert first.message == "10,050 numbers were kept for retention."
    assert (second.state, second.changed, second.skipped) == (TaskLog.State.SUCCEEDED, 10_050, 0)
    assert not BlacklistedNumber.objects.exists()
    assert Event.objects.filter(task=second, note="Test data", action="removed").count() == 10_050
    assert Event.objects.filter(task=first, note="").count() == 10_050
