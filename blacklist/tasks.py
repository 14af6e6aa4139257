from celery import shared_task
from celery.signals import worker_ready

from tasks_logs.models import TaskLog

from . import services


@shared_task
def run_bulk_action(task_log_id: int) -> None:
    """Run the large "all matching" bulk action recorded on this TaskLog."""
    services.run_bulk_action(TaskLog.objects.get(pk=task_log_id))


@shared_task
def import_upload(task_log_id: int) -> None:
    """Import the CSV saved on this TaskLog, recording progress on the same row."""
    services.import_numbers(TaskLog.objects.get(pk=task_log_id))


@shared_task
def sweep_stale_imports() -> None:
    """Send again the imports a dead worker left behind; give up on those that keep dying."""
    for task_log_id in services.sweep_stale_imports():
        import_upload.delay(task_log_id)


@worker_ready.connect
def _sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker (re)starting is when a crashed one's job is found: sweep now, and again once
    that job's row has had time to go stale. CELERY_BEAT_SCHEDULE also sweeps every minute
    where beat runs."""
    sweep_stale_imports.delay()
    sweep_stale_imports.apply_async(countdown=services.STALE_AFTER.total_seconds() + 5)
