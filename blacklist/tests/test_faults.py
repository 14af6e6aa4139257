"""Faults against the real processes: an upload the app accepted is imported exactly once, and a
job is never left "running", whatever fails in between. Each test starts and stops what it
needs: Celery worker processes, a web process, a Redis server and a PostgreSQL cluster of its own
(never the machine's shared ones). Under CI a missing redis-server or PostgreSQL is a failure."""

import http.cookiejar
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from glob import glob
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from blacklist import csv_files, services, tasks
from blacklist.models import BlacklistedNumber, Status
from blacklist_admin.celery import app
from tasks_logs import jobs
from tasks_logs.models import RejectedRow, TaskLog
from tests.helpers import (
    celery_worker_command,
    start_process,
    stop_processes,
    test_database_url,
    wait_for_line,
    wait_until,
    wait_until_finished,
)

pytestmark = [pytest.mark.faults, pytest.mark.worker]

STALE_SECONDS = 2  # the workers' TASK_STALE_SECONDS: a stopped job is sent again after this


# --- processes ----------------------------------------------------------------------------------

def binary(name: str) -> str:
    """The path of a server binary; missing is a failure under CI, a skip elsewhere."""
    found = next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None) or shutil.which(name)
    if not found:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{name} is not installed")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Starts processes with their output in tmp_path; stops whatever is still running at the end."""

    def __init__(self, tmp_path: Path):
        self.tmp_path, self.running = tmp_path, []

    def start(self, name: str, command: list[str], env: dict | None = None, ready: str | None = None):
        process = start_process(command, self.tmp_path / f"{name}.log", env)
        self.running.append(process)
        if ready:
            wait_for_line(process, ready)
        return process

    def worker(self, name: str, env: dict | None = None, args: tuple = ()):
        """A real `celery worker` on the test database (and the run's broker unless env says)."""
        env = {"DATABASE_URL": test_database_url(), "VAR_DIR": str(settings.VAR_DIR),
               "TASK_STALE_SECONDS": str(STALE_SECONDS), **(env or {})}
        command = celery_worker_command(f"{name}-{uuid.uuid4().hex[:6]}@%h", *args)
        return self.start(name, command, env, ready="ready.")

    def stop_all(self):
        stop_processes(*self.running)


@pytest.fixture
def processes(transactional_db, tmp_path):
    app.control.purge()  # messages an earlier, interrupted run left on the run's broker
    running = Processes(tmp_path)
    yield running
    running.stop_all()


