"""Scale-out: two worker processes, as on two machines (own working directory, own VAR_DIR,
nothing shared but PostgreSQL and Redis), share uploads and a large bulk action."""

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Status
from blacklist_admin.celery import app
from tasks_logs.models import TaskLog
from tests.helpers import (
    celery_worker_command,
    start_process,
    stop_processes,
    test_database_url,
    wait_for_line,
    wait_until,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="scale-out needs a shared broker: CI's PostgreSQL + Redis run"),
]


@pytest.fixture
def two_workers(transactional_db, tmp_path):
    if connection_vendor() != "postgresql":
        pytest.skip("workers on other machines share PostgreSQL, not a SQLite file")
    app.control.purge()
    workers = []
    for name in ("machine-a", "machine-b"):
        home = tmp_path / name
        home.mkdir()
        env = {"DATABASE_URL": test_database_url(), "VAR_DIR": str(home / "var"), "PYTHONPATH": str(settings.BASE_DIR)}
        workers.append(start_process(celery_worker_command(f"{name}@%h"), home / "worker.log", env,
                                     cwd=home))  # not the project folder

    try:
        for worker in workers:
            wait_for_line(worker, "ready.")
        yield workers
    finally:
        stop_processes(*workers)


def connection_vendor():
    from django.db import connection

    return connection.vendor


def started_task_logs(worker) -> set[int]:
    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    return {line["task_log_id"] for line in lines if line.get("event") == "started" and line.get("task_log_id")}


def test_two_workers_share_uploads_and_a_bulk_action(admin_client, two_workers):
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.REVIEW) for i in range(12_000)
    )
    for n in range(5):  # overlapping files: 3,000 numbers each, 1,000 shared with the next file
        rows = "\n".join(f"+1415{2_000_000 + n * 2_000 + i:07d}" for i in range(3_000))
        upload = SimpleUploadedFile(f"optouts-{n}.csv", f"phone\n{rows}\n12345\n".encode(), "text/csv")
        admin_client.post(reverse("blacklist:upload"), {"file": upload, "approve": "on" if n % 2 else ""})
    admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                      {"action": "approve", "scope": "all", "query": "phone=212", "confirmed": "on"})

    wait_until(lambda: not TaskLog.objects.exclude(state__in=["succeeded", "failed"]).exists(), 120,
               "every job to finish")

    task_logs = list(TaskLog.objects.order_by("pk"))
    assert len(task_logs) == 6
    assert all(t.state == TaskLog.State.SUCCEEDED for t in task_logs), [(t.pk, t.state, t.message) for t in task_logs]
    for imported in task_logs[:5]:
        assert imported.total == 3_001 and imported.invalid == 1
        assert imported.new + imported.raised + imported.unchanged + imported.duplicates + imported.invalid == 3_001
    assert sum(t.new for t in task_logs[:5]) == 11_000  # every distinct number added exactly once
    assert BlacklistedNumber.objects.filter(phone__startswith="+1415").count() == 11_000
    assert task_logs[5].changed == 12_000
    taken = [started_task_logs(worker) for worker in two_workers]
    assert all(taken), f"one worker took no work: {taken}"
    assert set.union(*taken) == {t.pk for t in task_logs}
