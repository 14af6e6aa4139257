"""Fixtures shared by every app's tests: numbers in the database, a real Celery worker process,
numbers made through every path users take, and the SQLite clean-up that lets transactional
tests leave permanently approved numbers behind."""

import importlib
import uuid
import warnings

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id, internal_list_id
from blacklist_admin.env import make_var_dir
from tests.helpers import (
    celery_worker_command,
    log_tail,
    start_process,
    stop_processes,
    test_database_url,
    wait_for_line,
    wait_until_finished,
)

guard = importlib.import_module("blacklist.migrations.0010_named_lists")  # the guard as it is now
audit_guard = importlib.import_module("audit.migrations.0001_initial")
truncate_guards = [importlib.import_module("blacklist.migrations.0006_permanent_numbers_truncate_guard"),
                   importlib.import_module("audit.migrations.0002_truncate_guard")]


# Markers say which tests start processes (pytest.ini), so `-m "not slow"` is a quick run and none
# is forgotten: a test using one of these fixtures gets its marker, and each of these kinds is slow.
MARKER_OF_FIXTURE = {"celery_worker_process": "worker", "page": "browser", "api_server": "slow"}
SLOW_KINDS = ("browser", "worker", "faults", "fuzz")


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture, marker in MARKER_OF_FIXTURE.items():
            if fixture in item.fixturenames:
                item.add_marker(marker)
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker("slow")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran a worker shows the end of the worker's log in its report: what the
    worker did with the job (or why it never took it) is the first thing to know."""
    report = yield
    worker = item.funcargs.get("celery_worker_process") if hasattr(item, "funcargs") else None
    if report.failed and worker is not None:
        report.sections.append(("worker log (its end)", log_tail(worker)))
    return report


def pytest_configure(config):
    """The tests' VAR_DIR (the SQLite file's folder, the embedded broker's): importing the settings
    makes nothing, and `make run`'s `ensure_var_dir` may never have run here."""
    make_var_dir(settings.VAR_DIR, embedded_broker=not settings.REDIS_URL)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created in many tests; the production hasher costs ~0.3 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _exact_counts_wait_for_a_loaded_machine(monkeypatch):
    """The tabs count a small set exactly under a 25 ms statement timeout, else show PostgreSQL's
    estimate: on a machine running two suites at once a count of 3 rows can take that long, and a
    test expecting "3" would read "~103". Tests of the timeout set it themselves."""
    monkeypatch.setattr("blacklist.models.EXACT_COUNT_TIMEOUT_MS", 5_000)


@pytest.fixture(autouse=True)
def _no_transaction_left_open(request, django_db_blocker):
    """A test that leaves another session inside a transaction (a thread's connection, a killed
    worker's backend still running its statement) can hold row locks the next tests wait on until
    pytest-timeout fails them, far from the cause. After each database test on PostgreSQL, such a
    session is named in a warning (the summary shows it) with the test that left it."""
    yield
    uses_database = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames)
    if connection.vendor != "postgresql" or not uses_database or connection.connection is None:
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # after the test's own teardown
        cursor.execute(
            "SELECT pid, state, now() - xact_start, left(query, 120) FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            " AND xact_start IS NOT NULL"
        )
        if left_open := cursor.fetchall():
            warnings.warn(f"{request.node.nodeid} left sessions in a transaction: {left_open}", stacklevel=1)


@pytest.fixture
def make_numbers(db):
    """make_numbers(Status.REVIEW, Status.PERMANENT, …) → one saved number per status, in order.
    `reason`: a Reason slug (default: Consumer request, kept for retention RETENTION_YEARS; tests
    that remove numbers pass one that is not, "other")."""

    def make(*statuses, start=100, reason=None):
        reason_id = default_reason_id()  # (which makes the built-in reasons again after a flush)
        reason_id = Reason.objects.get(slug=reason).pk if reason else reason_id
        numbers = [
            BlacklistedNumber(phone=f"+1415555{start + i:04d}", status=status, reason_id=reason_id)
            for i, status in enumerate(statuses)
        ]
        BlacklistedNumber.objects.bulk_create(numbers)
        return list(BlacklistedNumber.objects.filter(phone__in=[n.phone for n in numbers]).order_by("phone"))

    return make


@pytest.fixture
def make_user(db, django_user_model):
    """make_user("Reviewer", "rita") → a user with that role (roles/groups.py), password "pass-pass-123"."""
    from roles.groups import assign

    def make(role, username=None):
        user = django_user_model.objects.create_user(username or role.lower(), password="pass-pass-123")
        assign(user, role)  # re-creates the groups if a transactional test's flush emptied them
        return user

    return make


@pytest.fixture
def manager_client(client, make_user):
    """The test client logged in as a Manager (make_user("Manager"))."""
    client.force_login(make_user("Manager"))
    return client


@pytest.fixture
def reviewer_client(client, make_user):
    """The test client logged in as a Reviewer."""
    client.force_login(make_user("Reviewer"))
    return client


