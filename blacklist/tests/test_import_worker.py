"""The import through a real `celery worker` process: on the embedded filesystem broker when
REDIS_URL is unset, on Redis when it is set (CI runs both). The worker reads the upload from
the database, never from the web server's disk."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from blacklist import csv_files, services
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

pytestmark = pytest.mark.worker


def test_an_upload_is_imported_by_a_worker_process(admin_client, admin_user, celery_worker_process):
    BlacklistedNumber.objects.create(phone="+12125550100", status=Status.REVIEW)
    rows = [f"(646) 555-{i:04d}" for i in range(6_000)] + ["212.555.0100", "(646) 555-0001", "12345"]
    upload = SimpleUploadedFile("leads.csv", ("phone\n" + "\n".join(rows) + "\n").encode())

    response = admin_client.post(reverse("blacklist:upload"), {"file": upload, "approve": "on"})

    assert response["Location"] == reverse("tasks_logs:list")
    task_log = wait_until_finished(TaskLog.objects.get())
    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    assert (task_log.total, task_log.processed, task_log.new, task_log.raised, task_log.unchanged,
            task_log.duplicates, task_log.invalid) == (6_003, 6_003, 6_000, 1, 0, 1, 1)
    assert list(task_log.rejected_rows.values_list("line", "value", "reason")) == [(6_004, "12345", "too short")]
    assert BlacklistedNumber.objects.filter(source_task=task_log, status=Status.APPROVED, added_by=admin_user).count() == 6_000
    assert BlacklistedNumber.objects.get(phone="+12125550100").status == Status.APPROVED
    assert celery_worker_process.poll() is None


@pytest.fixture
def import_left_running(transactional_db) -> TaskLog:
    """What a worker killed mid-import leaves behind: the row says running and stopped moving."""
    task_log = services.save_upload(csv_files.read_csv("left.csv", io.BytesIO(b"4155550100\n4155550101\n")), Status.REVIEW)
    TaskLog.objects.filter(pk=task_log.pk).update(
        state=TaskLog.State.RUNNING, attempts=1, processed=1, updated_at=timezone.now() - timedelta(minutes=10)
    )
    return task_log


def test_a_starting_worker_finishes_the_import_a_dead_worker_left_running(import_left_running, celery_worker_process):
    task_log = wait_until_finished(import_left_running)

    assert (task_log.state, task_log.attempts, task_log.total, task_log.new) == (TaskLog.State.SUCCEEDED, 2, 2, 2)
    assert BlacklistedNumber.objects.filter(source_task=task_log).count() == 2
