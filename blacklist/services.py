"""Every change to the blacklist goes through here: views, tasks, bulk actions, the admin.

Each rule is one set-based statement that starts from `changeable()`, so permanently
approved numbers are skipped (and counted) whatever the caller passes in. Each also records an
audit event per changed number, set-based in the same statement or transaction (audit.events):
callers say where the change came from with a `source` (default: Event.Via.OTHER).
"""

import io
import itertools
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from audit import events
from audit.events import Change, Source
from audit.models import Event
from tasks_logs.models import RejectedRow, TaskLog, Upload

from . import csv_files
from .actions import ACTIONS
from .filters import matching_numbers
from .models import BlacklistedNumber, NumberQuerySet, Status
from .phone_cache import normalized

TABLE = BlacklistedNumber._meta.db_table
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
logger = logging.getLogger(__name__)


# Writers racing for the same numbers (dialers, people, uploads, bulk actions): every statement
# that locks several numbers locks them in phone order (ORDER BY phone, here and in
# audit.events), so two of them cannot wait on each other in a circle. Should PostgreSQL still
# pick a transaction as a deadlock victim (or fail it for serialization), it runs again here.
RACE_TRIES = 5  # in all; a victim waited deadlock_timeout (1 s) already, so this stays short
_RACE_CODES = {"40P01", "40001"}  # PostgreSQL: deadlock_detected, serialization_failure


class Busy(OperationalError):
    """A change the database kept cancelling for others changing the same numbers at the same
    time (or, on SQLite, whose write lock stayed taken past its timeout). Nothing was changed;
    the caller may send it again (the API answers 503, the pages say so). An OperationalError,
    so the tasks try it again later like any transient database error."""


def retry_on_deadlock(service):
    """Run `service` in a transaction of its own, and again, up to RACE_TRIES in all, when the
    database cancels it for a race it lost (a deadlock victim, a serialization failure): losing
    a race is never the caller's error. Raises Busy when the tries run out. Inside a caller's
    transaction it runs once: only the outermost transaction can start over."""

    @wraps(service)
    def run(*args, **kwargs):
        if connection.in_atomic_block:
            return service(*args, **kwargs)
        for attempt in range(1, RACE_TRIES + 1):
            try:
                with transaction.atomic():
                    return service(*args, **kwargs)
            except Busy:
                raise
            except OperationalError as error:
                if write_lock_timed_out(error):  # SQLite waited its whole timeout already
                    raise Busy(f"The database stayed locked by other changes: {error}") from error
                if getattr(error.__cause__, "pgcode", None) not in _RACE_CODES:
                    raise
                if attempt == RACE_TRIES:
                    raise Busy(f"Lost {RACE_TRIES} races for the same rows in a row: {error}") from error
                logger.info("%s lost a race for the same rows (try %s of %s); running it again",
                            service.__name__, attempt, RACE_TRIES)
                time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 — jitter, not a secret: apart from the winner, and from each other

    return run


def write_lock_timed_out(error: OperationalError) -> bool:
    """SQLite's one write lock stayed taken by another transaction past the connection's timeout."""
    return "database is locked" in str(error)


@dataclass(frozen=True)
class Outcome:
    """What a rule did: how many numbers it changed, and how many it left alone, and why."""

    changed: int
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skipped_text(self) -> str:
        """`3 permanently approved numbers were skipped.`, one sentence per reason."""
        return " ".join(
            f"{count:,} {reason} number{'s' if count != 1 else ''} {'were' if count != 1 else 'was'} skipped."
            for reason, count in self.skipped.items()
        )


@dataclass(frozen=True)
class MergeOutcome:
    """What adding a batch of numbers did: new rows, raised statuses, the rest left as they were."""

    new: int
    raised: int
    unchanged: int


def skipped_by_reason(numbers: QuerySet[BlacklistedNumber], rule: str) -> dict[str, int]:
    """Count, by reason, the numbers in the selection that `rule` will leave alone."""
    reasons = ACTIONS[rule].skips
    counts = numbers.order_by().filter(status__in=reasons).values_list("status").annotate(n=Count("pk"))
    return {reasons[status]: n for status, n in sorted(counts) if n}


