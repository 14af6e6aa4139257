import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerDown

from registry.tasks import load_registry_file
from tasks_logs import jobs
from tasks_logs.models import TaskLog

from . import services

logger = logging.getLogger(__name__)


@shared_task(base=jobs.JobTask)
def run_bulk_action(task_log_id: int) -> None:
    """Run the large "all matching" bulk action recorded on this TaskLog."""
    services.run_bulk_action(TaskLog.objects.get(pk=task_log_id))


@shared_task(base=jobs.JobTask)
def import_upload(task_log_id: int) -> None:
    """Import the CSV saved on this TaskLog, recording progress on the same row."""
    services.import_numbers(TaskLog.objects.get(pk=task_log_id))


# The task of each kind of job the sweep may send again; every other kind is a bulk action.
JOBS: dict[str, Task] = {TaskLog.Kind.IMPORT: import_upload, TaskLog.Kind.REGISTRY_LOAD: load_registry_file}


def send_on_commit(task, task_log_id: int) -> "Sending":
    """`task.delay_on_commit(task_log_id)` that survives a broker outage: the job is already in
    the database, queued, so a failed send is logged, not raised (the caller's transaction has
    committed: raising would show a 500 for a stored job), and the stale sweep sends it again
    once the broker is back. The returned Sending says, after the commit, whether it was sent."""
    sending = Sending()

    def send():
        try:
            task.delay(task_log_id)
            sending.sent = True
        except BrokerDown as error:
            logger.warning("The queue is unreachable; TaskLog %s stays queued for the sweep: %s", task_log_id, error)
            sending.sent = False

    transaction.on_commit(send)
    return sending


class Sending:
    sent: bool | None = None  # None: not attempted yet (the transaction has not committed)

    @property
    def failed(self) -> bool:
        return self.sent is False


@shared_task(ignore_result=True)  # as JobTask: nothing reads a result
def sweep_stale_jobs() -> None:
    """Send again the jobs a dead worker (or an unreachable broker) left behind; give up on
    those that keep dying; drop the uploads nobody confirmed."""
    jobs.drop_unconfirmed()
    for kind, task_log_id in jobs.sweep_stale_jobs():
        JOBS.get(kind, run_bulk_action).delay(task_log_id)


@shared_task(ignore_result=True)
def remove_expired() -> None:
    """Remove the numbers whose expiry has come, with an `expired` event each (CELERY_BEAT_SCHEDULE)."""
    if removed := services.remove_expired():
        logger.info("Removed %s expired number(s)", removed)


@shared_task(ignore_result=True)  # the counts are logged; nothing reads a stored result
def drop_old_files() -> dict[str, int]:
    """Delete the files stored for jobs that finished over STORED_FILES_DAYS ago (CELERY_BEAT_SCHEDULE)."""
    deleted = jobs.drop_old_files()
    if any(deleted.values()):
        logger.info("Deleted the stored files of jobs finished over %s days ago: %s", settings.STORED_FILES_DAYS,
                    ", ".join(f"{count} {label}" for label, count in deleted.items()))
    return deleted


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker (re)starting is when a crashed one's job is found: sweep now, and again once
    that job's row has had time to go stale. CELERY_BEAT_SCHEDULE also sweeps every
    TASK_SWEEP_SECONDS where beat runs."""
    sweep_stale_jobs.delay()
    sweep_stale_jobs.apply_async(countdown=jobs.stale_after().total_seconds() + 5)
