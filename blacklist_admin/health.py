"""/healthz for load balancers: no login, no data; 200 when the database and the broker
answer within a second or two, else 503 naming the part that did not. Beside them, the
national registry's freshness (`registry`: ok, or stale with how many area codes are), which
never fails the check: stale registry data is for people to fix, not a reason to take a web
server out of service."""

import os

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from registry.models import AreaCode

TIMEOUT_SECONDS = 2


def _database() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL statement_timeout = %s", [TIMEOUT_SECONDS * 1000])
        cursor.execute("SELECT 1")


def _registry() -> dict:
    freshness = AreaCode.objects.freshness()
    if freshness.stale:
        return {"status": "stale", "stale_area_codes": freshness.stale}
    return {"status": "ok"}


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
    try:
        registry = _registry() if healthy else {"status": "unknown"}
    except Exception as error:  # informative only: never the reason for a 503
        registry = {"status": f"unknown: {type(error).__name__}"}
    return JsonResponse({"status": "ok" if healthy else "failed", **checks, "registry": registry},
                        status=200 if healthy else 503)