@retry_on_deadlock
def _change_status(numbers, rule: str, from_statuses: list[Status], to: Status, user, source) -> Outcome:
    now = timezone.now()
    change = Change(ACTIONS[rule].event.value, to, now, user, source or Source())
    values = {"status": to, "status_changed_at": now, "status_changed_by": user}
    skipped = skipped_by_reason(numbers, rule)
    # One statement for every previous status, so its rows are locked in one (phone) order;
    # each event records the status its number came from.
    changed = events.update(numbers.changeable().filter(status__in=from_statuses), values, change)
    return Outcome(changed, skipped)


def approve(numbers: QuerySet[BlacklistedNumber], user=None, source: Source | None = None) -> Outcome:
    """For review → approved."""
    return _change_status(numbers, "approve", [Status.REVIEW], Status.APPROVED, user, source)


def approve_permanently(numbers: QuerySet[BlacklistedNumber], user=None, source: Source | None = None) -> Outcome:
    """For review or approved → permanently approved: from then on nothing may change it."""
    return _change_status(
        numbers, "approve_permanently", [Status.REVIEW, Status.APPROVED], Status.PERMANENT, user, source
    )


def unapprove(numbers: QuerySet[BlacklistedNumber], user=None, source: Source | None = None) -> Outcome:
    """Approved → for review. Permanently approved numbers stay as they are."""
    return _change_status(numbers, "unapprove", [Status.APPROVED], Status.REVIEW, user, source)


@retry_on_deadlock
def remove(numbers: NumberQuerySet, user=None, source: Source | None = None) -> Outcome:
    """Delete from the blacklist, so the numbers can be called again; never permanent ones."""
    change = Change(ACTIONS["remove"].event.value, None, timezone.now(), user, source or Source())
    skipped = skipped_by_reason(numbers, "remove")
    deleted = events.delete(numbers.changeable(), change)
    return Outcome(deleted, skipped)


# Each declared action's rule: the function above of the same name (a KeyError here names a
# declaration in blacklist/actions.py that has no rule yet).
RULES = {name: globals()[name] for name in ACTIONS}


def run_bulk_action(task_log: TaskLog) -> None:
    """Apply the rule a bulk-action TaskLog names to the numbers its filter matches.

    The rule and the TaskLog's result commit together, so a redelivered task finds the job
    finished and does nothing: the counts are those of the one run that changed the rows."""
    params = task_log.params
    numbers = matching_numbers(params["tab"], params["query"])
    if numbers is None:
        TaskLog.objects.filter(pk=task_log.pk).update(
            state=TaskLog.State.FAILED, finished_at=timezone.now(),
            message="The filter is not valid. Nothing was changed.",
        )
        return
    # One SQL statement does the work, so there is no progress to report until it is done;
    # counting the rows first to show a total would cost a second pass over them. While it
    # runs, the row stays locked (select_for_update below): that, not a heartbeat, is how the
    # stale sweep tells a long statement from a dead worker.
    now = timezone.now()
    if not TaskLog.objects.filter(pk=task_log.pk, state__in=[TaskLog.State.QUEUED, TaskLog.State.RUNNING]).update(
        state=TaskLog.State.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1
    ):
        return  # finished already: a redelivered message
    try:
        _run_rule_once(task_log.pk, params["action"], numbers)
    except TRANSIENT_ERRORS:
        raise  # the database went away or chose this transaction to die: the task tries again
    except Exception as error:
        TaskLog.objects.filter(pk=task_log.pk).exclude(state=TaskLog.State.SUCCEEDED).update(
            state=TaskLog.State.FAILED, finished_at=timezone.now(), message=f"Failed, nothing was changed: {error}"
        )
        raise


@retry_on_deadlock
def _run_rule_once(task_log_id: int, action: str, numbers: QuerySet[BlacklistedNumber]) -> None:
    """A bulk-action job's one transaction: the rule and the TaskLog's result, unless done already."""
    task_log = TaskLog.objects.select_for_update().get(pk=task_log_id)
    if task_log.is_finished:
        return
    source = Source(Event.Via.BULK_TASK, task=task_log)
    outcome = RULES[action](numbers, task_log.created_by, source)
    task_log.changed, task_log.skipped = outcome.changed, outcome.skipped_total
    task_log.processed = task_log.total = outcome.changed + outcome.skipped_total
    task_log.state, task_log.finished_at = TaskLog.State.SUCCEEDED, timezone.now()
    task_log.message = outcome.skipped_text()
    task_log.save()


