"""The Celery app: configured from Django settings (CELERY_* names), tasks found in each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blacklist_admin.settings")

app = Celery("blacklist_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from . import logs  # noqa: E402,F401  one log line per task event, with the task log id
