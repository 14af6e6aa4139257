from celery import shared_task

from tasks_logs.models import TaskLog

from . import services


@shared_task
def run_bulk_action(task_log_id: int) -> None:
    """Run the large "all matching" bulk action recorded on this TaskLog."""
    services.run_bulk_action(TaskLog.objects.get(pk=task_log_id))
