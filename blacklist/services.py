"""Every change to the blacklist goes through here: views, tasks, bulk actions, the admin.

Each rule is one set-based statement that starts from `changeable()`, so permanently
approved numbers are skipped (and counted) whatever the caller passes in.
"""

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from tasks_logs.models import TaskLog

from .filters import matching_numbers
from .models import BlacklistedNumber, Status

TABLE = BlacklistedNumber._meta.db_table
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


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


# status a number may have → the word for it when a rule skips it
_SKIP_REASONS = {
    "approve": {Status.APPROVED: "already approved", Status.PERMANENT: "permanently approved"},
    "approve_permanently": {Status.PERMANENT: "already permanently approved"},
    "unapprove": {Status.REVIEW: "already for review", Status.PERMANENT: "permanently approved"},
    "remove": {Status.PERMANENT: "permanently approved"},
}


def skipped_by_reason(numbers: QuerySet[BlacklistedNumber], rule: str) -> dict[str, int]:
    """Count, by reason, the numbers in the selection that `rule` will leave alone."""
    reasons = _SKIP_REASONS[rule]
    counts = numbers.order_by().filter(status__in=reasons).values_list("status").annotate(n=Count("pk"))
    return {reasons[status]: n for status, n in sorted(counts) if n}


def _change_status(numbers, rule: str, from_statuses: list[Status], to: Status, user) -> Outcome:
    with transaction.atomic():
        skipped = skipped_by_reason(numbers, rule)
        changed = (
            numbers.changeable()
            .filter(status__in=from_statuses)
            .update(status=to, status_changed_at=timezone.now(), status_changed_by=user)
        )
    return Outcome(changed, skipped)


def approve(numbers: QuerySet[BlacklistedNumber], user=None) -> Outcome:
    """For review → approved."""
    return _change_status(numbers, "approve", [Status.REVIEW], Status.APPROVED, user)


def approve_permanently(numbers: QuerySet[BlacklistedNumber], user=None) -> Outcome:
    """For review or approved → permanently approved: from then on nothing may change it."""
    return _change_status(numbers, "approve_permanently", [Status.REVIEW, Status.APPROVED], Status.PERMANENT, user)


def unapprove(numbers: QuerySet[BlacklistedNumber], user=None) -> Outcome:
    """Approved → for review. Permanently approved numbers stay as they are."""
    return _change_status(numbers, "unapprove", [Status.APPROVED], Status.REVIEW, user)


def remove(numbers: QuerySet[BlacklistedNumber], user=None) -> Outcome:
    """Delete from the blacklist, so the numbers can be called again; never permanent ones."""
    with transaction.atomic():
        skipped = skipped_by_reason(numbers, "remove")
        deleted, _ = numbers.changeable().delete()
    return Outcome(deleted, skipped)


RULES = {"approve": approve, "approve_permanently": approve_permanently, "unapprove": unapprove, "remove": remove}


def run_bulk_action(task_log: TaskLog) -> None:
    """Apply the rule a bulk-action TaskLog names to the numbers its filter matches.

    The rule and the TaskLog's result commit together, so a redelivered task finds the job
    finished and does nothing: the counts are those of the one run that changed the rows."""
    params = task_log.params
    numbers = matching_numbers(params["tab"], params["query"])
    if numbers is None:
        TaskLog.objects.filter(pk=task_log.pk).update(
            state=TaskLog.State.FAILED, finished_at=timezone.now(), message="The filter is not valid. Nothing was changed."
        )
        return
    TaskLog.objects.filter(pk=task_log.pk, state=TaskLog.State.QUEUED).update(
        state=TaskLog.State.RUNNING, started_at=timezone.now(), total=numbers.count()
    )
    try:
        with transaction.atomic():
            task_log = TaskLog.objects.select_for_update().get(pk=task_log.pk)
            if task_log.is_finished:
                return
            outcome = RULES[params["action"]](numbers, task_log.created_by)
            task_log.changed, task_log.skipped = outcome.changed, outcome.skipped_total
            task_log.processed = task_log.total = outcome.changed + outcome.skipped_total
            task_log.state, task_log.finished_at = TaskLog.State.SUCCEEDED, timezone.now()
            task_log.message = outcome.skipped_text()
            task_log.save()
    except Exception as error:
        TaskLog.objects.filter(pk=task_log.pk).update(
            state=TaskLog.State.FAILED, finished_at=timezone.now(), message=f"Failed, nothing was changed: {error}"
        )
        raise


def add_numbers(phones: Iterable[str], status: Status, user=None, source_task=None) -> MergeOutcome:
    """Add normalized (E.164) numbers at `status`; numbers already listed lower are raised to
    it, never lowered. Set-based: the batch goes into a temporary table, then one INSERT and
    one UPDATE join it to the blacklist."""
    unique = list(dict.fromkeys(phones))
    if malformed := next((phone for phone in unique if not _E164.match(phone)), None):
        raise ValueError(f"add_numbers() takes normalized E.164 numbers, not {malformed!r}")
    if not unique:
        return MergeOutcome(0, 0, 0)
    now = timezone.now()
    user_id = user.pk if user else None
    task_id = source_task.pk if source_task else None
    with transaction.atomic(), connection.cursor() as cursor:
        _load_incoming(cursor, unique)
        # Insert first: a row another transaction adds meanwhile is then raised by the UPDATE.
        cursor.execute(
            f"INSERT INTO {TABLE} (phone, status, added_at, added_by_id, status_changed_at,"
            " status_changed_by_id, source_task_id)"
            " SELECT phone, %s, %s, %s, %s, %s, %s FROM incoming_phones WHERE true"
            " ON CONFLICT (phone) DO NOTHING",
            [status, now, user_id, now, user_id, task_id],
        )
        new = cursor.rowcount
        cursor.execute(
            f"UPDATE {TABLE} SET status = %s, status_changed_at = %s, status_changed_by_id = %s"
            f" FROM incoming_phones WHERE {TABLE}.phone = incoming_phones.phone AND {TABLE}.status < %s",
            [status, now, user_id, status],
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
