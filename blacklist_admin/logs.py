"""Structured logs: one JSON line per request and per task event, on stdout, for whatever
collects the processes' output (journald, a container runtime, a log shipper)."""

import json
import logging
import time

from celery.signals import task_failure, task_postrun, task_prerun, task_retry

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
request_log = logging.getLogger("blacklist_admin.request")
task_events = logging.getLogger("blacklist_admin.task")  # not `task_log`: that is a TaskLog row


class JsonFormatter(logging.Formatter):
    """`{"time": …, "level": …, "logger": …, "message": …, <extra fields>}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

    converter = time.gmtime  # type: ignore[assignment]  # typeshed's overloads hide gmtime(secs=None)


class RequestLogMiddleware:
    """One line per request: method, path, status, duration and user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if not request_log.isEnabledFor(logging.INFO):  # LOG_LEVEL=WARNING: not the session and user it names
            return response
        request_log.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": _username(request),
            },
        )
        return response


def _username(request) -> str | None:
    try:
        return request.user.get_username() if request.user.is_authenticated else None
    except Exception:  # no user middleware ran, or the database is down (see /healthz)
        return None


def _task_log_id(args) -> int | None:
    """Our tasks take the id of their TaskLog row as first argument."""
    return args[0] if args and isinstance(args[0], int) else None


@task_prerun.connect
def _task_started(task_id=None, task=None, args=None, **kwargs):
    task_events.info("task started %s", task.name, extra={"task": task.name, "task_id": task_id,
                                                           "task_log_id": _task_log_id(args), "event": "started"})


@task_postrun.connect
def _task_finished(task_id=None, task=None, args=None, state=None, **kwargs):
    task_events.info("task %s %s", task.name, (state or "").lower(),
                  extra={"task": task.name, "task_id": task_id, "task_log_id": _task_log_id(args),
                         "event": "finished", "state": state})


@task_failure.connect
def _task_failed(task_id=None, exception=None, args=None, sender=None, **kwargs):
    task_events.error("task %s failed: %s", sender.name, exception,
                   extra={"task": sender.name, "task_id": task_id, "task_log_id": _task_log_id(args),
                          "event": "failed"})


@task_retry.connect
def _task_retried(request=None, reason=None, sender=None, **kwargs):
    task_events.warning("task %s retried: %s", sender.name, reason,
                     extra={"task": sender.name, "task_id": request.id, "task_log_id": _task_log_id(request.args),
                            "event": "retried"})
