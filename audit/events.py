"""How an audited change writes its events: set-based, with the change itself.

On PostgreSQL the change and its events are one statement: the UPDATE, DELETE or INSERT runs
inside a CTE and its RETURNING rows feed `INSERT INTO audit_event … SELECT`. On SQLite (no DML
in a CTE) the events are inserted with one INSERT … SELECT of the same rows just before the
change, in the same transaction, which holds SQLite's single write lock: nothing can change
those rows in between. Never a Python loop over rows.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import UpdateQuery

from blacklist.models import Reason

from .models import Event

if TYPE_CHECKING:  # imported for the annotations only: they import this module
    from django.contrib.auth.models import AbstractBaseUser

    from api.models import ApiKey
    from tasks_logs.models import TaskLog

EVENTS = Event._meta.db_table
REASONS = Reason._meta.db_table
# The number's columns first (per row), then the change's (Change.select_list(), shared by all).
INSERT_EVENTS = (
    f"INSERT INTO {EVENTS} (phone, dnc_list_id, from_status, reason, channel, received_at, deadline, note, line,"
    " to_status, action, at, actor, user_id, api_key_id, via, task_id)"
)
def number_facts(from_status: str = "n.status", note: str = "%s", line: str = "NULL",
                 dnc_list: str = "n.dnc_list_id") -> str:
    """SQL for the columns of INSERT_EVENTS before the change's, read from numbers (or the rows a
    change to them returned) as `n`. The note is a bound parameter (the change's) unless given.
    The reason's name is a sub-select, not a join, so the events keep the rows' (locking) order."""
    return (
        f"n.phone, {dnc_list}, {from_status}, (SELECT reason.name FROM {REASONS} reason WHERE reason.id = n.reason_id),"  # noqa: S608 — names ours
        f" n.channel, n.received_at, n.deadline, {note}, {line}"
    )


@dataclass(frozen=True)
class Source:
    """Where a change came from, recorded on each of its events: how (`via`, an Event.Via), and
    the upload's or background job's TaskLog, or the API key, when there is one."""

    via: str = Event.Via.OTHER
    task: "TaskLog | None" = None
    api_key: "ApiKey | None" = None  # then the key, not a user, is the actor


def actor_label(user, source: Source) -> str:
    if source.api_key is not None:
        return f"API key “{source.api_key.name}” (#{source.api_key.pk})"[:200]
    return user.get_username() if user else "system"


@dataclass(frozen=True)
class Change:
    """What every event of one change shares: all but the number and its previous status."""

    action: str
    to_status: int | None
    at: datetime
    user: "AbstractBaseUser | None" = None
    source: Source = Source()
    note: str = ""  # the actor's: a justification; each event of the change records it

    def select_list(self, to_status: str = "%s") -> tuple[str, list]:
        """SQL for the columns after the number's in INSERT_EVENTS (to_status on), and its
        parameters; `to_status` may be a column instead (each number's own, for `repeated`)."""
        user_id = None if self.source.api_key is not None or self.user is None else self.user.pk
        return f"{to_status}, %s, %s, %s, %s, %s, %s, %s", [
            *([self.to_status] if to_status == "%s" else []), self.action,
            connection.ops.adapt_datetimefield_value(self.at),
            actor_label(self.user, self.source), user_id,
            getattr(self.source.api_key, "pk", None), self.source.via, getattr(self.source.task, "pk", None),
        ]


def update(rows: QuerySet, values: dict, change: Change) -> int:
    """`rows.update(**values)`, with one event per changed row recording the status it had."""
    rows = rows.order_by()
    if _matches_nothing(rows):
        return 0
    columns, column_params = change.select_list()
    if connection.vendor == "postgresql":
        table = rows.model._meta.db_table
        query = rows.model._base_manager.all().query.chain(UpdateQuery)  # `UPDATE table SET …`, no WHERE
        query.add_update_values(values)
        sql, params = query.get_compiler(rows.db).as_sql()
        with transaction.atomic(savepoint=False):  # the rows stay locked until the UPDATE is done
            addresses = _lock_addresses_in_phone_order(rows)
            if addresses == "{}":
                return 0
            # Each locked version read a second time, as `before`, by its own address (a TID scan per
            # row, from the page the UPDATE is on): the status it had before this statement changed it.
            return _rowcount(
                f"WITH n AS ({sql} FROM {table} AS before WHERE {table}.{_LOCKED_ADDRESSES}"  # noqa: S608 — ORM-compiled, names ours, params bound
                f" AND before.ctid = {table}.ctid"
                f" RETURNING {table}.phone, before.status, {_RETURNED_FACTS.format(table=table)})"
                f" {INSERT_EVENTS} SELECT {number_facts()}, {columns} FROM n",
                [*params, addresses, change.note, *column_params],
            )
    _insert_events_for(rows, change, columns, column_params)
    return rows.update(**values)


def delete(rows: QuerySet, change: Change) -> int:
    """`rows.delete()` (a model nothing refers to), with one event per deleted row."""
    rows = rows.order_by()
    if _matches_nothing(rows):
        return 0
    columns, column_params = change.select_list()
    if connection.vendor == "postgresql":
        table = rows.model._meta.db_table
        with transaction.atomic(savepoint=False):  # the rows stay locked until the DELETE is done
            addresses = _lock_addresses_in_phone_order(rows)
            if addresses == "{}":
                return 0
            return _rowcount(
                f"WITH n AS (DELETE FROM {table} WHERE {_LOCKED_ADDRESSES}"  # noqa: S608 — names ours, params bound
                f" RETURNING {table}.phone, {table}.status, {_RETURNED_FACTS.format(table=table)})"
                f" {INSERT_EVENTS} SELECT {number_facts()}, {columns} FROM n",
                [addresses, change.note, *column_params],
            )
    _insert_events_for(rows, change, columns, column_params)
    deleted, _ = rows.delete()
    return deleted


# The rows at the addresses _lock_addresses_in_phone_order returned (its one parameter), found by a
# TID scan. Through a sub-select, whose size the planner cannot see: given the array itself, it
# sees 300,000 rows and scans the whole table (or hashes it) rather than read them.
_LOCKED_ADDRESSES = "ctid = ANY(ARRAY(SELECT unnest(%s::tid[])))"


def _lock_addresses_in_phone_order(rows: QuerySet) -> str:
    """Lock `rows` in phone order (_locked_in_phone_order) and return the addresses (ctid) of the
    versions locked, as a PostgreSQL array literal, for the caller's next statement to change or
    delete (WHERE _LOCKED_ADDRESSES), in the same transaction.

    Two statements, not one, and by address, not by id: the UPDATE or DELETE then reads its rows
    straight from their pages (a TID scan), neither scanning the table again nor looking a million
    ids up in the primary key, the two ways that cost the bulk actions most beyond their floors
    (docs/benchmarks.md, issue 17). A row another writer changed before the lock has a new
    address; the lock returns that one (the version it locked), which a statement run after the
    lock sees, where the locking statement's own snapshot would not. Nothing can change a locked
    row until the transaction ends, so its address, and what that version holds (the status an
    UPDATE's events record as before), still hold for the next statement."""
    address = RawSQL(f"{rows.model._meta.db_table}.ctid", ())  # noqa: S611 — the model's own table name
    sql, params = _locked_in_phone_order(rows, address=address)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ARRAY({sql})::text", params)
        return cursor.fetchone()[0]


def _locked_in_phone_order(rows: QuerySet, *fields: str, **expressions) -> tuple[str, tuple]:
    """SELECT `fields` of `rows` FOR UPDATE, in (phone, list) order: the order every writer of several
    numbers takes its row locks in (blacklist.services.add_numbers too), so two writers racing
    for the same numbers cannot deadlock (PostgreSQL). A row another writer changed meanwhile is
    read again once its lock is granted, and dropped if it no longer matches."""
    locked = rows.order_by("phone", "dnc_list_id").select_for_update(of=("self",)).values(*fields, **expressions)
    return locked.query.sql_with_params()


def _matches_nothing(rows: QuerySet) -> bool:
    """`.none()`, `pk__in=[]`: Django cannot compile such a query to SQL, and there is nothing to do."""
    try:
        rows.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return True
    return False


_RETURNED_FACTS = "{table}.dnc_list_id, {table}.reason_id, {table}.channel, {table}.received_at, {table}.deadline"


def _insert_events_for(rows: QuerySet, change: Change, columns: str, column_params: list) -> None:
    fields = ("phone", "dnc_list_id", "status", "reason_id", "channel", "received_at", "deadline")
    sql, params = rows.values(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{INSERT_EVENTS} SELECT {number_facts()}, {columns} FROM ({sql}) AS n",  # noqa: S608 — SQL compiled by the ORM, its params bound; names ours
            [change.note, *column_params, *params],
        )


def _rowcount(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
