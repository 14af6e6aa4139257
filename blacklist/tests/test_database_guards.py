"""The database's own guards of permanently approved numbers and audit events hold against the
statements that skip row triggers: SQLite's REPLACE conflict resolution (`INSERT OR REPLACE`,
`REPLACE INTO`, `UPDATE OR REPLACE`) and PostgreSQL's `TRUNCATE` (also by CASCADE). Each test runs
the exact statement; the statements of the other database are skipped on each run (CI runs both)."""

import pytest
from django.db import IntegrityError, connection, transaction

from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Status
from blacklist_admin.env import database_from_url

pytestmark = pytest.mark.django_db
NUMBERS = BlacklistedNumber._meta.db_table
COLUMNS = "phone, status, added_at, status_changed_at"


@pytest.fixture
def guarded(make_numbers, admin_user):
    """A permanent number, a number for review, and an audit event."""
    permanent, review, removed = make_numbers(Status.PERMANENT, Status.REVIEW, Status.REVIEW, reason="other")
    services.remove(BlacklistedNumber.objects.filter(pk=removed.pk), admin_user)
    return {"permanent": permanent, "review": review, "event": Event.objects.get()}


def only_on(vendor):
    if connection.vendor != vendor:
        pytest.skip(f"{vendor} only: the other database's run covers it")
    if vendor == "postgresql":  # as if the rows were committed: TRUNCATE waits for no deferred FK check
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def assert_refused(sql):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def assert_untouched(guarded):
    permanent = BlacklistedNumber.objects.get(pk=guarded["permanent"].pk)
    assert (permanent.phone, permanent.status) == (guarded["permanent"].phone, Status.PERMANENT)
    assert BlacklistedNumber.objects.count() == 2
    assert list(Event.objects.values_list("pk", "actor", "action")) == [(guarded["event"].pk, "admin", "removed")]


@pytest.mark.parametrize("sql", [
    f"INSERT OR REPLACE INTO {NUMBERS} ({COLUMNS}) SELECT phone, 1, added_at, status_changed_at FROM {NUMBERS}"
    " WHERE status = 3",
    f"REPLACE INTO {NUMBERS} ({COLUMNS}) SELECT phone, 1, added_at, status_changed_at FROM {NUMBERS} WHERE status = 3",
    f"INSERT OR REPLACE INTO {NUMBERS} (id, {COLUMNS}) SELECT id, '+12125550199', 1, added_at, status_changed_at"
    f" FROM {NUMBERS} WHERE status = 3",  # the same id, another number
    f"UPDATE OR REPLACE {NUMBERS} SET phone = (SELECT phone FROM {NUMBERS} WHERE status = 3) WHERE status = 1",
    f"UPDATE OR REPLACE {NUMBERS} SET id = (SELECT id FROM {NUMBERS} WHERE status = 3) WHERE status = 1",
])
def test_sqlite_refuses_to_replace_a_permanent_number(guarded, sql):
    only_on("sqlite")
    assert_refused(sql)
    assert_untouched(guarded)


@pytest.mark.parametrize("sql", [
    "INSERT OR REPLACE INTO audit_event (id, phone, action, at, actor, via)"
    " SELECT id, phone, 'added', at, 'nobody', 'other' FROM audit_event",
    "REPLACE INTO audit_event (id, phone, action, at, actor, via)"
    " SELECT id, phone, 'added', at, 'nobody', 'other' FROM audit_event",
    "UPDATE OR REPLACE audit_event SET actor = 'nobody'",
])
def test_sqlite_refuses_to_replace_an_audit_event(guarded, sql):
    only_on("sqlite")
    assert_refused(sql)
    assert_untouched(guarded)


def test_every_sqlite_connection_fires_delete_triggers_on_replace(settings):
    only_on("sqlite")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers")
        assert cursor.fetchone() == (1,)
    # The worker processes the tests start get a sqlite:/// DATABASE_URL: the same pragma.
    assert "PRAGMA recursive_triggers=ON" in database_from_url("sqlite:////tmp/x.sqlite3", settings.VAR_DIR)[
        "OPTIONS"]["init_command"]


@pytest.mark.parametrize("sql", [
    f"TRUNCATE {NUMBERS}",
    f"TRUNCATE {NUMBERS} CASCADE",
    f"TRUNCATE {NUMBERS}, audit_event RESTART IDENTITY",
    "TRUNCATE tasks_logs_tasklog CASCADE",  # reaches the numbers through their source upload
    "TRUNCATE audit_event",
    "TRUNCATE audit_event CASCADE",
])
def test_postgresql_refuses_to_truncate_permanent_numbers_or_audit_events(guarded, sql):
    only_on("postgresql")
    assert_refused(sql)
    assert_untouched(guarded)


def test_postgresql_still_truncates_a_numbers_table_without_permanent_numbers(make_numbers):
    only_on("postgresql")
    make_numbers(Status.REVIEW, Status.APPROVED)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {NUMBERS}")
    assert not BlacklistedNumber.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_may_leave_permanent_numbers_and_events_behind(make_numbers, admin_user):
    """The tests' flush (TRUNCATE on PostgreSQL, DELETE on SQLite) lifts the guards for itself only
    (conftest.py): this test's teardown would fail otherwise."""
    make_numbers(Status.PERMANENT, Status.REVIEW, reason="other")
    services.remove(BlacklistedNumber.objects.all(), admin_user)
    assert BlacklistedNumber.objects.filter(status=Status.PERMANENT).exists() and Event.objects.exists()
