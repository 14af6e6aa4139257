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
from django.db import connection
from django.db.models import QuerySet
from django.db.models.sql import DeleteQuery, UpdateQuery

from .models import Event

if TYPE_CHECKING:  # imported for the annotations only: they import this module
    from django.contrib.auth.models import AbstractBaseUser

    from api.models import ApiKey
    from tasks_logs.models import TaskLog

EVENTS = Event._meta.db_table
INSERT_EVENTS = (
    f"INSERT INTO {EVENTS} (phone, from_status, to_status, action, at, actor, user_id, api_key_id, via, task_id)"
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

    def select_list(self) -> tuple[str, list]:
        """SQL for the columns after phone and from_status in INSERT_EVENTS, and its parameters."""
        user_id = None if self.source.api_key is not None or self.user is None else self.user.pk
        return "%s, %s, %s, %s, %s, %s, %s, %s", [
            self.to_status, self.action, connection.ops.adapt_datetimefield_value(self.at),
            actor_label(self.user, self.source), user_id,
            getattr(self.source.api_key, "pk", None), self.source.via, getattr(self.source.task, "pk", None),
        ]


def update(rows: QuerySet, values: dict, change: Change, from_status: int) -> int:
    """`rows.update(**values)` for rows all at `from_status`, with one event per changed row."""
    rows = rows.order_by()
    if _matches_nothing(rows):
        return 0
    columns, column_params = change.select_list()
    if connection.vendor == "postgresql":
        query = rows.query.chain(UpdateQuery)
        query.add_update_values(values)  # type: ignore[attr-defined]  # chain(UpdateQuery) made it one
        query.annotations = {}
        sql, params = query.get_compiler(rows.db).as_sql()
        table = rows.model._meta.db_table
        return _rowcount(
            f"WITH changed AS ({sql} RETURNING {table}.phone) {INSERT_EVENTS} SELECT phone, %s, {columns} FROM changed",  # noqa: S608 — SQL compiled by the ORM, its params bound; names ours
            [*params, from_status, *column_params],
        )
    _insert_events_for(rows, columns, column_params)
    return rows.update(**values)


def delete(rows: QuerySet, change: Change) -> int:
    """`rows.delete()` (a model nothing refers to), with one event per deleted row."""
    rows = rows.order_by()
    if _matches_nothing(rows):
        return 0
    columns, column_params = change.select_list()
    if connection.vendor == "postgresql":
        query = rows.query.clone()
        query.__class__ = DeleteQuery
        query.select_related = False
        sql, params = query.get_compiler(rows.db).as_sql()
        return _rowcount(
            f"WITH gone AS ({sql} RETURNING phone, status) {INSERT_EVENTS} SELECT phone, status, {columns} FROM gone",  # noqa: S608 — SQL compiled by the ORM, its params bound; names ours
            [*params, *column_params],
        )
    _insert_events_for(rows, columns, column_params)
    deleted, _ = rows.delete()
    return deleted


def _matches_nothing(rows: QuerySet) -> bool:
    """`.none()`, `pk__in=[]`: Django cannot compile such a query to SQL, and there is nothing to do."""
    try:
        rows.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return True
    return False


def _insert_events_for(rows: QuerySet, columns: str, column_params: list) -> None:
    sql, params = rows.values("phone", "status").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{INSERT_EVENTS} SELECT chosen.phone, chosen.status, {columns} FROM ({sql}) AS chosen",  # noqa: S608 — SQL compiled by the ORM, its params bound; names ours
            [*column_params, *params],
        )


def _rowcount(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
