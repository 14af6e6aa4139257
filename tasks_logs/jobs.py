"""A background job's life, recorded on its TaskLog row (imports and bulk actions alike).

A job runs to the end once, however often its message is delivered (acks_late, the stale sweep,
a duplicate publish, two workers at once):
- `claim()` starts a run: the row becomes running, unless the job finished already;
- the job's changes and `finish()` commit in one transaction that holds the row `locked()`, so a
  run that crashes before that commit leaves nothing behind, and a later one finds it finished;
- `failing()` marks the job failed with a reason for people on any error but a transient
  database error, which the task tries again (`JobTask`: Celery's own retry with backoff), and
  `JobTask.on_failure` fails the job once those retries run out;
- `sweep_stale_jobs()` finds the jobs a dead worker or an unreachable broker left behind, and
  `drop_unconfirmed()` the uploads nobody confirmed (TaskLog.State.AWAITING) within a day;
- `drop_old_files()` deletes the stored files of jobs finished over STORED_FILES_DAYS ago.

Progress: `set_phase()` before each phase, `processed` of `total` within it; the merge, whose
row stays locked, reports through `merge_reporter()` instead.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from registry.models import RegistryFile

from .models import MergeProgress, TaskLog, Upload

UNFINISHED = [TaskLog.State.QUEUED, TaskLog.State.RUNNING]
# A lost connection (the database restarted or failed over), or races lost over and over
# (services.Busy, an OperationalError): worth another try a moment later, unlike a bug or a bad
# file. Nothing was committed, so the task runs the job again (JobTask).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
MAX_ATTEMPTS = 3  # runs a dying worker may start before the sweep gives the job up
logger = logging.getLogger(__name__)


def claim(task_log_id: int, **fields) -> bool:
    """Start a run of the job (setting `fields` too): False, changing nothing, if it finished already."""
    now = timezone.now()
    return bool(TaskLog.objects.filter(pk=task_log_id, state__in=UNFINISHED).update(
        state=TaskLog.State.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1, **fields
    ))


def set_phase(task_log_id: int, phase: TaskLog.Phase, **fields) -> None:
    """Say what the running job does now (and how far, `fields`), committed for the page to show."""
    record_progress(task_log_id, phase=phase, **fields)


def record_progress(task_log_id: int, **fields) -> None:
    """Write how far the running job is (`fields`: processed, phase…), committed for the page to show."""
    TaskLog.objects.filter(pk=task_log_id, state=TaskLog.State.RUNNING).update(updated_at=timezone.now(), **fields)


@contextmanager
def merge_reporter(task_log_id: int, total: int) -> Iterator[Callable[[int], None]]:
    """A function that records `merged` rows of `total` while the job's transaction holds its
    TaskLog row locked: written through a second, autocommit connection (MergeProgress), which
    the page reads at once. PostgreSQL only: SQLite's one write lock is the job's until it
    commits, so there the page sees the merge's start and end only. A failed write stops the
    reports, never the merge."""
    if connection.vendor != "postgresql":
        yield lambda merged: None
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    reporting = True

    def report(merged: int) -> None:
        nonlocal reporting
        if not reporting:
            return
        try:
            with side.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {MergeProgress._meta.db_table} (task_log_id, merged, total) VALUES (%s, %s, %s)"  # noqa: S608 — table name ours
                    " ON CONFLICT (task_log_id) DO UPDATE SET merged = EXCLUDED.merged, total = EXCLUDED.total",
                    [task_log_id, merged, total],
                )
        except DatabaseError as error:
            logger.warning("TaskLog %s: its merge progress could not be written (%s); the merge goes on",
                           task_log_id, error)
            reporting = False

    try:
        report(0)
        yield report
    finally:
        side.close()


def locked(task_log_id: int) -> TaskLog | None:
    """The job's row, locked until the caller's transaction ends; None if another run finished it first."""
    task_log = TaskLog.objects.select_for_update().get(pk=task_log_id)
    return None if task_log.is_finished else task_log


def finish(task_log: TaskLog, message: str) -> TaskLog:
    """Save the `locked()` row with its counts as succeeded, in the transaction of the job's changes."""
    task_log.state = TaskLog.State.SUCCEEDED
    task_log.phase = ""
    task_log.finished_at = task_log.updated_at = timezone.now()
    task_log.message = message
    task_log.save()
    return task_log


def fail(task_log_id: int, message: str) -> bool:
    """Mark a job that cannot go on failed with a reason for people: False, changing nothing, if it finished already."""
    now = timezone.now()
    return bool(TaskLog.objects.filter(pk=task_log_id, state__in=UNFINISHED).update(
        state=TaskLog.State.FAILED, finished_at=now, updated_at=now, message=message
    ))


