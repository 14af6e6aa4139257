"""A real `celery worker` process consumes this run's broker: the embedded filesystem broker
when REDIS_URL is unset, Redis when it is set (CI runs both)."""

import pytest
from django.conf import settings

from blacklist_admin.celery import app

pytestmark = pytest.mark.worker


def test_broker_is_the_one_the_settings_name():
    expected = "redis" if settings.REDIS_URL else "embeddedfs"  # kombu's filesystem transport, messages written whole
    assert app.connection_for_write().transport_cls == expected


def test_a_task_makes_the_round_trip_through_a_worker_process(celery_worker_process):
    result = app.send_task("celery.accumulate", args=[1, "two"])

    assert result.get(timeout=30) == [1, "two"]
    assert celery_worker_process.poll() is None  # the worker is still serving
