from django.conf import settings
from django.db import models
from django.utils import timezone

from blacklist.actions import enum_members
from blacklist.deadlines import business_days_late
from blacklist.models import Channel, Status


class Event(models.Model):
    """One change to one number: who did what, when, from where. Append-only.

    Written by blacklist.services in the same statement (PostgreSQL) or transaction (SQLite) as
    the change itself (see audit.events). Database triggers (migration 0001) refuse any UPDATE
    or DELETE of an event from whatever path, as for permanent numbers. The number is kept as
    text and the actor as text too, so an event outlives the number, the user and the API key;
    the ids beside them are for filtering and links only (no foreign-key constraint: deleting a
    user must not try to update events).
    """

    # Adding numbers writes ADDED or RAISED; each action on numbers then writes its own event
    # (APPROVED, …, REMOVED), declared with the action in blacklist/actions.py. Stored values.
    Action = models.TextChoices(  # type: ignore[call-overload]  # django-stubs types the one-string form only
        "Action",
        [("ADDED", ("added", "Added")), ("RAISED", ("raised", "Status raised by adding again")),
         ("REPEATED", ("repeated", "Requested again")), *enum_members("event"), ("EXPIRED", ("expired", "Expired"))],
        module=__name__, qualname="Event.Action",
    )

    class Via(models.TextChoices):
        HAND = "hand", "Added by hand"
        UPLOAD = "upload", "Upload"
        API = "api", "API"
        ROW = "row", "Row action"
        BULK = "bulk", "Bulk action"
        BULK_TASK = "bulk_task", "Bulk action (background)"
        ADMIN = "admin", "Django admin"
        OTHER = "other", "Shell or script"

    phone = models.CharField("number", max_length=16)
    # The list of the entry the event is about (docs/lists.md); events from before lists were
    # made are Internal's (migration 0005). An id without a constraint, like the user's: a list
    # that has events is never deleted (blacklist.lists), only archived.
    dnc_list = models.ForeignKey(
        "blacklist.DncList", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, related_name="+", verbose_name="list",
    )
    action = models.CharField(max_length=24, choices=Action)
    from_status = models.PositiveSmallIntegerField(choices=Status, null=True, blank=True)
    to_status = models.PositiveSmallIntegerField(choices=Status, null=True, blank=True)
    at = models.DateTimeField("when", default=timezone.now)
    actor = models.CharField(max_length=200, help_text="the user name, or the API key, as it was then")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, related_name="+",
    )
    api_key = models.ForeignKey(
        "api.ApiKey", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+",
    )
    via = models.CharField("source", max_length=16, choices=Via)
    task = models.ForeignKey(  # the upload's import, or the background bulk action
        "tasks_logs.TaskLog", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False, related_name="+",
    )
    # The request the event is about, as it was then (docs/compliance.md): on added, raised and
    # repeated, the incoming request's reason, channel, received date and note; on every other
    # action the number's own, and the note is the actor's (a justification). The deadline is
    # always the number's after the change, so "honoured late" is `at` past it. Text, not ids:
    # the record outlives a renamed or deleted reason.
    reason = models.CharField(max_length=60, blank=True, default="")
    channel = models.CharField(max_length=8, choices=Channel, blank=True, default="")
    received_at = models.DateTimeField("request received", null=True, blank=True)
    deadline = models.DateField("honour by", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    line = models.PositiveIntegerField("line in the upload", null=True, blank=True)

    class Meta:
        indexes = [
            # Activity page: ORDER BY at DESC, id DESC (with or without filters), and the chart's date range.
            models.Index(fields=["-at", "-id"], name="event_newest_first"),
            # A number's history: WHERE phone = %s ORDER BY at DESC, id DESC.
            models.Index(fields=["phone", "-at", "-id"], name="event_number_history"),
        ]
        permissions = [("view_compliance_report", "Can see the compliance report")]

    def __str__(self):
        return f"{self.phone} {self.action} by {self.actor}"

    @property
    def honours_request(self) -> bool:
        """Whether this event honoured the request: took the number from review (or from not being
        listed) to approved or permanently approved. Approving late is allowed; the event keeps the
        deadline it was measured against."""
        return (self.to_status or 0) >= Status.APPROVED and self.from_status in (None, Status.REVIEW)

    @property
    def days_late(self) -> int:
        """Business days past the deadline this event honoured the request (0: in time, or not an
        event that honours one). deadlines.business_days_late does the counting."""
        return business_days_late(self.deadline, self.at) if self.honours_request else 0


# The compliance report's summary (audit/report.py, docs/compliance.md "Compliance report"):
# folded from the events by SQL, so the report reads a few hundred rows, not millions of events.


def _tally_list():
    """The list a tally or an open request is about: an id like Event's (a list with events is
    never deleted, only archived); Internal's for those from before lists (migration 0006)."""
    return models.ForeignKey(
        "blacklist.DncList", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
        verbose_name="list",
    )


class DayCount(models.Model):
    """How many events of one action on one list happened on one day (in TIME_ZONE when it was
    counted), in one or more rows to be summed: the Activity chart's figures, read instead of
    counting the events (audit/chart.py).

    Kept on PostgreSQL by a statement trigger on audit_event (migration 0007), so every writer,
    set-based or not, keeps it right with no code of its own: each statement inserts its own
    rows (never an upsert, so concurrent writers never wait for each other on a shared row),
    and audit.tasks.compact_day_counts sums them into one row per day, action and list (every
    few minutes, from the beat). Events are never changed nor deleted (their guards), so the
    counts only grow. SQLite keeps none: its chart counts events."""

    day = models.DateField()
    action = models.CharField(max_length=24)
    dnc_list = _tally_list()  # 0 for an event without a list
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "action"], name="daycount_day_action")]  # the chart's range

    def __str__(self):
        return f"{self.day} {self.action}: {self.n}"


class RequestTally(models.Model):
    """The requests received on one day (in TIME_ZONE) with one deadline on one list, and what
    became of them."""

    received_on = models.DateField()
    deadline = models.DateField()
    dnc_list = _tally_list()
    received = models.IntegerField(default=0)
    honoured = models.IntegerField(default=0)  # in time or late
    late = models.IntegerField(default=0)
    late_days = models.IntegerField(default=0)  # their total, for the average
    late_days_max = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)  # removed (or expired) before being honoured

    class Meta:
        constraints = [
            # The fold's upsert (ON CONFLICT), and the report's range on received_on (all lists or one).
            models.UniqueConstraint(fields=["received_on", "deadline", "dnc_list"], name="request_tally_day_list"),
        ]

    def __str__(self):
        return f"{self.received_on} (by {self.deadline}): {self.received}"


class OpenRequest(models.Model):
    """An entry's request (a number on one list) not yet honoured nor withdrawn, as far as the
    fold has read: where its tally is, so that honouring, withdrawing or an earlier repeat can move it."""

    phone = models.CharField(max_length=16)
    dnc_list = _tally_list()
    received_at = models.DateTimeField()
    received_on = models.DateField()
    deadline = models.DateField()

    class Meta:
        constraints = [
            # The fold's joins by entry, and its ON CONFLICT.
            models.UniqueConstraint(fields=["phone", "dnc_list"], name="open_request_per_entry"),
        ]

    def __str__(self):
        return self.phone


class TallyMark(models.Model):
    """One row: the last event folded into the tallies."""

    last_event_id = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.last_event_id)
