"""Every change to the blacklist goes through here: views, tasks, bulk actions, the admin.

Each rule is one set-based statement that starts from `changeable()`, so permanently
approved numbers are skipped (and counted) whatever the caller passes in. Each also records an
audit event per changed number, set-based in the same statement or transaction (audit.events):
callers say where the change came from with a `source` (default: Event.Via.OTHER).
"""

import functools
import io
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Lookup, QuerySet
from django.db.models.expressions import Col
from django.db.models.sql.where import AND, WhereNode
from django.utils import timezone

from audit import events
from audit.events import Change, Source
from audit.models import Event
from tasks_logs import jobs
from tasks_logs.models import MergeProgress, RejectedRow, TaskLog, Upload

from . import csv_files, deadlines, request_details
from .actions import ACTIONS, JUSTIFICATION_MAX, RETAINED, RETAINED_PERMISSION, skip_sentence
from .deadlines import honour_by
from .filters import matching_numbers
from .models import BlacklistedNumber, DncList, NumberQuerySet, Status, default_reason_id, internal_list_id
from .phones import E164, PREFIX, normalized_entry
from .request_details import Entry, RequestDetails

TABLE = BlacklistedNumber._meta.db_table
logger = logging.getLogger(__name__)


# Writers racing for the same numbers (dialers, people, uploads, bulk actions): every statement
# that locks several numbers locks them in phone order (ORDER BY phone, here and in
# audit.events), so two of them cannot wait on each other in a circle. Should PostgreSQL still
# pick a transaction as a deadlock victim (or fail it for serialization), it runs again here.
RACE_TRIES = 5  # in all; a victim waited deadlock_timeout (1 s) already, so this stays short
_RACE_CODES = {"40P01", "40001"}  # PostgreSQL: deadlock_detected, serialization_failure


class ArchivedList(ValueError):
    """Adding to an archived list: it still blocks what it holds, and takes nothing new."""

    def __init__(self, dnc_list: DncList):
        super().__init__(f"The list “{dnc_list.name}” is archived: it takes no new numbers.")
        self.dnc_list = dnc_list


def refuse_archived(dnc_list: DncList) -> DncList:
    """The list, if it takes new entries; ArchivedList otherwise (its message says so)."""
    if dnc_list.is_archived:
        raise ArchivedList(dnc_list)
    return dnc_list


PREFIX_PERMISSION = "blacklist.add_prefix"  # prefix blocks on hand entry and in uploads (Managers)


def may_add_prefixes(user) -> bool:
    """Whether `user` may add prefix blocks; None is `manage.py import_blacklist` run without
    --user by whoever runs the server, who may."""
    return user is None or user.has_perm(PREFIX_PERMISSION)


class Busy(OperationalError):
    """A change the database kept cancelling for others changing the same numbers at the same
    time (or, on SQLite, whose write lock stayed taken past its timeout). Nothing was changed;
    the caller may send it again (the API answers 503, the pages say so). An OperationalError,
    so the tasks try it again later like any transient database error (jobs.TRANSIENT_ERRORS)."""

    said = "Others were changing the same numbers at that moment, so nothing was changed. Please try again."


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


def kept_busy(error: OperationalError) -> bool:
    """Whether `error` means others were changing the same numbers and nothing was changed: Busy,
    or a race lost (or a write lock waited out) inside a caller's transaction, which cannot start
    over (the Django admin's delete page runs in one)."""
    return (isinstance(error, Busy) or write_lock_timed_out(error)
            or getattr(error.__cause__, "pgcode", None) in _RACE_CODES)


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
        return " ".join(skip_sentence(reason, count) for reason, count in self.skipped.items())


@dataclass(frozen=True)
class MergeOutcome:
    """What adding a batch of numbers did: new rows, raised statuses, the rest left as they were."""

    new: int
    raised: int
    unchanged: int


def skipped_by_reason(
    numbers: NumberQuerySet, rule: str, now: datetime | None = None, justification: str = ""
) -> dict[str, int]:
    """Count, by reason, the numbers in the selection that `rule` will leave alone at `now`
    (those kept for retention too, unless a justification is given)."""
    action = ACTIONS[rule]
    reasons = action.skips
    skipped = {}
    # A tab's selection holds one tab's statuses: approving the review tab skips no approved ones,
    # and that is known without reading its million numbers.
    if counted := [status for status in reasons if status in statuses_possible(numbers)]:
        counts = numbers.order_by().filter(status__in=counted).values_list("status").annotate(n=Count("pk"))
        skipped = {reasons[status]: n for status, n in sorted(counts) if n}
    if action.keeps_retained and not justification:
        if retained := numbers.order_by().changeable().retained(now or timezone.now()).count():
            skipped[RETAINED] = retained
    return skipped