@retry_on_deadlock
def add_numbers(
    phones: Iterable[str], status: Status, user=None, source_task=None, source: Source | None = None
) -> MergeOutcome:
    """Add normalized (E.164) numbers at `status`; numbers already listed lower are raised to
    it, never lowered. Set-based: the batch goes into a temporary table, then one INSERT and
    one UPDATE join it to the blacklist, each writing its events (`added`, `raised`)."""
    unique = list(dict.fromkeys(phones))
    if malformed := next((phone for phone in unique if not _E164.match(phone)), None):
        raise ValueError(f"add_numbers() takes normalized E.164 numbers, not {malformed!r}")
    if not unique:
        return MergeOutcome(0, 0, 0)
    now = timezone.now()
    # Stored as the ORM stores it (on SQLite: naive UTC text, no "+00:00"), or keyset pages and
    # every other comparison with ORM-written rows go wrong: text compares as text there.
    at = connection.ops.adapt_datetimefield_value(now)
    user_id = user.pk if user else None
    task_id = source_task.pk if source_task else None
    source = source or Source(Event.Via.UPLOAD if source_task else Event.Via.OTHER, task=source_task)
    added, added_params = Change(Event.Action.ADDED, status, now, user, source).select_list()
    raise_to, raise_params = Change(Event.Action.RAISED, status, now, user, source).select_list()
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        _load_incoming(cursor, unique)
        # Insert first: a row another transaction adds meanwhile is then raised by the UPDATE.
        insert = (
            f"INSERT INTO {TABLE} (phone, status, added_at, added_by_id, status_changed_at,"  # noqa: S608 — table name ours, every value bound
            " status_changed_by_id, source_task_id)"
            " SELECT phone, %s, %s, %s, %s, %s, %s FROM incoming_phones WHERE true ORDER BY phone"
            " ON CONFLICT (phone) DO NOTHING"  # in phone order, as every writer takes its rows
        )
        insert_params = [status, at, user_id, at, user_id, task_id]
        if postgresql:  # the events from the INSERT's RETURNING, in the same statement
            cursor.execute(
                f"WITH new AS ({insert} RETURNING phone)"  # noqa: S608 — table name ours, every value bound
                f" {events.INSERT_EVENTS} SELECT phone, NULL, {added} FROM new",
                [*insert_params, *added_params],
            )
        else:  # the events first, in the same write-locked transaction
            cursor.execute(
                f"{events.INSERT_EVENTS} SELECT phone, NULL, {added} FROM incoming_phones"  # noqa: S608 — table name ours, every value bound
                f" WHERE NOT EXISTS (SELECT 1 FROM {TABLE} listed WHERE listed.phone = incoming_phones.phone)",
                added_params,
            )
            cursor.execute(insert, insert_params)
        new = cursor.rowcount
        raised = 0
        if status > Status.REVIEW:  # nothing is below "for review": skip a join that finds nothing
            update = f"UPDATE {TABLE} SET status = %s, status_changed_at = %s, status_changed_by_id = %s"  # noqa: S608 — table name ours, every value bound
            if postgresql:  # the previous status read (and locked) by the sub-select, for the events
                cursor.execute(
                    f"WITH raised AS ({update} FROM (SELECT listed.id, listed.status FROM {TABLE} listed"  # noqa: S608 — table name ours, every value bound
                    "  JOIN incoming_phones ON incoming_phones.phone = listed.phone"
                    "  WHERE listed.status < %s ORDER BY listed.phone FOR UPDATE OF listed) AS before"
                    f" WHERE {TABLE}.id = before.id RETURNING {TABLE}.phone, before.status)"
                    f" {events.INSERT_EVENTS} SELECT phone, status, {raise_to} FROM raised",
                    [status, at, user_id, status, *raise_params],
                )
            else:
                cursor.execute(
                    f"{events.INSERT_EVENTS} SELECT listed.phone, listed.status, {raise_to} FROM {TABLE} listed"  # noqa: S608 — table name ours, every value bound
                    " JOIN incoming_phones ON incoming_phones.phone = listed.phone WHERE listed.status < %s",
                    [*raise_params, status],
                )
                cursor.execute(
                    f"{update} FROM incoming_phones"
                    f" WHERE {TABLE}.phone = incoming_phones.phone AND {TABLE}.status < %s",
                    [status, at, user_id, status],
                )
            raised = cursor.rowcount
        cursor.execute("DROP TABLE incoming_phones")
    return MergeOutcome(new=new, raised=raised, unchanged=len(unique) - new - raised)