class RedisServer:
    """A private redis-server on a free port, stopped and started again by the test."""

    def __init__(self, tmp_path: Path):
        self.binary, self.port, self.dir = binary("redis-server"), free_port(), tmp_path
        self.url, self.process = f"redis://127.0.0.1:{self.port}/0", None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self._answers(), 10, "redis-server to start")

    def stop(self):
        self.process.kill()
        self.process.wait()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def private_redis(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    yield redis
    if redis.process.poll() is None:
        redis.stop()


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb into tmp_path, a free port), restarted by the test."""

    def __init__(self):
        self.bin = Path(binary("initdb")).parent
        self.home, self.port = Path(tempfile.mkdtemp(prefix="faults-pg-")), free_port()  # not under 0700 tmp_path
        self.dir = self.home / "pg"
        as_root = os.geteuid() == 0
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if as_root else []
        if as_root:
            shutil.chown(self.home, "postgres")  # initdb refuses root
        subprocess.run([*self.as_postgres, self.bin / "initdb", "-D", self.dir, "-A", "trust", "-U", "postgres"],
                       check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/faults"

    def pg_ctl(self, *args):
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*self.as_postgres, self.bin / "pg_ctl", "-D", self.dir, "-l", self.home / "log", "-w",
                        "-o", options, *args], check=True, stdout=subprocess.DEVNULL)

    def connect(self, database: str = "faults"):
        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)


@pytest.fixture
def private_postgres():
    cluster = PostgresCluster()
    try:
        cluster.pg_ctl("start")
        yield cluster
        cluster.pg_ctl("-m", "immediate", "stop")
    finally:
        shutil.rmtree(cluster.home, ignore_errors=True)


# --- files ----------------------------------------------------------------------------------------

def fifty_thousand_rows() -> tuple[bytes, dict]:
    """50,000 data rows: 44,000 new numbers, 1,000 already listed for review, 3,000 repeats and
    2,000 junk rows, mixed. Returns the file and the counts any single run must report."""
    rows = [f"+1646{2_000_000 + i:07d}" if i % 2 else f"(646) 20{i // 10_000}-{i % 10_000:04d}" for i in range(44_000)]
    rows += [f"212-555-{i:04d}" for i in range(1_000)]  # listed before the upload
    rows += rows[:3_000]  # repeats within the file
    rows += [f"12{i}" for i in range(2_000)]  # too short
    content = ("phone\n" + "\n".join(rows) + "\n").encode()
    counts = {"total": 50_000, "processed": 50_000, "new": 44_000, "raised": 1_000, "unchanged": 0,
              "duplicates": 3_000, "invalid": 2_000}
    return content, counts


def counts_of(task_log: TaskLog) -> dict:
    return {name: getattr(task_log, name) for name in ("total", "processed", "new", "raised", "unchanged",
                                                        "duplicates", "invalid")}


def stored_upload(content: bytes, status: Status, name: str = "optouts.csv") -> TaskLog:
    return services.save_upload(csv_files.read_csv(name, io.BytesIO(content)), status)


# --- the scenarios --------------------------------------------------------------------------------

def test_a_worker_killed_mid_import_is_replaced_and_the_import_ends_with_the_undisturbed_counts(processes):
    """SIGKILL while 50,000 rows import: the new worker's start-up sweep sends the job again and
    it finishes exactly once (no number lost, none doubled, rejected rows not repeated)."""
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212555{i:04d}", status=Status.REVIEW) for i in range(1_000))
    content, expected = fifty_thousand_rows()
    task_log = stored_upload(content, Status.APPROVED)
    first = processes.worker("first")
    tasks.import_upload.delay(task_log.pk)

    wait_until(lambda: TaskLog.objects.filter(pk=task_log.pk, processed__gte=services.PROGRESS_EVERY).exists(),
               60, "the import to commit its first progress")
    with transaction.atomic():  # hold the TaskLog row (SQLite: the write lock): the worker stops at its next write
        TaskLog.objects.select_for_update().get(pk=task_log.pk)
        in_flight = TaskLog.objects.get(pk=task_log.pk)
        assert (in_flight.state, in_flight.processed < expected["total"]) == (TaskLog.State.RUNNING, True)
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert BlacklistedNumber.objects.count() == 1_000  # the killed run left nothing behind

    time.sleep(STALE_SECONDS + 0.5)  # the row stood still: the next worker's start-up sweep sends it again
    processes.worker("second")
    task_log = wait_until_finished(task_log, 90)

    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    assert (counts_of(task_log), task_log.attempts) == (expected, 2)
    assert BlacklistedNumber.objects.count() == 45_000
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 45_000
    assert BlacklistedNumber.objects.filter(source_task=task_log).count() == 44_000
    assert RejectedRow.objects.filter(task_log=task_log).count() == 2_000


def test_an_upload_while_redis_is_down_is_stored_and_imported_once_redis_is_back(
    processes, private_redis, admin_user
):
    """The web process cannot reach the queue: the user sees the upload stored and queued, not
    a 500; once Redis is back, a worker's start-up sweep (and beat's periodic one) sends the job.

    The worker is started after the outage, as its supervisor (systemd `Restart=always`) does:
    a kombu 5.7.0 worker holding an unacknowledged message exits ("Unrecoverable error") when
    Redis goes away, instead of reconnecting (README, Faults)."""
    env = {"REDIS_URL": private_redis.url, "SECRET_KEY": settings.SECRET_KEY, "TASK_SWEEP_SECONDS": "1"}
    port = free_port()
    processes.start("web", [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                    {"DATABASE_URL": test_database_url(), "VAR_DIR": str(settings.VAR_DIR), **env})
    browser = Browser(f"http://127.0.0.1:{port}", admin_user)
    wait_until(browser.up, 30, "the web process")

    private_redis.stop()
    content = b"phone\n4155550100\n4155550101\n4155550101\n"
    page = browser.upload("during-outage.csv", content)

    assert browser.last_status == 200  # the Tasks Logs page after the redirect, not a 500
    assert ("during-outage.csv: 3 rows queued for import into “Internal”. The queue is unreachable right now, so it will start"
            " by itself once the queue is back; it is stored, nothing is lost.") in page
    task_log = TaskLog.objects.get()
    assert (task_log.state, task_log.upload.size) == (TaskLog.State.QUEUED, len(content))

    private_redis.start()
    worker = processes.worker("worker", env, args=("--pool=solo", "--beat", "--schedule",
                                                   str(processes.tmp_path / "beat-schedule")))
    task_log = wait_until_finished(task_log, 60)

    assert (task_log.state, task_log.new, task_log.duplicates, task_log.attempts) == (
        TaskLog.State.SUCCEEDED, 2, 1, 1)
    assert sorted(BlacklistedNumber.objects.values_list("phone", flat=True)) == ["+14155550100", "+14155550101"]
    assert worker.poll() is None


class Browser:
    """A logged-in user talking HTTP to a real web process (cookies, CSRF token, multipart)."""

    def __init__(self, base: str, user):
        self.base, self.last_status = base, None
        client = Client()
        client.force_login(user)  # a session row in the shared database: the web process accepts it
        self.jar = http.cookiejar.CookieJar()
        self.jar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", client.cookies["sessionid"].value, None, False, "127.0.0.1", False, False, "/", True,
            False, None, False, None, None, {}))
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def up(self) -> bool:
        try:
            self.get("/blacklist/add/")
            return self.last_status == 200
        except OSError:
            return False

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base + path))

    def upload(self, name: str, content: bytes) -> str:
        self.get("/blacklist/add/")
        token = next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self._open(urllib.request.Request(
            self.base + "/blacklist/add/upload/", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": self.base + "/"}))

    def _open(self, request) -> str:
        try:
            with self.opener.open(request, timeout=60) as response:
                self.last_status = response.status
                return response.read().decode()
        except urllib.error.HTTPError as error:
            self.last_status = error.code
            return error.read().decode()


def test_a_postgresql_restart_mid_import_is_retried_and_the_import_completes(processes, private_postgres):
    """The database restarts (every connection cut) while a worker imports 50,000 rows: the task
    retries on the lost connection and finishes with the undisturbed counts, never stuck running.
    On a PostgreSQL cluster of the test's own: the app is migrated into it, the worker uses it."""
    maintenance = private_postgres.connect("postgres")
    maintenance.autocommit = True
    maintenance.cursor().execute("CREATE DATABASE faults")
    maintenance.close()
    env = {"DATABASE_URL": private_postgres.url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env={**os.environ, **env}, check=True,
                   cwd=settings.BASE_DIR)
    content, expected = fifty_thousand_rows()
    (processes.tmp_path / "upload.csv").write_bytes(content)
    seed = ("import io; from blacklist import csv_files, services; from blacklist.models import Status;"
            "from blacklist.models import BlacklistedNumber as N;"
            "N.objects.bulk_create(N(phone=f'+1212555{i:04d}', status=Status.REVIEW) for i in range(1000));"
            f"f = csv_files.read_csv('u.csv', open({str(processes.tmp_path / 'upload.csv')!r}, 'rb'));"
            "print(services.save_upload(f, Status.APPROVED).pk)")
    task_log_id = int(subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", seed], env={**os.environ, **env},
                                     check=True, cwd=settings.BASE_DIR, capture_output=True, text=True).stdout)
    worker = processes.worker("worker", env)
    database = private_postgres.connect()
    database.autocommit = True

    def task_log() -> dict:
        cursor = database.cursor()
        cursor.execute("SELECT state, attempts, message, total, processed, new, raised, unchanged, duplicates,"
                       " invalid FROM tasks_logs_tasklog WHERE id = %s", [task_log_id])
        names = ("state", "attempts", "message", *expected)
        return dict(zip(names, cursor.fetchone(), strict=False))  # only the columns asked for

    tasks.import_upload.delay(task_log_id)
    wait_until(lambda: task_log()["processed"] >= services.PROGRESS_EVERY, 60, "the import's first progress")
    database.autocommit = False
    database.cursor().execute("SELECT 1 FROM tasks_logs_tasklog WHERE id = %s FOR UPDATE", [task_log_id])
    assert task_log()["state"] == "running"  # held here: the worker waits at its next write
    private_postgres.pg_ctl("-m", "fast", "restart")  # cuts every connection, ours too
    database = private_postgres.connect()
    database.autocommit = True

    final = wait_until(lambda: (row := task_log())["state"] in {"succeeded", "failed"} and row, 60,
                       "the import to finish after the restart")

    assert final["state"] == "succeeded", final["message"]
    assert {name: final[name] for name in expected} == expected
    assert final["attempts"] == 2  # the cut run, then the retry
    cursor = database.cursor()
    cursor.execute("SELECT status, count(*) FROM blacklist_blacklistednumber GROUP BY status")
    assert dict(cursor.fetchall()) == {Status.APPROVED: 45_000}
    assert '"event": "retried"' in worker.log_path.read_text()
    database.close()