def statuses_possible(numbers: QuerySet[BlacklistedNumber]) -> set[Status]:
    """The statuses the selection's own conditions leave possible: those its top-level (AND-ed)
    comparisons of `status` with a value allow (for_review, approved, changeable); every status
    when it has none, or conditions too complex to read here."""
    where = numbers.query.where
    possible = set(Status)
    if where.connector != AND or where.negated:
        return possible
    for condition in where.children:
        negated = isinstance(condition, WhereNode) and condition.negated and len(condition.children) == 1
        lookup = condition.children[0] if isinstance(condition, WhereNode) and negated else condition
        if not (isinstance(lookup, Lookup) and isinstance(lookup.lhs, Col) and lookup.lhs.target == _STATUS
                and lookup.lhs.alias == numbers.query.base_table and lookup.lookup_name in _STATUS_TESTS
                and lookup.rhs_is_direct_value()):
            continue
        allowed = {status for status in Status if _STATUS_TESTS[lookup.lookup_name](status, lookup.rhs)}
        possible &= set(Status) - allowed if negated else allowed
    return possible


_STATUS = BlacklistedNumber._meta.get_field("status")
_STATUS_TESTS = {
    "exact": lambda status, value: status == value,
    "in": lambda status, values: status in values,
    "gt": lambda status, value: status > value,
    "gte": lambda status, value: status >= value,
    "lt": lambda status, value: status < value,
    "lte": lambda status, value: status <= value,
}


@retry_on_deadlock
def _change_status(numbers, rule: str, from_statuses: list[Status], to: Status, user, source) -> Outcome:
    now = timezone.now()
    change = Change(ACTIONS[rule].event.value, to, now, user, source or Source())
    values = {"status": to, "status_changed_at": now, "status_changed_by": user}
    if to == Status.PERMANENT:
        values["expires_at"] = None  # a permanent number never expires
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
def remove(numbers: NumberQuerySet, user=None, source: Source | None = None, justification: str = "") -> Outcome:
    """Delete from the blacklist, so the numbers can be called again; never permanent ones, nor
    those kept for retention (NumberQuerySet.retained) unless `user` may and writes why: the
    `justification`, recorded on each removed number's event."""
    justification = check_justification(justification, user)
    now = timezone.now()
    change = Change(ACTIONS["remove"].event.value, None, now, user, source or Source(), note=justification)
    skipped = skipped_by_reason(numbers, "remove", now, justification)
    deleted = events.delete(numbers.changeable() if justification else numbers.removable(now), change)
    return Outcome(deleted, skipped)


class NotJustified(ValueError):
    """A justification for removing numbers kept for retention that is refused: its message says why."""


def check_justification(justification: str, user) -> str:
    """The justification, stripped, if `user` may give one ("" for none); NotJustified otherwise."""
    justification = justification.strip()
    if not justification:
        return ""
    if len(justification) > JUSTIFICATION_MAX:
        raise NotJustified(f"The justification is {len(justification):,} characters long;"
                           f" at most {JUSTIFICATION_MAX} are kept.")
    if user is None or not user.has_perm(RETAINED_PERMISSION):
        raise NotJustified("Only a Manager may remove numbers kept for retention.")
    return justification


def last_kept_until(numbers: NumberQuerySet, now: datetime) -> datetime | None:
    """The latest end of retention among the selection's numbers kept for retention at `now`."""
    latest = numbers.changeable().retained(now).order_by("-received_at").values_list("received_at", flat=True).first()
    return deadlines.retained_until(latest) if latest else None


EXPIRY_BATCH = 10_000  # numbers per transaction of remove_expired: each holds its row locks briefly


