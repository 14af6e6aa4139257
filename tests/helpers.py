"""Helpers every app's tests import (`from tests.helpers import …`): waiting on real processes and
jobs, and the test database's URL for the processes the tests start. Waits fail the test at their
deadline, naming what they waited for; they never give up silently."""

import subprocess
import time

import pytest
from django.db import connection

from tasks_logs.models import TaskLog


def wait_until(condition, timeout: float = 60, what: str = "the condition", process: subprocess.Popen | None = None):
    """Call condition() until it returns something truthy and return that; fail the test at the deadline,
    or as soon as `process` (whose output is in its `log_path`) exits, with the end of its output."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if process is not None and process.poll() is not None:
            pytest.fail(f"The process exited ({process.returncode}) before {what}:\n{_log_tail(process)}")
        if time.monotonic() > deadline:
            log = f":\n{_log_tail(process)}" if process is not None else ""
            pytest.fail(f"Timed out after {timeout:g} s waiting for {what}{log}")
        time.sleep(0.05)


def wait_for_line(process: subprocess.Popen, text: str, timeout: float = 30) -> None:
    """Wait until the process's output (its `log_path`) contains text, e.g. a worker's "ready."."""
    wait_until(lambda: text in process.log_path.read_text(), timeout, f"{text!r} in {process.log_path.name}", process)


def wait_until_finished(task_log: TaskLog, timeout: float = 60) -> TaskLog:
    """Wait until the job of this TaskLog succeeded or failed; return the row as it then is."""

    def finished() -> bool:
        task_log.refresh_from_db()
        return task_log.is_finished

    wait_until(finished, timeout, f"TaskLog {task_log.pk} ({task_log.kind}) to finish")
    return task_log


def test_database_url() -> str:
    """DATABASE_URL of the database the tests run on, for processes the tests start."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def _log_tail(process: subprocess.Popen) -> str:
    log_path = getattr(process, "log_path", None)
    return log_path.read_text()[-3000:] if log_path else "(no output kept)"
