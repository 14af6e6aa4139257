import json
from datetime import date, datetime

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from . import deadlines
from .phones import format_phone


class Status(models.IntegerChoices):
    """Ordered: a number's status may be raised by adding it again, never lowered that way."""

    REVIEW = 1, "For review"
    APPROVED = 2, "Approved"
    PERMANENT = 3, "Permanently approved"


class Channel(models.TextChoices):
    """How a request to be listed reached us."""

    PHONE = "phone", "Phone call"
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"
    WEB = "web", "Web form"
    LETTER = "letter", "Letter"
    API = "api", "API"
    UPLOAD = "upload", "Upload"
    OTHER = "other", "Other"


class Reason(models.Model):
    """Why a number is listed: a category Managers keep (add, rename; not delete while in use).

    `slug` is what the API takes and never changes when the category is renamed. Built in
    (migration 0007): the seven of the compliance issue, *Consumer request* first, the default.
    """

    DEFAULT = "consumer_request"

    slug = models.SlugField(max_length=40, unique=True, help_text="Its name in the API; kept when renamed.")
    name = models.CharField(max_length=60, unique=True)
    expirable = models.BooleanField(
        default=False, help_text="Numbers listed for this reason may be given an expiry date."
    )
    retained = models.BooleanField(
        default=False,
        help_text="The consumer's own request: kept RETENTION_YEARS after it arrived; removing it "
        "earlier takes a Manager's written justification.",
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.name


# slug, name, expirable, retained: what migration 0007 made (its own frozen copy) and
# default_reason_id makes again should the table be empty (a test database's flush).
BUILT_IN_REASONS = [
    ("consumer_request", "Consumer request", False, True),
    ("consent_revoked", "Consent revoked", False, True),
    ("litigator", "Litigator / legal", False, False),
    ("complaint", "Complaint", False, False),
    ("wrong_number", "Wrong number", True, False),
    ("internal_policy", "Internal policy", True, False),
    ("other", "Other", False, False),
]


def default_reason_id() -> int:
    """The id of *Consumer request*, the reason of a request that gives none."""
    try:
        return Reason.objects.values_list("pk", flat=True).get(slug=Reason.DEFAULT)
    except Reason.DoesNotExist:
        for slug, name, expirable, retained in BUILT_IN_REASONS:
            Reason.objects.get_or_create(
                slug=slug, defaults={"name": name, "expirable": expirable, "retained": retained}
            )
        return Reason.objects.values_list("pk", flat=True).get(slug=Reason.DEFAULT)


def _retained_at(now: datetime) -> Q:
    """NumberQuerySet.retained's condition; the reasons are a sub-select (a tiny table), not a
    join, so a DELETE built on it locks the numbers only."""
    return Q(reason__in=Reason.objects.filter(retained=True).values("pk"),
             received_at__gt=deadlines.retention_cutoff(now))


TABS = ("review", "approved")  # the two list tabs of Blacklists Management


class NumberQuerySet(models.QuerySet):
    def for_tab(self, tab: str):
        """The numbers a list tab shows: `review` or `approved`."""
        if tab not in TABS:
            raise ValueError(f"unknown tab {tab!r}")
        return self.for_review() if tab == "review" else self.approved()

    def for_review(self):
        return self.filter(status=Status.REVIEW)

    def approved(self):
        """The Blacklisted Leads tab: approved and permanently approved."""
        return self.filter(status__gte=Status.APPROVED)

    def changeable(self):
        """All but permanently approved numbers, which nothing may change or remove."""
        return self.exclude(status=Status.PERMANENT)

    def overdue(self, today: date | None = None):
        """Numbers for review whose deadline (the last day to honour them) is before `today`."""
        return self.filter(status=Status.REVIEW, deadline__lt=today or timezone.localdate())

    def due_soon(self, today: date | None = None):
        """Numbers for review due today or within DUE_SOON_BUSINESS_DAYS business days (not overdue)."""
        today = today or timezone.localdate()
        return self.filter(status=Status.REVIEW, deadline__gte=today, deadline__lte=deadlines.due_soon_until(today))
    def retained(self, now: datetime):
        """Numbers kept for retention at `now`: listed for a retained reason (the consumer's own
        request) received less than RETENTION_YEARS before. services.remove leaves them unless a
        Manager writes a justification (docs/compliance.md)."""
        return self.filter(_retained_at(now))

    def removable(self, now: datetime):
        """What removing may delete at `now` without a justification: changeable, not retained."""
        return self.changeable().exclude(_retained_at(now))

    def expired(self, now: datetime):
        """Numbers whose expiry has come (served by the partial index on expires_at); never
        permanent ones, which nothing removes."""
        return self.changeable().filter(expires_at__lte=now)

    def with_prefix(self, e164_prefix: str):
        """Numbers starting with a normalized prefix (`+1415555`): served by the phone index."""
        return self.filter(phone__startswith=e164_prefix)

    def bulk_create(self, objs, *args, **kwargs):
        """As Model.save() does, each number's deadline follows from its received date unless given."""
        objs = list(objs)
        for number in objs:
            number.set_deadline()
        return super().bulk_create(objs, *args, **kwargs)

    def count_estimate(self, exact_below: int = 50_000) -> tuple[int, bool]:
        """(count, exact?) without counting millions of rows on a page view.

        On PostgreSQL the planner's estimate comes first (a fraction of a millisecond); only
        when it is small is the count made exact, and even then under a 25 ms statement
        timeout, falling back to the estimate. SQLite, the small embedded default, counts.
        """
        queryset = self.order_by()
        if queryset.query.is_empty():
            return 0, True
        if connections[self.db].vendor != "postgresql":
            return queryset.count(), True
        plan = json.loads(queryset.explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= exact_below:
            return estimate, False
        try:
            with transaction.atomic(using=self.db), connections[self.db].cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), set_config('statement_timeout', '25', true)"
                )
                previous, _ = cursor.fetchone()
                count = queryset.count()
                # Restore it: inside an outer transaction, SET LOCAL would outlive this block.
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count, True
        except DatabaseError:  # the timeout: a cheap-looking count that was not
            return estimate, False