def remove_expired(now: datetime | None = None, batch: int = EXPIRY_BATCH) -> int:
    """Remove the numbers whose expiry has come (never permanent ones), each with an `expired`
    event, `batch` at a time: one transaction each, its rows locked in phone order, so a million
    expiries never hold locks for long. Safe to run twice: what is gone is not found again."""
    now = now or timezone.now()
    change = Change(Event.Action.EXPIRED, None, now, None, Source(Event.Via.OTHER))
    removed = 0
    while (done := _remove_expired_batch(now, batch, change)) > 0:
        removed += done
        if done < batch:
            break
    return removed


@retry_on_deadlock
def _remove_expired_batch(now: datetime, batch: int, change: Change) -> int:
    expired = BlacklistedNumber.objects.expired(now)
    # The batch's ids first, read from the partial index in its order (no sort); the DELETE then
    # finds them by primary key and checks again, once they are locked, that they are expired.
    ids = list(expired.order_by("expires_at").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    with _by_primary_key():
        return events.delete(expired.filter(pk__in=ids), change)


@contextmanager
def _by_primary_key():
    """PostgreSQL, for this transaction's next statements only: plan for an SSD (random_page_cost
    1.1, not the spinning-disk default 4), so a batch of 10,000 ids among millions of numbers is
    found by primary key, not by scanning the table once per batch (4× slower at 2M numbers)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('random_page_cost'), set_config('random_page_cost', '1.1', true)")
        previous, _ = cursor.fetchone()
        yield
        # Restore it: inside a caller's transaction, a local setting would outlive this block.
        cursor.execute("SELECT set_config('random_page_cost', %s, true)", [previous])


# Each declared action's rule: the function above of the same name (a KeyError here names a
# declaration in blacklist/actions.py that has no rule yet).
RULES = {name: globals()[name] for name in ACTIONS}


def justified(justification: str) -> dict:
    """The keyword arguments that pass a justification to a rule, for the rules that take one
    (those that keep numbers for retention); none when there is none."""
    return {"justification": justification} if justification else {}


def run_bulk_action(task_log: TaskLog) -> None:
    """Apply the rule a bulk-action TaskLog names to the numbers its filter matches.

    The rule and the TaskLog's result commit together, so a redelivered task finds the job
    finished and does nothing: the counts are those of the one run that changed the rows."""
    params = task_log.params
    # Within the list the job was started on (None: every list); a job from before lists has
    # none recorded, and its query names none: Internal.
    numbers = matching_numbers(params["tab"], params["query"], params.get("list", "query"))
    if numbers is None:
        jobs.fail(task_log.pk, "The filter is not valid. Nothing was changed.")
        return
    # One SQL statement does the work, so there is no progress to report until it is done;
    # counting the rows first to show a total would cost a second pass over them. While it
    # runs, the row stays locked (jobs.locked): that, not a heartbeat, is how the stale sweep
    # tells a long statement from a dead worker.
    if not jobs.claim(task_log.pk, phase=TaskLog.Phase.CHANGING):
        return  # finished already: a redelivered message
    with jobs.failing(task_log.pk, "Failed, nothing was changed"):
        _run_rule_once(task_log.pk, params["action"], numbers)


@retry_on_deadlock
def _run_rule_once(task_log_id: int, action: str, numbers: QuerySet[BlacklistedNumber]) -> None:
    """A bulk-action job's one transaction: the rule and the TaskLog's result, unless done already."""
    if not (task_log := jobs.locked(task_log_id)):
        return
    give_bulk_statements_memory()
    source = Source(Event.Via.BULK_TASK, task=task_log)
    outcome = RULES[action](numbers, task_log.created_by, source, **justified(task_log.params.get("justification", "")))
    task_log.changed, task_log.skipped = outcome.changed, outcome.skipped_total
    task_log.processed = task_log.total = outcome.changed + outcome.skipped_total
    jobs.finish(task_log, outcome.skipped_text())


def give_bulk_statements_memory() -> None:
    """PostgreSQL: BULK_WORK_MEM_MB as `work_mem` until the caller's transaction ends. A bulk action
    over all matching sorts its rows into phone order to lock them and writes an event per row,
    which the Activity counts' trigger reads back from a transition table: with the default 4 MB
    each spills a million rows to temporary files and back (docs/benchmarks.md, issue 17)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [f"{settings.BULK_WORK_MEM_MB}MB"])


NO_DETAILS = RequestDetails()  # the defaults: Consumer request, received when added