def _load_incoming(cursor, phones: list[str]) -> None:
    """Fill the temporary table `incoming_phones`: COPY on PostgreSQL, one executemany on SQLite."""
    cursor.execute("CREATE TEMPORARY TABLE incoming_phones (phone varchar(16) PRIMARY KEY)")
    if connection.vendor == "postgresql":
        cursor.copy_expert("COPY incoming_phones (phone) FROM STDIN", io.StringIO("\n".join(phones) + "\n"))
    else:
        cursor.executemany("INSERT INTO incoming_phones (phone) VALUES (%s)", [(phone,) for phone in phones])


# Importing an uploaded CSV file: the upload view and `import_blacklist` store it with a queued
# TaskLog (save_upload), the worker or the command runs it (import_numbers).

PROGRESS_EVERY = 5_000  # rows between progress commits, so the Tasks Logs page sees a job move
MAX_ATTEMPTS = 3
# A lost connection (the database restarted or failed over), or races lost RACE_TRIES times over
# (Busy): worth another try a moment later, unlike a bug or a bad file. The tasks retry these
# (blacklist/tasks.py).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
ADDED_AS = {Status.REVIEW: "for review", Status.APPROVED: "as approved", Status.PERMANENT: "as permanently approved"}


def save_upload(csv_file: csv_files.CsvFile, status: Status, user=None) -> TaskLog:
    """Store a checked file with a queued import TaskLog, in one transaction; the caller sends
    the task once it commits (`delay_on_commit`) or runs it in the foreground."""
    with transaction.atomic():
        task_log = TaskLog.objects.create(
            kind=TaskLog.Kind.IMPORT,
            file_name=csv_file.name[:255],
            created_by=user,
            total=csv_file.rows,
            params={"status": int(status)},
        )
        Upload.objects.create(task_log=task_log, content=csv_file.text, encoding=csv_file.encoding, size=csv_file.size)
    return task_log


def import_numbers(task_log: TaskLog, on_progress: Callable[[int, int], None] | None = None) -> TaskLog:
    """Import the file stored with an import TaskLog and record what happened on it.

    Reading and checking the rows commits progress every PROGRESS_EVERY rows; the merge, the
    rejected rows and the counts then commit together, once. So a second run (a redelivered or
    swept task) finds the job finished and changes nothing, and a run that crashed before that
    commit left nothing behind: the next one gives the same result and counts."""
    started = TaskLog.objects.filter(pk=task_log.pk, state__in=[TaskLog.State.QUEUED, TaskLog.State.RUNNING])
    now = timezone.now()
    if not started.update(state=TaskLog.State.RUNNING, started_at=now, updated_at=now, processed=0,
                          attempts=F("attempts") + 1):
        return TaskLog.objects.get(pk=task_log.pk)
    try:
        checked = _check_rows(task_log, on_progress)
        return _merge_once(task_log.pk, checked)
    except TRANSIENT_ERRORS:
        logger.warning("Import %s met a transient database error; it will be tried again", task_log.pk)
        raise
    except Exception as error:
        logger.exception("Import %s failed", task_log.pk)
        now = timezone.now()
        TaskLog.objects.filter(pk=task_log.pk).exclude(state=TaskLog.State.SUCCEEDED).update(
            state=TaskLog.State.FAILED, finished_at=now, updated_at=now,
            message=f"The import failed and added nothing: {error}",
        )
        raise


