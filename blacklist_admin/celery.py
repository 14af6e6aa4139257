"""The Celery app: configured from Django settings (CELERY_* names), tasks found in each app."""

import os

from celery import Celery
from django.conf import settings

from .env import make_var_dir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blacklist_admin.settings")

app = Celery("blacklist_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_var_dir(sender, **kwargs):
    """VAR_DIR (beat's schedule) and the embedded broker's folders, made once Celery has read its
    settings: in the workers, beat and every process that sends a task, never on import."""
    make_var_dir(settings.VAR_DIR, embedded_broker=not settings.REDIS_URL)


from . import logs  # noqa: E402,F401  one log line per task event, with the task log id