@retry_on_deadlock
def add_numbers(
    entries: Iterable[str | Entry], status: Status, user=None, source_task=None, source: Source | None = None,
    details: RequestDetails = NO_DETAILS, dnc_list: DncList | None = None,
) -> MergeOutcome:
    """Add normalized (E.164) numbers, or prefix entries (`+1201*`), to a list (default: Internal)
    at `status`, each with its request details (its Entry's, else `details`); a number given twice
    counts once, as first given. An archived list takes none (ArchivedList).

    A number already on the list is merged, never lowered: raised to `status` if it was lower; its
    request's received date becomes the earlier of the two (the earliest request counts, and the
    deadline with it); its reason and note stay, and a repeat that says something new (another
    reason, a note, an earlier date) is recorded as a `repeated` event (`raised` if it raised
    the status). Set-based: the batch goes into a temporary table, then one INSERT and one
    UPDATE join it to the blacklist, each writing its events."""
    batch: dict[str, Entry] = {}
    for entry in entries:
        entry = Entry(entry) if isinstance(entry, str) else entry
        batch.setdefault(entry.phone, entry)
    if malformed := next((phone for phone in batch if not (E164.match(phone) or PREFIX.match(phone))), None):
        raise ValueError(f"add_numbers() takes normalized E.164 numbers or prefixes, not {malformed!r}")
    if not batch:
        return MergeOutcome(0, 0, 0)
    list_id = dnc_list.pk if dnc_list is not None else internal_list_id()
    now = timezone.now()
    # Stored as the ORM stores it (on SQLite: naive UTC text, no "+00:00"), or keyset pages and
    # every other comparison with ORM-written rows go wrong: text compares as text there.
    at = connection.ops.adapt_datetimefield_value(now)
    user_id = user.pk if user else None
    task_id = source_task.pk if source_task else None
    source = source or Source(Event.Via.UPLOAD if source_task else Event.Via.OTHER, task=source_task)
    added, added_params = Change(Event.Action.ADDED, status, now, user, source).select_list()
    raise_to, raise_params = Change(Event.Action.RAISED, status, now, user, source).select_list()
    repeated = Change(Event.Action.REPEATED, None, now, user, source)  # to_status: the number's, unchanged
    repeat_pg, repeat_pg_params = repeated.select_list(to_status="n.to_status")
    repeat_lite, repeat_lite_params = repeated.select_list(to_status="listed.status")
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_open_list(cursor, list_id)
        _load_incoming(cursor, _incoming_rows(batch.values(), details, now))
        # Insert first: a row another transaction adds meanwhile is then merged by the UPDATE.
        insert = (
            f"INSERT INTO {TABLE} (phone, dnc_list_id, status, added_at, added_by_id, status_changed_at,"  # noqa: S608 — table name ours, every value bound
            " status_changed_by_id, source_task_id, reason_id, channel, received_at, deadline, note, expires_at,"
            " source_line) SELECT phone, %s, %s, %s, %s, %s, %s, %s, reason_id, channel, received_at, deadline,"
            " note, expires_at, line FROM incoming_phones WHERE true ORDER BY phone"
            " ON CONFLICT (phone, dnc_list_id) DO NOTHING"  # in phone order, as every writer takes its rows
        )
        insert_params = [list_id, status, at, user_id, at, user_id, task_id]
        facts = events.number_facts(from_status="NULL", note="n.note", line="n.source_line" if postgresql else "n.line",
                                    dnc_list="n.dnc_list_id" if postgresql else "%s")
        # The numbers it added leave incoming_phones then: what is left is merged below.
        if postgresql:  # the events from the INSERT's RETURNING, in the same statement
            cursor.execute(
                f"WITH n AS ({insert} RETURNING phone, dnc_list_id, reason_id, channel, received_at, deadline,"  # noqa: S608 — table name ours, every value bound
                " note, source_line),"
                " gone AS (DELETE FROM incoming_phones USING n WHERE incoming_phones.phone = n.phone)"
                f" {events.INSERT_EVENTS} SELECT {facts}, {added} FROM n",
                [*insert_params, *added_params],
            )
            new = cursor.rowcount
        else:  # the events first, in the same write-locked transaction
            cursor.execute(
                f"{events.INSERT_EVENTS} SELECT {facts}, {added} FROM incoming_phones n"  # noqa: S608 — table name ours, every value bound
                f" WHERE NOT EXISTS (SELECT 1 FROM {TABLE} listed WHERE listed.phone = n.phone"
                " AND listed.dnc_list_id = %s)",
                [list_id, *added_params, list_id],
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE new_phones AS SELECT phone FROM incoming_phones n"  # noqa: S608 — table name ours
                f" WHERE NOT EXISTS (SELECT 1 FROM {TABLE} listed WHERE listed.phone = n.phone"
                " AND listed.dnc_list_id = %s)",
                [list_id],
            )
            cursor.execute(insert, insert_params)
            new = cursor.rowcount
            cursor.execute("DELETE FROM incoming_phones WHERE phone IN (SELECT phone FROM new_phones)")
            cursor.execute("DROP TABLE new_phones")
        if new == len(batch):  # all new (an upload's usual case): nothing is left to merge
            raised = 0
        elif postgresql:
            raised = _merge_postgresql(
                cursor, list_id, status, [at, user_id], (raise_to, raise_params), (repeat_pg, repeat_pg_params)
            )
        else:
            raised = _merge_sqlite(
                cursor, list_id, status, [at, user_id], (raise_to, raise_params), (repeat_lite, repeat_lite_params)
            )
        cursor.execute("DROP TABLE incoming_phones")
    return MergeOutcome(new=new, raised=raised, unchanged=len(batch) - new - raised)