def post_upload(client, name: str, phones: list[str], **checkboxes):
    content = ("phone\n" + "\n".join(phones) + "\n").encode()
    return client.post(reverse("blacklist:upload"), {"file": SimpleUploadedFile(name, content, "text/csv"), **checkboxes})


def bulk_unapprove_all_matching(client, query: str):
    return client.post(reverse("blacklist:bulk_action", args=["approved"]),
                       {"action": "unapprove", "scope": "all", "query": query, "confirmed": "on"})


def statuses(phones: list[str]) -> set:
    return set(BlacklistedNumber.objects.filter(phone__in=phones).values_list("status", flat=True))


def new_york(numbers) -> list[str]:
    return [f"+1646{2_000_000 + n:07d}" for n in numbers]


def test_overlapping_uploads_and_a_bulk_unapprove_running_at_once_keep_the_merge_rules(processes, admin_client):
    """Two uploads (approved, and for review) sharing 10,000 numbers, and "unapprove all matching"
    over 12,000 other numbers, on three worker processes at once: an upload never lowers a status,
    permanent numbers stay, nothing is doubled or lost, and every job's counts add up."""
    BlacklistedNumber.objects.bulk_create(
        [BlacklistedNumber(phone=f"+1212{n:07d}", status=Status.APPROVED) for n in range(12_000)]
        + [BlacklistedNumber(phone=phone, status=Status.PERMANENT) for phone in new_york([5, 15_005, 25_005])])
    shared_212 = [f"+1212{n:07d}" for n in range(1_000)]  # in both files and in the bulk action's filter
    processes.worker("pool", args=("--pool=prefork", "--concurrency=3"))

    post_upload(admin_client, "approved.csv", new_york(range(20_000)) + shared_212, approve="on")
    post_upload(admin_client, "review.csv", new_york(range(10_000, 30_000)) + shared_212)
    bulk_unapprove_all_matching(admin_client, "phone=212")
    jobs = [wait_until_finished(task_log, 90) for task_log in TaskLog.objects.order_by("pk")]

    approved, review, bulk = jobs
    assert [job.state for job in jobs] == [TaskLog.State.SUCCEEDED] * 3, [job.message for job in jobs]
    for upload in (approved, review):  # each import's accounting closes
        assert upload.processed == upload.total == 21_000
        assert upload.new + upload.raised + upload.unchanged + upload.duplicates + upload.invalid == upload.total
    assert approved.new + review.new == 30_000 - 3  # every number inserted once, by one of the two
    assert bulk.changed + bulk.skipped == bulk.processed and bulk.changed >= 11_000
    assert statuses(new_york(range(0, 10_000))) == {Status.APPROVED, Status.PERMANENT}
    assert statuses(new_york(range(10_000, 20_000))) == {Status.APPROVED, Status.PERMANENT}  # never lowered
    assert statuses(new_york(range(20_000, 30_000))) == {Status.REVIEW, Status.PERMANENT}
    assert statuses([f"+1212{n:07d}" for n in range(1_000, 12_000)]) == {Status.REVIEW}  # untouched by uploads
    assert BlacklistedNumber.objects.filter(status=Status.PERMANENT).count() == 3
    assert BlacklistedNumber.objects.count() == 12_000 + 30_000