@retry_on_deadlock
def _merge_once(task_log_id: int, checked: "_CheckedRows") -> TaskLog:
    """An import's one transaction: the merge, the rejected rows and the counts, unless done already."""
    task_log = TaskLog.objects.select_for_update().get(pk=task_log_id)
    if task_log.is_finished:  # another run of the same job got here first
        return task_log
    status = Status(task_log.params["status"])
    outcome = add_numbers(checked.phones, status, task_log.created_by, source_task=task_log)
    RejectedRow.objects.bulk_create(checked.rejected, batch_size=PROGRESS_EVERY)
    task_log.total = task_log.processed = checked.total
    task_log.new, task_log.raised, task_log.unchanged = outcome.new, outcome.raised, outcome.unchanged
    task_log.duplicates, task_log.invalid = checked.duplicates, len(checked.rejected)
    task_log.state = TaskLog.State.SUCCEEDED
    task_log.finished_at = task_log.updated_at = timezone.now()
    task_log.message = f"New numbers were added {ADDED_AS[status]}." + (
        f" {task_log.invalid:,} row(s) were not phone numbers: see below." if task_log.invalid else ""
    )
    task_log.save()
    return task_log


@dataclass
class _CheckedRows:
    total: int = 0
    duplicates: int = 0
    phones: list[str] = field(default_factory=list)  # valid and unique, in file order
    rejected: list[RejectedRow] = field(default_factory=list)


def _check_rows(task_log: TaskLog, on_progress) -> _CheckedRows:
    """Normalize every row of the stored file once, committing progress as it goes."""
    text = Upload.objects.values_list("content", flat=True).get(task_log=task_log)
    checked, seen = _CheckedRows(), set()
    rows = csv_files.data_rows(text)
    while chunk := list(itertools.islice(rows, PROGRESS_EVERY)):
        for line, value in chunk:
            phone, reason = normalized(value)
            if reason:
                checked.rejected.append(RejectedRow(task_log=task_log, line=line, value=value[:100], reason=reason))
            elif phone in seen:
                checked.duplicates += 1
            else:
                seen.add(phone)
                checked.phones.append(phone)
        checked.total += len(chunk)
        TaskLog.objects.filter(pk=task_log.pk, state=TaskLog.State.RUNNING).update(
            processed=checked.total, updated_at=timezone.now()
        )
        if on_progress:
            on_progress(checked.total, task_log.total)
    return checked


def stale_after() -> timedelta:
    """How long an unfinished job's row may stand still before the sweep sends it again; a
    running import writes progress far more often (settings.TASK_STALE_SECONDS)."""
    return timedelta(seconds=settings.TASK_STALE_SECONDS)


def _given_up(kind: str) -> str:
    what = ("importing this file", "added. Upload the file again") if kind == TaskLog.Kind.IMPORT else (
        "running this action", "changed. Run it again")
    return (f"The worker stopped {MAX_ATTEMPTS} times while {what[0]}, so it was given up; nothing was"
            f" {what[1]} to retry.")


def sweep_stale_jobs() -> list[tuple[str, int]]:
    """Jobs left queued or running with nobody working on them (the worker died, or the message
    never reached the broker): fail those that died MAX_ATTEMPTS times, and return the others'
    (kind, id) to send again; safe, since a job runs to the end only once.

    A job is stale when its row stopped moving and no transaction holds it locked. An import's
    merge and a bulk action's one statement hold their row locked however long they take, so
    `skip_locked` passes them over (PostgreSQL); on SQLite the sweep's own write lock waits for
    them to finish (or times out, and the next sweep tries again)."""
    now = timezone.now()
    with transaction.atomic():
        stale = list(
            TaskLog.objects.select_for_update(skip_locked=True)
            .filter(state__in=[TaskLog.State.QUEUED, TaskLog.State.RUNNING], updated_at__lt=now - stale_after())
            .values_list("kind", "pk", "state", "attempts")
        )
        again = []
        for kind, pk, state, attempts in stale:
            if state == TaskLog.State.RUNNING and attempts >= MAX_ATTEMPTS:
                fail_job(pk, _given_up(kind))
            else:
                again.append((kind, pk))
        TaskLog.objects.filter(pk__in=[pk for _, pk in again]).update(updated_at=now)  # next sweep waits again
    return again


def fail_job(task_log_id: int, message: str) -> None:
    """Mark a job that cannot go on failed with a reason for people, unless it already finished."""
    now = timezone.now()
    TaskLog.objects.filter(pk=task_log_id, state__in=[TaskLog.State.QUEUED, TaskLog.State.RUNNING]).update(
        state=TaskLog.State.FAILED, finished_at=now, updated_at=now, message=message
    )
