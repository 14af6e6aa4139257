"""/healthz for load balancers: no login, no data; 200 when the database and the broker
answer within a second or two, else 503 naming the part that did not."""

import os

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

TIMEOUT_SECONDS = 2


def _database() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL statement_timeout = %s", [TIMEOUT_SECONDS * 1000])
        cursor.execute("SELECT 1")


def _broker() -> None:
    if settings.REDIS_URL:
        redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        ).ping()
        return
    queue = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
    if not os.access(queue, os.W_OK):
        raise OSError(f"the embedded broker's folder {queue} is not writable")


@never_cache
@login_not_required
@require_GET
def healthz(request):
    checks = {}
    for name, check in (("database", _database), ("broker", _broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure is the answer, never a 500
            checks[name] = f"failed: {type(error).__name__}"
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if healthy else "failed", **checks}, status=200 if healthy else 503)