def test_a_bulk_action_delivered_three_times_ends_as_if_run_once(processes, admin_client):
    """Redelivery (acks_late, a sweep, a duplicate publish): two deliveries run at once on two
    worker processes and a third after the job finished; the numbers and the counts are those
    of one run."""
    BlacklistedNumber.objects.bulk_create(
        [BlacklistedNumber(phone=f"+1212{n:07d}", status=Status.APPROVED) for n in range(10_050)]
        + [BlacklistedNumber(phone=f"+1415555{n:04d}", status=Status.PERMANENT) for n in range(3)])
    bulk_unapprove_all_matching(admin_client, "")
    task_log = TaskLog.objects.get()
    tasks.run_bulk_action.delay(task_log.pk)  # the same job, again
    processes.worker("pool", args=("--pool=prefork", "--concurrency=2"))
    task_log = wait_until_finished(task_log, 90)
    tasks.run_bulk_action.delay(task_log.pk)  # and once more after it finished
    wait_until(lambda: processes.running[0].log_path.read_text().count('"event": "finished"') >= 3, 30,
               "the third delivery")

    task_log.refresh_from_db()
    assert (task_log.state, task_log.changed, task_log.skipped, task_log.processed) == (
        TaskLog.State.SUCCEEDED, 10_050, 3, 10_053)
    assert task_log.message == "3 permanently approved numbers were skipped."
    assert BlacklistedNumber.objects.filter(status=Status.REVIEW).count() == 10_050
    assert BlacklistedNumber.objects.filter(status=Status.PERMANENT).count() == 3