class BlacklistedNumber(models.Model):
    """A phone number the dialer must not call.

    Permanently approved rows cannot be changed or deleted: the services skip them, and
    database triggers (migration 0002) refuse any UPDATE of their status or phone, or any
    DELETE, from whatever path. Note for SQLite: Django rebuilds a table on most ALTERs, which
    drops its triggers; a migration that alters this table must re-create them (tests check).
    """

    # E.164 is at most 15 digits after the "+". unique=True gives the exact-lookup index (the
    # dialer's check, the merge on upload); on PostgreSQL Django adds a varchar_pattern_ops
    # twin ("…_phone_…_like") that serves the prefix search `phone LIKE '+1415555%'`.
    phone = models.CharField("number", max_length=16, unique=True)
    status = models.PositiveSmallIntegerField(choices=Status, default=Status.REVIEW)
    added_at = models.DateTimeField("added", default=timezone.now)
    # The "added by" filter uses the default foreign-key index.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField("status changed", default=timezone.now)
    # No index: nothing lists numbers by who last changed them.
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The "source upload" filter uses the default foreign-key index.
    source_task = models.ForeignKey(
        "tasks_logs.TaskLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers"
    )

    # Why and when it was asked for (docs/compliance.md). The services set them from the upload
    # form, hand entry or the API; adding a number again keeps the earliest request.
    reason = models.ForeignKey(Reason, on_delete=models.PROTECT, default=default_reason_id, related_name="numbers")
    channel = models.CharField(max_length=8, choices=Channel, default=Channel.OTHER)
    received_at = models.DateTimeField("request received", default=timezone.now)
    deadline = models.DateField("honour by", help_text="received + HONOUR_WITHIN_BUSINESS_DAYS business days")
    note = models.CharField(max_length=500, blank=True, default="")
    expires_at = models.DateTimeField("expires", null=True, blank=True)
    source_line = models.PositiveIntegerField("line in the upload", null=True, blank=True)

    objects = NumberQuerySet.as_manager()

    class Meta:
        permissions = [  # roles/groups.py gives them to roles; the built-in add/change/delete/view are used too
            ("add_approved", "Can add numbers approved (the approval checkboxes)"),
            ("approve_permanently", "Can approve numbers permanently"),
            ("remove_retained", "Can remove numbers kept for retention, with a written justification"),
        ]
        indexes = [
            # The expiry task (blacklist.tasks.remove_expired): WHERE expires_at <= now, in batches;
            # partial, as most numbers never expire.
            models.Index(fields=["expires_at"], name="expiring", condition=Q(expires_at__isnull=False)),
            # Blacklisted Leads for Review tab: WHERE status = 1 ORDER BY added_at DESC, id DESC
            # (first pages and keyset pages alike), without touching approved rows.
            models.Index(
                fields=["-added_at", "-id"], name="review_newest_first", condition=Q(status=Status.REVIEW)
            ),
            # Blacklisted Leads tab: WHERE status >= 2 ORDER BY added_at DESC, id DESC.
            models.Index(
                fields=["-added_at", "-id"],
                name="approved_newest_first",
                condition=Q(status__gte=Status.APPROVED),
            ),
            # Each tab sorted by last status change (either direction: the index is read backwards):
            # WHERE status = 1 ORDER BY status_changed_at DESC, id DESC, and the same for status >= 2.
            models.Index(
                fields=["-status_changed_at", "-id"],
                name="review_by_status_change",
                condition=Q(status=Status.REVIEW),
            ),
            models.Index(
                fields=["-status_changed_at", "-id"],
                name="approved_by_status_change",
                condition=Q(status__gte=Status.APPROVED),
            ),
            # The review tab by deadline (docs/compliance.md): its Overdue and Due soon filters
            # (WHERE status = 1 AND deadline < today, or BETWEEN), sorted oldest deadline first
            # with keyset pages, and the overdue count in its tab label.
            models.Index(fields=["deadline", "id"], name="review_by_deadline", condition=Q(status=Status.REVIEW)),
        ]

    def __str__(self):
        return self.phone

    def save(self, *args, **kwargs):
        self.set_deadline()
        super().save(*args, **kwargs)

    def set_deadline(self) -> None:
        if self.deadline is None:
            self.deadline = deadlines.honour_by(self.received_at)

    @property
    def display_phone(self) -> str:
        return format_phone(self.phone)

    @property
    def is_permanent(self) -> bool:
        return self.status == Status.PERMANENT