def _lock_open_list(cursor, list_id: int) -> None:
    """ArchivedList unless the list takes new entries, and (PostgreSQL) a share lock on its row
    until the add commits: an archive (lists.archive, an UPDATE of that row) waits for the adds
    under way, and an add that starts after it sees it archived. On SQLite the write lock, taken
    when the transaction begins (IMMEDIATE), does the same."""
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    cursor.execute(f"SELECT archived_at FROM {DncList._meta.db_table} WHERE id = %s{lock}", [list_id])  # noqa: S608 — table name ours
    if cursor.fetchone()[0] is not None:
        raise ArchivedList(DncList.objects.get(pk=list_id))


# A listed number an incoming request changes: a higher status, an earlier request (`i` is
# incoming_phones, `listed` the number), or one that says something new, recorded as an event.
# The rows the INSERT just added match none of these (they hold what they were given), so they
# are not merged again; nor is a request repeated word for word (the same file sent twice).
_RAISES = "listed.status < %s"
_EARLIER = "i.received_at < listed.received_at"
# Its expiry: the longest a request asks for (none: never), and none once permanent.
_LONGER = "(listed.expires_at IS NOT NULL AND (i.expires_at IS NULL OR i.expires_at > listed.expires_at))"
_SAYS_MORE = (f"({_RAISES} OR {_EARLIER} OR {_LONGER} OR i.reason_id <> listed.reason_id"
              " OR (i.note <> '' AND i.note <> listed.note))")
_PERMANENT = int(Status.PERMANENT)


def _merge_postgresql(cursor, list_id: int, status: Status, changed_at_by: list, raised_event, repeated_event) -> int:
    """The batch's numbers already on the list, merged in one statement that writes their events."""
    (raise_to, raise_params), (repeat, repeat_params) = raised_event, repeated_event
    at, user_id = changed_at_by
    facts = events.number_facts(note="n.note", line="n.line")
    cursor.execute(
        f"WITH n AS (UPDATE {TABLE} SET status = GREATEST(before.status, %s),"  # noqa: S608 — table name ours, every value bound
        f" status_changed_at = CASE WHEN before.status < %s THEN %s ELSE {TABLE}.status_changed_at END,"
        f" status_changed_by_id = CASE WHEN before.status < %s THEN %s ELSE {TABLE}.status_changed_by_id END,"
        f" received_at = LEAST({TABLE}.received_at, before.in_received_at),"
        f" deadline = LEAST({TABLE}.deadline, before.in_deadline),"
        f" expires_at = CASE WHEN GREATEST(before.status, %s) = {_PERMANENT} OR {TABLE}.expires_at IS NULL"
        f"  OR before.in_expires_at IS NULL THEN NULL ELSE GREATEST({TABLE}.expires_at, before.in_expires_at) END"
        " FROM (SELECT listed.id, listed.status, i.reason_id, i.channel, i.received_at AS in_received_at,"
        f"  i.deadline AS in_deadline, i.expires_at AS in_expires_at, i.note, i.line FROM {TABLE} listed"
        f"  JOIN incoming_phones i ON i.phone = listed.phone WHERE listed.dnc_list_id = %s AND {_SAYS_MORE}"
        "  ORDER BY listed.phone FOR UPDATE OF listed) AS before"
        f" WHERE {TABLE}.id = before.id RETURNING {TABLE}.phone, {TABLE}.dnc_list_id, before.status,"
        f" {TABLE}.status AS to_status,"
        f" before.reason_id, before.channel, before.in_received_at AS received_at, {TABLE}.deadline,"
        " before.note, before.line),"
        f" raised AS ({events.INSERT_EVENTS} SELECT {facts},"
        f" {raise_to} FROM n WHERE n.to_status > n.status RETURNING 1),"
        f" repeated AS ({events.INSERT_EVENTS} SELECT {facts},"
        f" {repeat} FROM n WHERE n.to_status = n.status RETURNING 1)"
        " SELECT (SELECT count(*) FROM raised), (SELECT count(*) FROM repeated)",
        [status, status, at, status, user_id, status, list_id, status, *raise_params, *repeat_params],
    )
    raised, _ = cursor.fetchone()
    return raised


