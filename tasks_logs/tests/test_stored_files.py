"""The files stored for jobs (CSV uploads, registry files) are deleted STORED_FILES_DAYS after
their job finished, one DELETE per table that reads none of them; unfinished jobs keep theirs,
and every job keeps its TaskLog row, its counts and its page."""

import html
import io
import logging
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blacklist import csv_files, services, tasks
from blacklist.models import Status
from blacklist_admin.celery import app
from registry import loads
from registry.models import RegistryFile
from registry.tests.files import flat, numbers
from tasks_logs import jobs
from tasks_logs.models import TaskLog, Upload

pytestmark = pytest.mark.django_db

COUNTED = ("state", "total", "processed", "new", "raised", "unchanged", "duplicates", "invalid", "deleted",
           "message", "finished_at")


def upload(name: str) -> TaskLog:
    """An import stored as the upload view stores it (queued)."""
    return services.save_upload(csv_files.read_csv(name, io.BytesIO(b"4155550100\n4155550101\nnope\n")),
                                Status.REVIEW)


def finished_days_ago(task_log: TaskLog, days: float) -> TaskLog:
    """Age a job as if it had run `days` ago (finished_at, and the rest with it)."""
    when = timezone.now() - timedelta(days=days)
    TaskLog.objects.filter(pk=task_log.pk).update(created_at=when, started_at=when, updated_at=when, finished_at=when)
    return TaskLog.objects.get(pk=task_log.pk)


@pytest.fixture
def finished_jobs(settings):
    """An import and a registry load that succeeded and a registry load that failed, 31 days
    ago; an import and a registry load that succeeded 29 days ago; the limit is 30 days."""
    settings.STORED_FILES_DAYS = 30
    old_import = services.import_numbers(upload("old.csv"))
    old_load = loads.load(loads.save_file("201-old.txt", flat(numbers(201, 50))))
    old_failure = loads.load(loads.save_file("not-registry.txt", b"phone,name\n(201) 555-0123,Ann\n"))
    new_import = services.import_numbers(upload("new.csv"))
    new_load = loads.load(loads.save_file("201-new.txt", flat(numbers(201, 60))))
    assert [job.state for job in (old_import, old_load, old_failure, new_import, new_load)] == [
        "succeeded", "succeeded", "failed", "succeeded", "succeeded"]
    return {"old_import": finished_days_ago(old_import, 31), "old_load": finished_days_ago(old_load, 31),
            "old_failure": finished_days_ago(old_failure, 31), "new_import": finished_days_ago(new_import, 29),
            "new_load": finished_days_ago(new_load, 29)}


def stored() -> set[int]:
    return set(Upload.objects.values_list("pk", flat=True)) | set(RegistryFile.objects.values_list("pk", flat=True))


def test_the_files_of_jobs_finished_over_the_limit_are_deleted_and_their_records_stay(finished_jobs):
    before = {name: TaskLog.objects.values(*COUNTED).get(pk=job.pk) for name, job in finished_jobs.items()}

    deleted = jobs.drop_old_files()

    assert deleted == {"tasks_logs.Upload": 1, "registry.RegistryFile": 2}
    assert stored() == {finished_jobs["new_import"].pk, finished_jobs["new_load"].pk}
    after = {name: TaskLog.objects.values(*COUNTED).get(pk=job.pk) for name, job in finished_jobs.items()}
    assert after == before  # every job's row and counts, as they were
    assert before["old_import"]["new"] == 2 and before["old_load"]["new"] == 50  # real counts, kept
    assert jobs.drop_old_files() == {"tasks_logs.Upload": 0, "registry.RegistryFile": 0}  # twice: nothing more


@pytest.mark.parametrize("state", [TaskLog.State.QUEUED, TaskLog.State.RUNNING, TaskLog.State.AWAITING])
def test_a_job_not_finished_keeps_its_file_however_old(settings, state):
    settings.STORED_FILES_DAYS = 1
    an_import, a_load = upload("waiting.csv"), loads.save_file("201.txt", flat(numbers(201, 10)))
    for job in (an_import, a_load):
        finished_days_ago(job, 400)  # even a finished_at set long ago: the state decides
    TaskLog.objects.update(state=state)

    assert jobs.drop_old_files() == {"tasks_logs.Upload": 0, "registry.RegistryFile": 0}

    assert stored() == {an_import.pk, a_load.pk}


def test_one_delete_per_table_and_no_file_is_read(finished_jobs):
    with CaptureQueriesContext(connection) as queries:
        jobs.drop_old_files()

    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2, statements
    assert all(sql.startswith("DELETE FROM") for sql in statements), statements
    assert not any('"content"' in sql for sql in statements), statements


def test_the_limit_is_the_setting(finished_jobs, settings):
    settings.STORED_FILES_DAYS = 28

    assert jobs.drop_old_files() == {"tasks_logs.Upload": 2, "registry.RegistryFile": 3}
    assert stored() == set()


def test_the_beat_task_deletes_them_and_logs_the_counts(finished_jobs, caplog):
    with caplog.at_level(logging.INFO, logger="blacklist.tasks"):
        result = tasks.drop_old_files.apply()  # the beat's task, in this process

    assert result.successful()
    assert result.result == {"tasks_logs.Upload": 1, "registry.RegistryFile": 2}
    assert "Deleted the stored files of jobs finished over 30 days ago: 1 tasks_logs.Upload, 2 registry.RegistryFile" \
        in caplog.text


def test_the_beat_runs_the_task_hourly():
    (entry,) = [entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
                if entry["task"] == "blacklist.tasks.drop_old_files"]
    assert entry["schedule"] == 3600
    assert "blacklist.tasks.drop_old_files" in app.tasks


def test_the_job_pages_still_show_their_counts_once_the_files_are_gone(admin_client, finished_jobs):
    jobs.drop_old_files()

    old_import = page(admin_client, finished_jobs["old_import"])
    assert "Deleted: files are kept 30 days after their job finishes" in old_import
    assert 'id="count-new">2<' in old_import and 'id="count-invalid">1<' in old_import
    new_import = page(admin_client, finished_jobs["new_import"])
    assert "Deleted: files are kept" not in new_import
    assert "27 bytes, read as utf-8" in new_import
    for load in ("old_load", "old_failure"):
        assert finished_jobs[load].file_name in page(admin_client, finished_jobs[load])
    assert 'id="count-added">50<' in page(admin_client, finished_jobs["old_load"])


def page(client, task_log: TaskLog) -> str:
    response = client.get(reverse("tasks_logs:detail", args=[task_log.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode()).replace("\xa0", " ")  # filesizeformat's no-break space