def test_a_bulk_action_whose_worker_dies_mid_statement_is_swept_only_once_the_statement_is_gone(
    processes, admin_client, settings
):
    """A bulk action is one long statement with no progress to write, so a quiet row proves
    nothing: the sweep leaves it alone while a transaction holds it (the statement runs), and
    sends it again once its worker is dead. PostgreSQL: SQLite has no row locks to wait on."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; on SQLite the sweep waits on the one write lock instead")
    settings.TASK_STALE_SECONDS = STALE_SECONDS
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"+1212{n:07d}", status=Status.APPROVED) for n in range(10_050))
    bulk_unapprove_all_matching(admin_client, "")
    task_log = TaskLog.objects.get()
    holder = psycopg2.connect(test_database_url())  # another session holds one number: the statement waits on it
    holder.cursor().execute("SELECT 1 FROM blacklist_blacklistednumber WHERE phone = '+12120010000' FOR UPDATE")
    first = processes.worker("first")
    wait_until(lambda: TaskLog.objects.filter(pk=task_log.pk, state=TaskLog.State.RUNNING).exists(), 30,
               "the bulk action to start")
    time.sleep(STALE_SECONDS + 0.5)  # its row has not moved for longer than the sweep allows

    assert jobs.sweep_stale_jobs() == []  # a live statement holds the row: not stale, however long

    first.send_signal(signal.SIGKILL)
    first.wait()
    holder.rollback()  # the dead worker's statement gets its row, then its session ends, rolled back
    holder.close()
    again = wait_until(jobs.sweep_stale_jobs, 30, "the sweep to find the orphaned job")
    assert again == [(TaskLog.Kind.BULK_UNAPPROVE, task_log.pk)]
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 10_050  # nothing half-done
    tasks.run_bulk_action.delay(task_log.pk)  # what the sweep task does with it
    processes.worker("second")
    task_log = wait_until_finished(task_log, 90)

    assert (task_log.state, task_log.changed, task_log.attempts) == (TaskLog.State.SUCCEEDED, 10_050, 2)
    assert BlacklistedNumber.objects.filter(status=Status.REVIEW).count() == 10_050