def _merge_sqlite(cursor, list_id: int, status: Status, changed_at_by: list, raised_event, repeated_event) -> int:
    """The same on SQLite (no DML in a CTE): the events first, then the one UPDATE, in the
    transaction that holds SQLite's single write lock."""
    (raise_to, raise_params), (repeat, repeat_params) = raised_event, repeated_event
    facts = (
        "listed.phone, listed.dnc_list_id, listed.status, reason.name, i.channel, i.received_at,"
        " MIN(listed.deadline, i.deadline),"
        " i.note, i.line"
    )
    joined = (
        f"FROM {TABLE} listed JOIN incoming_phones i ON i.phone = listed.phone AND listed.dnc_list_id = %s"
        f" JOIN {events.REASONS} reason ON reason.id = i.reason_id"
    )
    cursor.execute(
        f"{events.INSERT_EVENTS} SELECT {facts}, {raise_to} {joined} WHERE {_RAISES}",
        [*raise_params, list_id, status],
    )
    raised = cursor.rowcount
    cursor.execute(
        f"{events.INSERT_EVENTS} SELECT {facts}, {repeat} {joined} WHERE NOT {_RAISES} AND {_SAYS_MORE}",
        [*repeat_params, list_id, status, status],
    )
    at, user_id = changed_at_by
    cursor.execute(
        f"UPDATE {TABLE} SET status = MAX({TABLE}.status, %s),"  # noqa: S608 — table name ours, every value bound
        f" status_changed_at = CASE WHEN {TABLE}.status < %s THEN %s ELSE {TABLE}.status_changed_at END,"
        f" status_changed_by_id = CASE WHEN {TABLE}.status < %s THEN %s ELSE {TABLE}.status_changed_by_id END,"
        f" received_at = MIN({TABLE}.received_at, i.received_at), deadline = MIN({TABLE}.deadline, i.deadline),"
        f" expires_at = CASE WHEN MAX({TABLE}.status, %s) = {_PERMANENT} OR {TABLE}.expires_at IS NULL"
        f"  OR i.expires_at IS NULL THEN NULL ELSE MAX({TABLE}.expires_at, i.expires_at) END"
        f" FROM incoming_phones i WHERE {TABLE}.phone = i.phone AND {TABLE}.dnc_list_id = %s AND ({TABLE}.status < %s"
        f" OR i.received_at < {TABLE}.received_at OR {_LONGER.replace('listed.', TABLE + '.')})",
        [status, status, at, status, user_id, status, list_id, status],
    )
    return raised


def _incoming_rows(entries: Iterable[Entry], batch_details: RequestDetails, now) -> list[tuple]:
    """incoming_phones' rows: each entry with its request details as stored (deadline computed)."""
    default_reason = None
    deadline_of = functools.cache(honour_by)  # a batch shares a few received dates at most
    adapt = connection.ops.adapt_datetimefield_value
    stored: dict[int, tuple] = {}  # the columns of each RequestDetails (by id: a file's rows share one)
    rows = []
    for entry in entries:
        details = entry.details or batch_details
        if (columns := stored.get(id(details))) is None:
            if details.reason is not None:
                reason_id = details.reason.pk
            else:
                reason_id = default_reason = default_reason or default_reason_id()
            received = details.received_at or now
            columns = stored[id(details)] = (
                reason_id, details.channel, adapt(received), str(deadline_of(received)), details.note,
                adapt(details.expires_at) if details.expires_at else None,
            )
        rows.append((entry.phone, *columns, entry.line))
    return rows


