"""A job's life on its TaskLog row (tasks_logs/jobs.py): claimed by a run, finished or failed
once, and failed with the reason once a transient database error outlives Celery's retries.
The redelivered and swept jobs through real workers are in blacklist/tests/test_faults.py."""


import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Status
from tasks_logs import jobs
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

pytestmark = pytest.mark.django_db


def a_job(state=TaskLog.State.QUEUED, **fields) -> TaskLog:
    return TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, state=state, **fields)


def row(task_log: TaskLog) -> tuple:
    task_log.refresh_from_db()
    return task_log.state, task_log.attempts, task_log.started_at, task_log.finished_at, task_log.message


def test_a_claim_starts_a_run_and_a_second_claim_takes_over_a_job_still_running():
    task_log = a_job()

    assert jobs.claim(task_log.pk, processed=0)
    state, attempts, started_at, _, _ = row(task_log)
    assert (state, attempts, started_at is not None) == (TaskLog.State.RUNNING, 1, True)
    assert jobs.claim(task_log.pk)  # a dead worker's job, delivered again
    assert row(task_log)[:2] == (TaskLog.State.RUNNING, 2)


@pytest.mark.parametrize("state", [TaskLog.State.SUCCEEDED, TaskLog.State.FAILED])
def test_claiming_a_finished_job_does_nothing(state):
    task_log = a_job()
    jobs.claim(task_log.pk)
    if state == TaskLog.State.SUCCEEDED:
        with transaction.atomic():
            jobs.finish(jobs.locked(task_log.pk), "Done.")
    else:
        jobs.fail(task_log.pk, "Broken.")
    before = row(task_log)

    assert not jobs.claim(task_log.pk)
    assert row(task_log) == before


def test_the_second_of_two_runs_finds_the_job_finished_and_does_not_finish_it_again():
    task_log = a_job()
    jobs.claim(task_log.pk)
    jobs.claim(task_log.pk)  # two deliveries running at once
    with transaction.atomic():
        jobs.finish(jobs.locked(task_log.pk), "The first run's result.")

    with transaction.atomic():
        assert jobs.locked(task_log.pk) is None
    assert row(task_log)[0::4] == (TaskLog.State.SUCCEEDED, "The first run's result.")


def test_failing_a_finished_job_changes_nothing():
    task_log = a_job()
    jobs.claim(task_log.pk)
    with transaction.atomic():
        jobs.finish(jobs.locked(task_log.pk), "New numbers were added for review.")
    before = row(task_log)

    assert not jobs.fail(task_log.pk, "The worker stopped 3 times.")
    assert row(task_log) == before


def test_an_error_in_a_job_fails_it_with_the_reason_and_a_transient_one_leaves_it_to_be_retried():
    broken, flaky = a_job(), a_job()
    for task_log in (broken, flaky):
        jobs.claim(task_log.pk)

    with pytest.raises(ValueError), jobs.failing(broken.pk, "The import failed and added nothing"):
        raise ValueError("no such column")
    with pytest.raises(OperationalError), jobs.failing(flaky.pk, "The import failed and added nothing"):
        raise OperationalError("server closed the connection unexpectedly")

    assert row(broken)[0::4] == (TaskLog.State.FAILED, "The import failed and added nothing: no such column")
    assert row(flaky)[0] == TaskLog.State.RUNNING


# Through a real worker: the database refuses every write to the blacklist with an error the
# tasks treat as transient (as a database that stays down would), so each try fails, nothing is
# changed, and once Celery's retries run out (TASK_RETRIES=1: two tries) on_failure fails the job.

@pytest.fixture
def worker_retrying_once(monkeypatch, request):
    monkeypatch.setenv("TASK_RETRIES", "1")  # read by the worker process the fixture starts
    return request.getfixturevalue("celery_worker_process")


@pytest.fixture
def refuse_blacklist_writes(transactional_db):
    """From the call on, the database refuses every write to the blacklist, as a full disk would."""
    table = BlacklistedNumber._meta.db_table
    postgresql = connection.vendor == "postgresql"

    def refuse():
        with connection.cursor() as cursor:
            if postgresql:
                cursor.execute("CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS"
                               " $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                               " USING ERRCODE = 'disk_full'; END $$")  # class 53: an OperationalError
                cursor.execute(f"CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON {table}"
                               " FOR EACH STATEMENT EXECUTE FUNCTION refuse_writes()")
            else:  # a trigger reading a table that is not there: an OperationalError on SQLite
                for write in ("INSERT", "UPDATE"):
                    cursor.execute(f"CREATE TRIGGER refuse_{write} BEFORE {write} ON {table}"
                                   " BEGIN SELECT * FROM no_space_left_on_device; END")

    yield refuse
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute(f"DROP TRIGGER IF EXISTS refuse_writes ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS refuse_writes()")
        else:
            for write in ("INSERT", "UPDATE"):
                cursor.execute(f"DROP TRIGGER IF EXISTS refuse_{write}")


def assert_failed_after_two_tries(client, task_log: TaskLog, worker) -> None:
    assert (task_log.state, task_log.attempts) == (TaskLog.State.FAILED, 2)
    assert task_log.message.startswith(
        "Failed after 2 tries, nothing was changed: the database kept failing (")
    page = client.get(reverse("tasks_logs:detail", args=[task_log.pk])).content.decode()
    assert "Failed after 2 tries, nothing was changed: the database kept failing" in page
    assert worker.log_path.read_text().count('"event": "retried"') == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_the_database_keeps_refusing_is_failed_with_the_reason_once_the_retries_run_out(
    admin_client, refuse_blacklist_writes, worker_retrying_once
):
    refuse_blacklist_writes()
    leads = SimpleUploadedFile("leads.csv", b"phone\n4155550100\n4155550101\n", content_type="text/csv")
    admin_client.post(reverse("blacklist:upload"), {"file": leads})

    task_log = wait_until_finished(TaskLog.objects.get(kind=TaskLog.Kind.IMPORT))

    assert_failed_after_two_tries(admin_client, task_log, worker_retrying_once)
    assert not BlacklistedNumber.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_the_database_keeps_refusing_is_failed_with_the_reason_once_the_retries_run_out(
    admin_client, refuse_blacklist_writes, worker_retrying_once
):
    BlacklistedNumber.objects.bulk_create(  # over 10,000 matching: a background job
        BlacklistedNumber(phone=f"+1212{i:07d}", status=Status.REVIEW) for i in range(10_050))
    refuse_blacklist_writes()
    admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                      {"action": "approve", "scope": "all", "query": "", "confirmed": "on"})

    task_log = wait_until_finished(TaskLog.objects.get(kind=TaskLog.Kind.BULK_APPROVE))

    assert_failed_after_two_tries(admin_client, task_log, worker_retrying_once)
    assert set(BlacklistedNumber.objects.values_list("status", flat=True)) == {Status.REVIEW}