@contextmanager
def failing(task_log_id: int, reason: str):
    """Around a job's work: an error fails the job with "`reason`: the error" and is raised
    again; a transient database error is only raised, for the task to try the job again."""
    try:
        yield
    except TRANSIENT_ERRORS:
        logger.warning("TaskLog %s met a transient database error; it will be tried again", task_log_id)
        raise
    except Exception as error:
        logger.exception("TaskLog %s failed", task_log_id)
        fail(task_log_id, f"{reason}: {error}")
        raise


class JobTask(Task):
    """A Celery task that runs the job whose TaskLog id is its one argument. Transient database
    errors are tried again after 1, 2, 4, 8 and 16 s (TASK_RETRIES); once the tries run out, the
    job is failed with the reason (if even that cannot be written, the sweep finds it later)."""

    autoretry_for = TRANSIENT_ERRORS
    max_retries = settings.TASK_RETRIES
    retry_backoff = True  # 2 ** retries seconds
    # No jitter: the tries span a known 31 s that a database restart or failover fits in; with
    # full jitter they could all be spent in its first seconds. retry_on_deadlock spreads races.
    retry_jitter = False
    # No return value of ours is read (the TaskLog row is the result), so none is stored: with
    # results on, sending a task also subscribes to the Redis result store, and in a Redis outage
    # that retries for 20 s, then breaks the web process's Celery app for good; off, a send fails
    # within a second and the job waits, queued in the database, for the sweep (send_on_commit).
    ignore_result = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """The job raised for the last time: a transient error outlived the retries (any other
        error failed the job where it happened, in `failing()`)."""
        if isinstance(exc, TRANSIENT_ERRORS):
            fail(args[0], f"Failed after {self.request.retries + 1} tries, nothing was changed: the database"
                          f" kept failing ({exc}).")


# The stale sweep: nothing stays queued or running forever.

def stale_after() -> timedelta:
    """How long an unfinished job's row may stand still before the sweep sends it again; a
    running import writes progress far more often (settings.TASK_STALE_SECONDS)."""
    return timedelta(seconds=settings.TASK_STALE_SECONDS)


def _given_up(kind: str) -> str:
    what = {
        TaskLog.Kind.IMPORT: ("importing this file", "added. Upload the file again"),
        TaskLog.Kind.REGISTRY_LOAD: ("loading this registry file", "changed. Load the file again"),
    }.get(kind, ("running this action", "changed. Run it again"))
    return (f"The worker stopped {MAX_ATTEMPTS} times while {what[0]}, so it was given up; nothing was"
            f" {what[1]} to retry.")


def sweep_stale_jobs() -> list[tuple[str, int]]:
    """Jobs left queued or running with nobody working on them (the worker died, or the message
    never reached the broker): fail those that died MAX_ATTEMPTS times, and return the others'
    (kind, id) to send again; safe, since a job runs to the end only once.

    A job is stale when its row stopped moving and no transaction holds it locked. An import's
    merge and a bulk action's one statement hold their row locked however long they take, so
    `skip_locked` passes them over (PostgreSQL); on SQLite the sweep's own write lock waits for
    them to finish (or times out, and the next sweep tries again)."""
    now = timezone.now()
    with transaction.atomic():
        stale = list(
            TaskLog.objects.select_for_update(skip_locked=True)
            .filter(state__in=UNFINISHED, updated_at__lt=now - stale_after())
            .values_list("kind", "pk", "state", "attempts")
        )
        again = []
        for kind, pk, state, attempts in stale:
            if state == TaskLog.State.RUNNING and attempts >= MAX_ATTEMPTS:
                fail(pk, _given_up(kind))
            else:
                again.append((kind, pk))
        TaskLog.objects.filter(pk__in=[pk for _, pk in again]).update(updated_at=now)  # next sweep waits again
    return again


UNCONFIRMED_KEPT = timedelta(days=1)  # an upload awaiting its "Yes, add permanently" this long is dropped


def drop_unconfirmed() -> int:
    """Delete the uploads left awaiting confirmation for over UNCONFIRMED_KEPT, with their files."""
    old = TaskLog.objects.filter(state=TaskLog.State.AWAITING, created_at__lt=timezone.now() - UNCONFIRMED_KEPT)
    return old.delete()[1].get(TaskLog._meta.label, 0)


def drop_old_files() -> dict[str, int]:
    """Delete the stored files (Upload, RegistryFile) of the jobs that finished over
    STORED_FILES_DAYS ago; their TaskLog rows and counts stay, the record. Returns how many of
    each were deleted. One DELETE per table, no row read: nothing refers to a stored file and no
    signal listens for one, so Django deletes them without fetching them first (a registry file
    is up to 200 MB; test_stored_files checks that no query reads `content`)."""
    done = {"task_log__state__in": TaskLog.FINISHED,
            "task_log__finished_at__lt": timezone.now() - timedelta(days=settings.STORED_FILES_DAYS)}
    return {model._meta.label: model.objects.filter(**done).delete()[0] for model in (Upload, RegistryFile)}
