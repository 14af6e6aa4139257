from celery import shared_task

from tasks_logs import jobs
from tasks_logs.models import TaskLog

from . import loads


@shared_task(base=jobs.JobTask)
def load_registry_file(task_log_id: int) -> None:
    """Load the national registry file saved on this TaskLog, recording progress on the same row."""
    loads.load(TaskLog.objects.get(pk=task_log_id))
