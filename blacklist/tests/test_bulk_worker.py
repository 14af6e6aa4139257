"""A large "all matching" bulk action runs in a real Celery worker process."""

import json

import pytest
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog
from tests.helpers import wait_until, wait_until_finished

pytestmark = pytest.mark.worker


def test_large_bulk_remove_runs_in_the_worker_and_keeps_permanent_numbers(admin_client, celery_worker_process):
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.APPROVED) for i in range(10_050)
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