def _load_incoming(cursor, rows: list[tuple]) -> None:
    """Fill the temporary table `incoming_phones`: COPY on PostgreSQL, one executemany on SQLite."""
    cursor.execute(
        "CREATE TEMPORARY TABLE incoming_phones (phone varchar(16) PRIMARY KEY, reason_id integer NOT NULL,"
        " channel varchar(8) NOT NULL, received_at timestamp with time zone NOT NULL, deadline date NOT NULL,"
        " note varchar(500) NOT NULL, expires_at timestamp with time zone, line integer)"
    )
    if connection.vendor == "postgresql":  # phones are E.164 and lines numbers: nothing of theirs to escape
        details = functools.cache(lambda columns: "\t".join(_copy_field(value) for value in columns))
        text = "".join(f"{row[0]}\t{details(row[1:7])}\t{_copy_field(row[7])}\n" for row in rows)
        cursor.copy_expert("COPY incoming_phones FROM STDIN", io.StringIO(text))
    else:
        cursor.executemany("INSERT INTO incoming_phones VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)


def _copy_field(value) -> str:
    """One field of COPY's text format: NULL as \\N, the separators escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


# Importing an uploaded CSV file: the upload view and `import_blacklist` store it with a queued
# TaskLog (save_upload), the worker or the command runs it (import_numbers).

PROGRESS_EVERY = 5_000  # rows between progress commits, so the Tasks Logs page sees a job move
# Rows per statement of an import's merge: between them its progress is written (PostgreSQL),
# few enough statements that their own cost stays within a few percent of the merge's.
MERGE_CHUNK = 10_000
ADDED_AS = {Status.REVIEW: "for review", Status.APPROVED: "as approved", Status.PERMANENT: "as approved permanently"}


def save_upload(
    csv_file: csv_files.CsvFile, status: Status, user=None, details: RequestDetails = NO_DETAILS,
    dnc_list: DncList | None = None, awaiting: bool = False,
) -> TaskLog:
    """Store a checked file with a queued import TaskLog, in one transaction, with the request
    details (checked: forms.RequestDetailsForm) for all its numbers and the list they go into
    (default: Internal; an archived one is refused, ArchivedList); the caller sends the task
    once it commits (`delay_on_commit`) or runs it in the foreground. `awaiting`: stored for
    its uploader to confirm first (confirm_upload), not queued."""
    list_id = refuse_archived(dnc_list).pk if dnc_list is not None else internal_list_id()
    with transaction.atomic():
        task_log = TaskLog.objects.create(
            kind=TaskLog.Kind.IMPORT,
            state=TaskLog.State.AWAITING if awaiting else TaskLog.State.QUEUED,
            file_name=csv_file.name[:255],
            created_by=user,
            total=csv_file.rows,
            params={"status": int(status), "details": request_details.to_params(details), "dnc_list": list_id},
        )
        Upload.objects.create(task_log=task_log, content=csv_file.text, encoding=csv_file.encoding, size=csv_file.size)
    return task_log


def confirm_upload(task_log: TaskLog) -> bool:
    """Queue an upload that awaited its uploader's confirmation: False if it no longer awaits
    (confirmed already, in another tab, or dropped). The caller sends the task on commit."""
    return bool(TaskLog.objects.filter(pk=task_log.pk, state=TaskLog.State.AWAITING).update(
        state=TaskLog.State.QUEUED, updated_at=timezone.now()
    ))


def cancel_upload(task_log: TaskLog) -> bool:
    """Delete an upload that awaits confirmation, with its stored file: False if it no longer awaits."""
    return TaskLog.objects.filter(pk=task_log.pk, state=TaskLog.State.AWAITING).delete()[0] > 0


def import_numbers(task_log: TaskLog, on_progress: Callable[[int, int], None] | None = None) -> TaskLog:
    """Import the file stored with an import TaskLog and record what happened on it.

    Its phases show on the TaskLog: reading the file, checking its rows (progress committed
    every PROGRESS_EVERY rows), merging them into the list. The merge, the rejected rows and
    the counts commit together, once. So a second run (a redelivered or swept task) finds the
    job finished and changes nothing, and a run that crashed before that commit left nothing
    behind: the next one gives the same result and counts."""
    if jobs.claim(task_log.pk, processed=0, phase=TaskLog.Phase.READING):
        with jobs.failing(task_log.pk, "The import failed and added nothing"):
            checked = _check_rows(task_log, on_progress)
            jobs.set_phase(task_log.pk, TaskLog.Phase.MERGING)  # before the merge locks the row
            _merge_once(task_log.pk, checked)
    return TaskLog.objects.get(pk=task_log.pk)


@retry_on_deadlock
def _merge_once(task_log_id: int, checked: "_CheckedRows") -> None:
    """An import's one transaction: the merge, the rejected rows and the counts, unless done already.

    The merge runs MERGE_CHUNK rows a statement, in phone order across the statements as within
    each (the order every writer locks numbers in), reporting its progress between them."""
    if not (task_log := jobs.locked(task_log_id)):  # another run of the same job got here first
        return
    status = Status(task_log.params["status"])
    details = request_details.from_params(task_log.params.get("details"))  # a job queued before: the defaults
    dnc_list = upload_list(task_log)
    entries = sorted(checked.entries, key=lambda entry: entry.phone)
    new = raised = 0
    with jobs.merge_reporter(task_log_id, len(entries)) as report:
        for start in range(0, len(entries), MERGE_CHUNK):
            outcome = add_numbers(entries[start:start + MERGE_CHUNK], status, task_log.created_by,
                                  source_task=task_log, details=details, dnc_list=dnc_list)
            new, raised = new + outcome.new, raised + outcome.raised
            report(min(start + MERGE_CHUNK, len(entries)))
    MergeProgress.objects.filter(task_log_id=task_log_id).delete()  # done: the counts say it now
    RejectedRow.objects.bulk_create(checked.rejected, batch_size=PROGRESS_EVERY)
    task_log.total = task_log.processed = checked.total
    task_log.new, task_log.raised, task_log.unchanged = new, raised, len(entries) - new - raised
    task_log.duplicates, task_log.invalid = checked.duplicates, len(checked.rejected)
    jobs.finish(task_log, f"New numbers were added {ADDED_AS[status]}." + (
        f" {task_log.invalid:,} row(s) were rejected: see below." if task_log.invalid else ""
    ))


def upload_list(task_log: TaskLog) -> DncList | None:
    """The list an import adds to: the one chosen at upload (None: Internal, for a job queued
    before there were lists); ValueError if it is gone since."""
    if (list_id := task_log.params.get("dnc_list")) is None:
        return None
    if (dnc_list := DncList.objects.filter(pk=list_id).first()) is None:
        raise ValueError(f"The list it was uploaded into (#{list_id}) no longer exists.")
    return dnc_list


@dataclass
class _CheckedRows:
    total: int = 0
    duplicates: int = 0
    entries: list[Entry] = field(default_factory=list)  # valid and unique, in file order, with their line
    rejected: list[RejectedRow] = field(default_factory=list)


def _check_rows(task_log: TaskLog, on_progress) -> _CheckedRows:
    """Normalize every row of the stored file once, committing progress as it goes; prefix rows
    (`+1201*`) only for an uploader who may add them (may_add_prefixes), else rejected with why."""
    text = Upload.objects.values_list("content", flat=True).get(task_log=task_log)
    jobs.set_phase(task_log.pk, TaskLog.Phase.CHECKING)
    allow_prefix = may_add_prefixes(task_log.created_by)
    checked, seen = _CheckedRows(), set()
    rows = csv_files.data_rows(text)
    while chunk := list(itertools.islice(rows, PROGRESS_EVERY)):
        for line, value in chunk:
            phone, reason = normalized_entry(value, allow_prefix)
            if reason:
                checked.rejected.append(RejectedRow(task_log=task_log, line=line, value=value[:100], reason=reason))
            elif phone in seen:
                checked.duplicates += 1
            else:
                seen.add(phone)
                checked.entries.append(Entry(phone, None, line))
        checked.total += len(chunk)
        jobs.record_progress(task_log.pk, processed=checked.total)
        if on_progress:
            on_progress(checked.total, task_log.total)
    return checked
