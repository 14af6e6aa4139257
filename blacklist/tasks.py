import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerDown

from tasks_logs.models import TaskLog

from . import services

RETRIES = 5  # transient database errors: tried again after 1, 2, 4, 8 and 16 seconds
# ignore_result: no return value of ours is read (the TaskLog row is the result), so none is
# stored: with results on, sending a task also subscribes to the Redis result store, and in a
# Redis outage that retries for 20 s, then breaks the web process's Celery app for good; off, a
# send fails within a second and the job waits, queued in the database, for the sweep
# (send_on_commit).
logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=RETRIES, ignore_result=True)
def run_bulk_action(self, task_log_id: int) -> None:
    """Run the large "all matching" bulk action recorded on this TaskLog."""
    try:
        services.run_bulk_action(TaskLog.objects.get(pk=task_log_id))
    except services.TRANSIENT_ERRORS as error:
        _retry(self, task_log_id, error)


@shared_task(bind=True, max_retries=RETRIES, ignore_result=True)
def import_upload(self, task_log_id: int) -> None:
    """Import the CSV saved on this TaskLog, recording progress on the same row."""
    try:
        services.import_numbers(TaskLog.objects.get(pk=task_log_id))
    except services.TRANSIENT_ERRORS as error:
        _retry(self, task_log_id, error)


def _retry(task, task_log_id: int, error: Exception) -> None:
    """The database went away (a restart, a failover) or picked this transaction to die (a
    deadlock): nothing was committed, so run the job again shortly; after RETRIES, fail it with
    the reason (if even that cannot be written, the stale sweep finds the job later)."""
    if task.request.retries >= task.max_retries:
        services.fail_job(task_log_id, f"Failed after {RETRIES + 1} tries, nothing was changed: the database"
                                       f" kept failing ({error}).")
        raise error
    raise task.retry(exc=error, countdown=2 ** task.request.retries)


JOBS: dict[str, Task] = {TaskLog.Kind.IMPORT: import_upload}  # every other kind is a bulk action


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


@shared_task(ignore_result=True)
def sweep_stale_jobs() -> None:
    """Send again the jobs a dead worker (or an unreachable broker) left behind; give up on
    those that keep dying."""
    for kind, task_log_id in services.sweep_stale_jobs():
        JOBS.get(kind, run_bulk_action).delay(task_log_id)


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker (re)starting is when a crashed one's job is found: sweep now, and again once
    that job's row has had time to go stale. CELERY_BEAT_SCHEDULE also sweeps every
    TASK_SWEEP_SECONDS where beat runs."""
    sweep_stale_jobs.delay()
    sweep_stale_jobs.apply_async(countdown=services.stale_after().total_seconds() + 5)
