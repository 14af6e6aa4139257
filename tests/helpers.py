"""Helpers every app's tests import (`from tests.helpers import …`): starting and stopping real
processes, waiting on them and on jobs, and the test database's URL for those processes. Waits
fail the test at their deadline, naming what they waited for; they never give up silently."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
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
            pytest.fail(f"The process exited ({process.returncode}) before {what}:\n{log_tail(process)}")
        if time.monotonic() > deadline:
            log = f":\n{log_tail(process)}" if process is not None else ""
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


def start_process(command: list[str], log_path: Path, env: dict | None = None, cwd: Path | None = None):
    """Start a process (in the project folder unless cwd says) with its output in log_path, kept as its
    `log_path`; env adds to this process's environment."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=cwd or settings.BASE_DIR)
    process.log_path = log_path
    return process


def stop_processes(*processes: subprocess.Popen) -> None:
    """Terminate those still running; kill any that has not stopped 15 s later."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def celery_worker_command(hostname: str, *options: str) -> list[str]:
    """`celery worker` on every queue the app has, named hostname; options default to `--pool=solo`."""
    return [sys.executable, "-m", "celery", "-A", "blacklist_admin", "worker", "--loglevel=INFO",
            "--queues", settings.WORKER_QUEUES, "--without-gossip", "--without-mingle", "--hostname", hostname,
            *(options or ("--pool=solo",))]


def test_database_url() -> str:
    """DATABASE_URL of the database the tests run on, for processes the tests start."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def log_tail(process: subprocess.Popen) -> str:
    """The end of a process's output (start_process keeps it in a file)."""
    log_path = getattr(process, "log_path", None)
    return log_path.read_text()[-3000:] if log_path else "(no output kept)"


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Through the real login form, as a person does."""
    page.goto(f"{base_url}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def add_list(page, name: str, description: str = "") -> None:
    """Through the Lists page's "New list" form (the page open), as a Manager does."""
    new = page.get_by_role("form", name="New list")
    new.get_by_label("Name of the new list").fill(name)
    if description:
        new.get_by_label("Description of the new list").fill(description)
    with page.expect_navigation():
        new.get_by_role("button", name="Add").click()
