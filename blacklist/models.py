import json
from contextlib import nullcontext
from datetime import date, datetime

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from . import deadlines
from .phones import PREFIX_MARK, format_phone


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


class DncList(models.Model):
    """A named Do-Not-Call list (docs/lists.md). Every entry is on exactly one list; a number may
    be on several. The built-in *Internal* list is always there and is what every path uses when
    it names no list; Managers add named lists ("Campaign: Solar West", "Client: Acme"), rename
    and archive them. Archived lists take no new entries and still block."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal (built in)"
        NAMED = "named", "Named list"

    INTERNAL_NAME = "Internal"

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True, default="")
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.NAMED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    archived_at = models.DateTimeField("archived", null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "DNC list"
        permissions = [("manage_lists", "Can add, rename, archive and delete lists (the Lists page)")]
        constraints = [
            # "Acme" and "ACME" are one name to people: a second is a form error (lists.ListForm).
            models.UniqueConstraint(Lower("name"), name="list_name_unique"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="internal"), name="one_internal_list"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_internal(self) -> bool:
        return self.kind == self.Kind.INTERNAL

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def internal_list_id() -> int:
    """The id of the built-in Internal list, the list of every entry that names none (made by
    migration 0010; made again should the table be empty, as after a test database's flush)."""
    try:
        return DncList.objects.values_list("pk", flat=True).get(kind=DncList.Kind.INTERNAL)
    except DncList.DoesNotExist:
        internal, _ = DncList.objects.get_or_create(
            kind=DncList.Kind.INTERNAL, defaults={"name": DncList.INTERNAL_NAME,
                                                  "description": "Every number that is on no other list."}
        )
        return internal.pk


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

    def in_list(self, dnc_list: "DncList | int | None"):
        """The entries of one list; None: of every list ("All lists")."""
        return self if dnc_list is None else self.filter(dnc_list=dnc_list)

    def prefixes(self):
        """Prefix entries ("+1201*"), which block every number they start."""
        return self.filter(phone__endswith=PREFIX_MARK)

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
        return count_estimates([self], exact_below)[0]


def count_estimates(querysets: list, exact_below: int = 50_000) -> list[tuple[int, bool]]:
    """NumberQuerySet.count_estimate of each queryset (all on one database), the estimates of all
    of them from one EXPLAIN (of their UNION ALL: the plan's Append node has each arm's estimate,
    in order), so a page asks the planner once for its tabs' counts."""
    found: list[tuple[int, bool] | None] = [(0, True) if queryset.query.is_empty() else None for queryset in querysets]
    asked = [queryset.order_by() for queryset, done in zip(querysets, found, strict=True) if done is None]
    if not asked:
        return found  # type: ignore[return-value]  # every one (0, True)
    database = asked[0].db
    if connections[database].vendor != "postgresql":
        counts = iter([(queryset.count(), True) for queryset in asked])
        return [done or next(counts) for done in found]
    estimates = _estimates(asked, database)
    small = [queryset for queryset, estimate in zip(asked, estimates, strict=True) if estimate < exact_below]
    exact = iter(_exact_counts(small, [estimate for estimate in estimates if estimate < exact_below]))
    counts = iter([(estimate, False) if estimate >= exact_below else next(exact) for estimate in estimates])
    return [done or next(counts) for done in found]


def _estimates(querysets: list, database: str) -> list[int]:
    """The planner's row estimate of each queryset, from one EXPLAIN when it has one arm each."""
    connection = connections[database]
    querysets = [queryset.values("pk") for queryset in querysets]  # the same rows, one column each (the arms match)
    parts = [queryset.query.get_compiler(database).as_sql() for queryset in querysets]
    sql = " UNION ALL ".join(f"({part})" for part, _ in parts) if len(parts) > 1 else parts[0][0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", [param for _, params in parts for param in params])
        (plan,) = cursor.fetchone()
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    arms = [top] if len(parts) == 1 else top.get("Plans", [])
    if len(arms) == len(parts) and (len(parts) == 1 or top["Node Type"] == "Append"):
        return [int(arm["Plan Rows"]) for arm in arms]
    # An arm the planner proved empty is left out of the Append, and a parallel plan (a Gather
    # over a Parallel Append) orders its arms by cost: ask each alone.
    return [int(json.loads(queryset.explain(format="json"))[0]["Plan"]["Plan Rows"]) for queryset in querysets]


EXACT_COUNT_TIMEOUT_MS = 25  # a count the planner thought small that takes longer shows the estimate
# The timeout for the counts, and back to what it was in the same statement as the counts: a stall of
# the machine after them (at the COMMIT) must not be timed. `blacklist.timeout_before` keeps it meanwhile.
_TIMED = ("SELECT set_config('blacklist.timeout_before', current_setting('statement_timeout'), true),"
          " set_config('statement_timeout', %s, true);"
          " SELECT {counts}, set_config('statement_timeout', current_setting('blacklist.timeout_before'), true)")


def _exact_counts(querysets: list, estimates: list[int]) -> list[tuple[int, bool]]:
    """The counts of `querysets`, each under a statement timeout of EXACT_COUNT_TIMEOUT_MS, else
    its estimate.

    One round trip for all of them: the timeout set and the counts in one message of two
    statements (PostgreSQL times each statement of a message on its own, the second one under the
    timeout the first set), the count's statement setting the timeout back as its last column.
    Outside a transaction the message is a transaction of its own, which PostgreSQL commits untimed;
    inside one, a savepoint keeps a cancelled count from aborting it. Five round trips before
    (BEGIN, set, count, set back, COMMIT) cost a filtered page about 1 ms. Should the counts
    together take longer than the timeout, each is asked again alone, as before."""
    if not querysets:
        return []
    found = _timed_counts(querysets)
    if found is not None:
        return [(count, True) for count in found]
    if len(querysets) == 1:
        return [(estimates[0], False)]
    return [_exact_counts([queryset], [estimate])[0] for queryset, estimate in zip(querysets, estimates, strict=True)]


def _timed_counts(querysets: list) -> list[int] | None:
    """The counts under the timeout (_TIMED), or None when it cancelled them."""
    database = querysets[0].db
    connection = connections[database]
    parts = [queryset.values("pk").query.get_compiler(database).as_sql() for queryset in querysets]
    counts = ", ".join(f"(SELECT count(*) FROM ({sql}) AS counted)" for sql, _ in parts)  # noqa: S608 — the ORM's SQL
    params = [str(EXACT_COUNT_TIMEOUT_MS), *[param for _, params in parts for param in params]]
    try:
        with transaction.atomic(using=database) if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(_TIMED.format(counts=counts), params)
                *found, _ = cursor.fetchone()
    except DatabaseError:  # the timeout: cheap-looking counts that were not
        return None
    return found


def _list_tab_indexes(name: str, order: list[str]) -> list[models.Index]:
    """One list's two tabs (review: status = 1, approved: status >= 2) in one order."""
    return [
        models.Index(fields=["dnc_list", *order], name=f"list_review_{name}", condition=Q(status=Status.REVIEW)),
        models.Index(fields=["dnc_list", *order], name=f"list_approved_{name}",
                     condition=Q(status__gte=Status.APPROVED)),
    ]


class BlacklistedNumber(models.Model):
    """An entry of a DNC list: a phone number (or a prefix, "+1201*") the dialer must not call.

    Permanently approved rows cannot be changed or deleted: the services skip them, and
    database triggers (migration 0002, widened by 0010) refuse any UPDATE of their status, phone
    or list, or any DELETE, from whatever path. Note for SQLite: Django rebuilds a table on most ALTERs, which
    drops its triggers; a migration that alters this table must re-create them (tests check).
    """

    # E.164 is at most 15 digits after the "+"; a prefix entry ends in PREFIX_MARK ("+1201*",
    # docs/lists.md). The unique constraint (phone, dnc_list) gives the lookups their index: check
    # and scrub ask `phone = ANY(the number and each of its prefixes)`, any list or some. On
    # PostgreSQL the "phone_prefix_search" index (varchar_pattern_ops) serves `phone LIKE '+1415%'`.
    phone = models.CharField("number", max_length=16)
    dnc_list = models.ForeignKey(
        DncList, on_delete=models.PROTECT, default=internal_list_id, related_name="entries", verbose_name="list",
        db_index=False,  # the indexes below lead with it where a page needs it
    )
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
            ("add_approved", "Can add numbers as approved or approved permanently (the \"Add as\" choice)"),
            ("approve_permanently", "Can approve numbers permanently"),
            ("remove_retained", "Can remove numbers kept for retention, with a written justification"),
            ("add_prefix", "Can add prefix blocks"),  # `+1201*` on hand entry and in uploads
        ]
        constraints = [
            models.UniqueConstraint(fields=["phone", "dnc_list"], name="one_entry_per_list"),
        ]
        indexes = [
            models.Index(fields=["phone"], name="phone_prefix_search", opclasses=["varchar_pattern_ops"]),
            # The count of permanently approved numbers a bulk action skips (services.skipped_by_reason):
            # WHERE status = 3 AND phone LIKE '…%', found among the few permanent ones, not by
            # reading every matching number. Small: a number enters it once, when it becomes permanent.
            models.Index(fields=["phone"], name="permanent_by_phone", opclasses=["varchar_pattern_ops"],
                         condition=Q(status=Status.PERMANENT)),
            # The expiry task (blacklist.tasks.remove_expired): WHERE expires_at <= now, in batches;
            # partial, as most numbers never expire.
            models.Index(fields=["expires_at"], name="expiring", condition=Q(expires_at__isnull=False)),
            # The tabs of one list (Internal by default): WHERE dnc_list_id = %s AND status = 1
            # ORDER BY added_at DESC, id DESC (first pages and keyset pages alike), without touching
            # approved rows or other lists; the same for status >= 2, and for each sort.
            *_list_tab_indexes("newest_first", ["-added_at", "-id"]),
            *_list_tab_indexes("by_status_change", ["-status_changed_at", "-id"]),
            # Sorted by number: without these the page read the global (phone, list) index and fetched
            # every entry of the other tab before the first of its own (the approved tab of a list whose
            # lowest numbers are for review: 0.5 s a page at 10M).
            *_list_tab_indexes("by_number", ["phone", "id"]),
            # The review tab by deadline (docs/compliance.md): its Overdue and Due soon filters
            # (WHERE status = 1 AND deadline < today, or BETWEEN), sorted oldest deadline first
            # with keyset pages, and the overdue count in its tab label.
            models.Index(
                fields=["dnc_list", "deadline", "id"], name="list_review_by_deadline", condition=Q(status=Status.REVIEW)
            ),
            # "All lists": the tabs newest first and by status change, and the overdue count, over
            # every list (without them, a sort of every row of the tab: 3-6 s a page at 10M).
            models.Index(
                fields=["-added_at", "-id"], name="review_newest_first", condition=Q(status=Status.REVIEW)
            ),
            models.Index(
                fields=["-added_at", "-id"], name="approved_newest_first", condition=Q(status__gte=Status.APPROVED)
            ),
            models.Index(
                fields=["-status_changed_at", "-id"], name="review_by_status_change", condition=Q(status=Status.REVIEW)
            ),
            models.Index(
                fields=["-status_changed_at", "-id"], name="approved_by_status_change",
                condition=Q(status__gte=Status.APPROVED),
            ),
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
    def is_prefix(self) -> bool:
        return self.phone.endswith(PREFIX_MARK)

    @property
    def is_permanent(self) -> bool:
        return self.status == Status.PERMANENT


COVERAGE_COUNTED = 1_000  # listed numbers counted under a prefix entry; beyond, PostgreSQL's planner estimates
COVERAGE_ESTIMATED = 10_000  # above this planner's estimate, not even COVERAGE_COUNTED are counted


COVERAGE_BATCH = 100  # prefixes asked in one statement (SQLite allows 500 arms to a UNION ALL)


def numbers_under(prefixes: list[str]) -> dict[str, tuple[int, bool]]:
    """How many listed numbers (entries on any list; prefix entries not counted) each prefix
    entry (`+1201*`) covers: (count, exact?). For the tab page's prefixes only, never a scan of
    millions: on PostgreSQL the planner's estimate for the LIKE over phone_prefix_search comes
    first (a fraction of a millisecond); only a selective one is counted exactly, at most
    COVERAGE_COUNTED + 1 index entries. SQLite, the small embedded default, counts.

    Two statements for a whole page, whatever its prefixes (one pair per COVERAGE_BATCH): one
    EXPLAIN of a UNION ALL with an arm per prefix (the plan's Append node has each arm's estimate,
    in order), and one query of the selective ones' bounded counts, each a range of the index
    (a LATERAL subquery per prefix: planned once, where a UNION ALL of as many arms spent 0.1 ms
    planning each)."""
    found: dict[str, tuple[int, bool]] = {}
    unique = list(dict.fromkeys(prefixes))
    for start in range(0, len(unique), COVERAGE_BATCH):
        found.update(_numbers_under(unique[start:start + COVERAGE_BATCH]))
    return found


def _numbers_under(prefixes: list[str]) -> dict[str, tuple[int, bool]]:
    table = BlacklistedNumber._meta.db_table
    postgresql = connections["default"].vendor == "postgresql"
    patterns = [prefix.removesuffix(PREFIX_MARK) + "%" for prefix in prefixes]  # digits only: nothing to escape
    found: dict[str, tuple[int, bool]] = {}
    estimates = dict.fromkeys(prefixes, 0)
    with connections["default"].cursor() as cursor:
        if postgresql and prefixes:
            arms = " UNION ALL ".join([f"SELECT 1 FROM {table} WHERE phone LIKE %s"] * len(prefixes))  # noqa: S608 — table name ours, values bound
            cursor.execute(f"EXPLAIN (FORMAT JSON) {arms}", patterns)
            (plan,) = cursor.fetchone()
            top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            branches = [top] if len(prefixes) == 1 else top.get("Plans", []) if top["Node Type"] == "Append" else []
            # A parallel plan (Gather over a Parallel Append, which orders its arms by cost and
            # estimates per worker) or an arm left out: ask each prefix alone.
            if len(branches) != len(prefixes):
                branches = []
                for pattern in patterns:
                    cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE phone LIKE %s", [pattern])  # noqa: S608 — table name ours
                    (plan,) = cursor.fetchone()
                    branches.append((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
            for prefix, branch in zip(prefixes, branches, strict=True):
                estimates[prefix] = int(branch["Plan Rows"])
                if estimates[prefix] > COVERAGE_ESTIMATED:
                    found[prefix] = (estimates[prefix], False)
        counted = [prefix for prefix in prefixes if prefix not in found]
        if counted and postgresql:  # one index range a prefix, as LIKE 'digits%' reads it: [digits, digits + 1)
            starts = [prefix.removesuffix(PREFIX_MARK) for prefix in counted]
            cursor.execute(
                f"""SELECT p.n, (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE phone ~>=~ p.low AND phone ~<~ p.high
                                                        AND phone NOT LIKE %s LIMIT {COVERAGE_COUNTED + 1}) AS under)
                    FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS p(low, high, n)""",  # noqa: S608 — table name ours, values bound
                ["%" + PREFIX_MARK, starts, [start[:-1] + chr(ord(start[-1]) + 1) for start in starts]],
            )
        elif counted:
            arm = f"SELECT %s, (SELECT count(*) FROM {table} WHERE phone LIKE %s AND phone NOT LIKE %s)"  # noqa: S608 — table name ours, values bound
            cursor.execute(" UNION ALL ".join([arm] * len(counted)),
                           [value for n, prefix in enumerate(counted, 1)
                            for value in (n, prefix.removesuffix(PREFIX_MARK) + "%", "%" + PREFIX_MARK)])
        counts = dict(cursor.fetchall()) if counted else {}
        for n, prefix in enumerate(counted, 1):
            count = counts[n]
            exact = count <= COVERAGE_COUNTED or not postgresql
            found[prefix] = (count, True) if exact else (max(estimates[prefix], count), False)
    return found