@pytest.fixture(autouse=True)
def _clear_permanent_numbers_before_flush(request):
    """Django empties the database after a transactional test: with DELETE on SQLite, which the
    permanent-number and audit-event row triggers refuse, with TRUNCATE on PostgreSQL, which their
    truncate triggers refuse while the tables hold such rows. Empty those two tables first, with
    the guards lifted for that clean-up only; the flush then finds nothing they protect."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    if not transactional and not {"transactional_db", "live_server"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("transactional_db")  # so this tears down before the flush
    # The built-in rows an earlier transactional test's flush took away, made again and committed
    # before the test starts threads or processes that would each make them.
    default_reason_id()
    internal_list_id()
    yield
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            for truncate_guard in truncate_guards:
                truncate_guard.drop_guard(None, editor)
            editor.execute(f"TRUNCATE {BlacklistedNumber._meta.db_table}, audit_event")
            for truncate_guard in truncate_guards:
                truncate_guard.create_guard(None, editor)
    if connection.vendor == "sqlite":
        with connection.schema_editor() as editor:
            guard.drop_guard(None, editor)
            BlacklistedNumber.objects.filter(status=Status.PERMANENT).delete()
            guard.create_guard(None, editor)
            audit_guard.drop_guard(None, editor)
            editor.execute("DELETE FROM audit_event")
            audit_guard.create_guard(None, editor)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real `celery worker` process on this run's broker and test database."""
    from blacklist_admin.celery import app

    app.control.purge()  # messages a previous, interrupted run left behind
    worker = start_process(celery_worker_command(f"test-{uuid.uuid4().hex[:8]}@%h"), tmp_path / "worker.log",
                           {"DATABASE_URL": test_database_url(), "VAR_DIR": str(settings.VAR_DIR)})
    try:  # its output, in worker.log_path: JSON log lines
        wait_for_line(worker, "ready.")
        yield worker
    finally:
        stop_processes(worker)


@pytest.fixture
def numbers_made_by_every_path(admin_client, admin_user, celery_worker_process):
    """~300 numbers on both tabs made as users do: uploads via a worker, hand entry, API, row and bulk actions."""
    from api.services import create_key
    from tasks_logs.models import TaskLog

    def upload(name, phones, **boxes):
        file = SimpleUploadedFile(name, ("phone\n" + "\n".join(phones) + "\n").encode())
        assert admin_client.post(reverse("blacklist:upload"), {"file": file, **boxes}).status_code == 302
        task_log = wait_until_finished(TaskLog.objects.filter(file_name=name).get())
        assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message

    def by_hand(phones, **boxes):
        response = admin_client.post(reverse("blacklist:add"), {"numbers": "\n".join(phones), **boxes})
        assert response.status_code == 302

    def by_api(phones, **options):
        _, secret = create_key("dialer", can_check=True, can_add=True, expires_at=None, user=admin_user, **options)
        response = admin_client.post("/api/v1/blacklist/numbers", phones, content_type="application/json",
                                     headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.content

    def row_action(tab, action, phone, answer=302):
        url = reverse("blacklist:row_action", args=[tab, action])
        pk = BlacklistedNumber.objects.get(phone=phone).pk
        assert admin_client.post(url, {"pk": pk, "query": ""}).status_code == answer

    def bulk_action(tab, action, phones, **extra):
        ids = list(BlacklistedNumber.objects.filter(phone__in=phones).values_list("pk", flat=True))
        data = {"action": action, "scope": "selected", "ids": ids, "query": "", **extra}
        assert admin_client.post(reverse("blacklist:bulk_action", args=[tab]), data).status_code == 302

    upload("leads.csv", [f"(212) 555-{i:04d}" for i in range(150)] + ["212.555.0001", "12345"])
    upload("approved.csv", [f"646-555-{i:04d}" for i in range(60)] + [f"212 555 {i:04d}" for i in range(10)],
           approve="on")
    by_hand([f"+1 312 555 {i:04d}" for i in range(30)] + [f"2125550{i:03d}" for i in range(140, 145)])
    by_hand([f"(312) 555-{i:04d}" for i in range(100, 120)], approve="on")
    by_api([f"415555{i:04d}" for i in range(25)], can_approve=False)
    by_api([f"+1415555{i:04d}" for i in range(100, 125)], can_approve=True)
    row_action("review", "approve", "+12125550020")
    row_action("review", "approve_permanently", "+12125550021")
    # Numbers added now are kept for retention (Consumer request): a row Remove asks the Manager
    # why (the confirmation page), and the confirmed removal carries the justification.
    row_action("review", "remove", "+12125550022", answer=200)
    bulk_action("review", "remove", ["+12125550022"], confirmed="on", justification="Entered by mistake")
    row_action("approved", "unapprove", "+13125550100")
    row_action("approved", "approve_permanently", "+16465550000")
    bulk_action("review", "approve", [f"+1212555{i:04d}" for i in range(30, 60)])
    bulk_action("approved", "unapprove", [f"+1415555{i:04d}" for i in range(100, 112)])
    bulk_action("review", "remove", ["+13125550000", "+13125550001"], confirmed="on", justification="Duplicates")
