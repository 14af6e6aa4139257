"""The compliance report (docs/compliance.md, "Compliance report"): per week or month of receipt,
how many requests were received, honoured in time, honoured late (and how late), withdrawn,
still open, and overdue.

The events are folded by SQL into RequestTally rows, one per day of receipt and deadline, so the
page reads a few hundred rows, never the millions of events: `fold()` reads the events written
since the last fold (TallyMark), set-based, a few statements whatever their number; the page
folds first, and a beat task does every minute, so a fold is small.

A request is one entry's: a number on one list (issue 15), so the same number requested on two
lists is two requests, each with its own outcome. It starts with the entry's `added` event. It is
honoured by the first event that put the entry at approved or above (the `added` event itself,
`raised`, `approved`, `approved_permanently`), withdrawn by a removal or expiry before that, and
open until either. An `OpenRequest` row keeps where an open request is tallied, so an earlier
repeat moves it with the entry's received date. The tallies are kept per list too, so the report
shows every list (the default) or one.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Max, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from blacklist.models import DncList, internal_list_id
from blacklist_admin.params import EARLIEST_DATE, LATEST_DATE

from .models import Event, OpenRequest, RequestTally, TallyMark

EVENTS = Event._meta.db_table
TALLIES = RequestTally._meta.db_table
OPEN = OpenRequest._meta.db_table
MARKS = TallyMark._meta.db_table
HONOURS = ("added", "raised", "approved", "approved_permanently")  # … when they leave it at approved or above
WITHDRAWALS = ("removed", "expired")
ACTIONS = (*HONOURS, "repeated", *WITHDRAWALS)  # what the fold reads; `unapproved` changes no request
APPROVED = 2  # Status.APPROVED: honoured from here up
LOCK_WAIT = "200ms"  # how long a fold waits for the event writers in progress (PostgreSQL)
PAGE_FOLD = 200_000  # the events a page view folds at most; a beat task folds the rest of a big backlog
TEMPORARY = ("fold_steps", "fold_groups", "fold_outcomes")


def fold(limit: int | None = None) -> int | None:
    """Fold the events written since the last fold into the tallies, the next `limit` at most
    (None: all). Returns the span of event ids left to fold (0: the tallies are current), or
    None if writers kept the events locked (the tallies stay as they were, without those)."""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:  # nothing new committed: no lock, no write, nothing to wait for
        done = TallyMark.objects.filter(pk=1).values_list("last_event_id", flat=True).first()
        if done is not None and _latest_event_id(cursor) <= done:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # One fold at a time: the mark's row lock. SQLite: a write takes the database's lock
        # first (reading first, a second fold would fail to write after the first committed).
        if not postgresql:
            cursor.execute(f"UPDATE {MARKS} SET last_event_id = last_event_id WHERE id = 1")  # noqa: S608 — table name ours
        since = TallyMark.objects.select_for_update().filter(pk=1).values_list("last_event_id", flat=True).first()
        if since is None:  # made by migration 0004; gone after a test database's flush
            since = TallyMark.objects.create(pk=1).last_event_id
        latest = _latest_event_id(cursor)
        if latest <= since:
            return 0  # as current as what is committed: writers in progress have ids above `since`
        if postgresql:
            # Wait for the transactions writing events to end, so no event with a lower id can
            # commit after this fold and be skipped; new writers wait for the fold (short).
            try:
                with transaction.atomic():
                    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
                    cursor.execute(f"LOCK TABLE {EVENTS} IN SHARE MODE")
            except OperationalError:
                return None
            latest = _latest_event_id(cursor)
        until = latest
        if limit is not None:  # the `limit`-th event after the mark, if there are so many
            cursor.execute(f"SELECT id FROM {EVENTS} WHERE id > %s ORDER BY id LIMIT 1 OFFSET %s", [since, limit - 1])  # noqa: S608 — table name ours
            until = (cursor.fetchone() or [latest])[0]
        if until > since:
            _fold(cursor, since, until, postgresql)
            TallyMark.objects.filter(pk=1).update(last_event_id=until)  # nothing written when nothing new
    return latest - until


def _latest_event_id(cursor) -> int:
    cursor.execute(f"SELECT max(id) FROM {EVENTS}")  # noqa: S608 — table name ours
    return cursor.fetchone()[0] or 0


def _fold(cursor, since: int, until: int, postgresql: bool) -> None:
    in_actions = ", ".join(f"'{action}'" for action in ACTIONS)
    honours, withdrawals = (", ".join(f"'{a}'" for a in actions) for actions in (HONOURS, WITHDRAWALS))
    decides = f"(action IN ({honours}) AND to_status >= {APPROVED}) OR action IN ({withdrawals})"
    received_on, received_params = connection.ops.datetime_cast_date_sql("received_at", [], settings.TIME_ZONE)
    decided_on, decided_params = connection.ops.datetime_cast_date_sql("decided_at", [], settings.TIME_ZONE)
    lateness = (f"({decided_on} - deadline)" if postgresql
                else f"CAST(julianday({decided_on}) - julianday(deadline) AS INTEGER)")
    greatest = "GREATEST" if postgresql else "max"
    for table in TEMPORARY:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    internal = internal_list_id()
    # Each entry's events (a number on a list) in order, numbered by request (`seq` 0: the
    # request open before them), with the earliest received date so far (an earlier repeat
    # moves the request). An event naming no list is Internal's, as every event before lists.
    cursor.execute(
        "CREATE TEMPORARY TABLE fold_steps AS SELECT *,"  # noqa: S608 — names and actions ours
        " MIN(received_at) OVER (PARTITION BY phone, dnc_list_id, seq ORDER BY id) AS earliest,"
        f" CASE WHEN {decides} THEN 1 ELSE 0 END AS decides FROM ("
        "  SELECT id, phone, COALESCE(dnc_list_id, %s) AS dnc_list_id, action, to_status, at, received_at, deadline,"
        "   SUM(CASE WHEN action = 'added' THEN 1 ELSE 0 END)"
        "    OVER (PARTITION BY phone, COALESCE(dnc_list_id, %s) ORDER BY id) AS seq"
        f"  FROM {EVENTS} WHERE id > %s AND id <= %s AND action IN ({in_actions})) AS e",
        [internal, internal, since, until],
    )
    # Temporary tables have no statistics until analyzed: without them PostgreSQL joined these
    # by nested loops (3 s for 10,000 events instead of 0.1 s).
    cursor.execute("CREATE INDEX fold_steps_id ON fold_steps (id)")
    if postgresql:
        cursor.execute("ANALYZE fold_steps")
    cursor.execute(
        "CREATE TEMPORARY TABLE fold_groups AS SELECT phone, dnc_list_id, seq,"
        " MIN(CASE WHEN decides = 1 THEN id END) AS decided_id, MIN(id) AS first_id, MAX(id) AS last_id"
        " FROM fold_steps GROUP BY phone, dnc_list_id, seq"
    )
    if postgresql:
        cursor.execute("ANALYZE fold_groups")
    # Each request the events touch: where it was tallied (an open one), and where it is now:
    # received the earliest date seen up to its outcome, its deadline the number's then.
    cursor.execute(
        f"CREATE TEMPORARY TABLE fold_outcomes AS SELECT *, {received_on} AS received_on,"  # noqa: S608 — names ours
        f" CASE WHEN outcome IN ({honours}) THEN {lateness} ELSE 0 END AS lateness FROM ("
        "  SELECT g.phone, g.dnc_list_id, g.seq, o.received_on AS old_on, o.deadline AS old_deadline,"
        "   d.action AS outcome,"
        "   d.at AS decided_at, s.deadline,"
        "   CASE WHEN o.received_at < s.earliest THEN o.received_at ELSE COALESCE(s.earliest, o.received_at) END"
        "    AS received_at"
        "  FROM fold_groups g JOIN fold_steps s ON s.id = COALESCE(g.decided_id, g.last_id)"
        "  LEFT JOIN fold_steps d ON d.id = g.decided_id"
        f"  LEFT JOIN {OPEN} o ON g.seq = 0 AND o.phone = g.phone AND o.dnc_list_id = g.dnc_list_id"
        "  JOIN fold_steps f ON f.id = g.first_id"  # an `added` event before issue 14 records no request
        "  WHERE (g.seq > 0 AND f.received_at IS NOT NULL) OR o.phone IS NOT NULL) AS r"
        " WHERE received_at IS NOT NULL AND deadline IS NOT NULL",
        [*received_params, *decided_params],
    )
    cursor.execute(
        f"INSERT INTO {TALLIES} (received_on, deadline, dnc_list_id, received, honoured, late, late_days,"  # noqa: S608 — names ours
        " late_days_max, withdrawn)"
        " SELECT received_on, deadline, dnc_list_id, SUM(received), SUM(honoured), SUM(late), SUM(late_days),"
        "  MAX(late_days), SUM(withdrawn) FROM ("
        "  SELECT received_on, deadline, dnc_list_id, 1 AS received,"
        f"   CASE WHEN outcome IN ({honours}) THEN 1 ELSE 0 END AS honoured,"
        "   CASE WHEN lateness > 0 THEN 1 ELSE 0 END AS late,"
        "   CASE WHEN lateness > 0 THEN lateness ELSE 0 END AS late_days,"
        f"   CASE WHEN outcome IN ({withdrawals}) THEN 1 ELSE 0 END AS withdrawn FROM fold_outcomes"
        "  UNION ALL"  # an open request that moved or ended leaves where it was tallied as received
        "  SELECT old_on, old_deadline, dnc_list_id, -1, 0, 0, 0, 0 FROM fold_outcomes WHERE old_on IS NOT NULL"
        " ) AS changes WHERE true GROUP BY received_on, deadline, dnc_list_id"
        " ON CONFLICT (received_on, deadline, dnc_list_id) DO UPDATE SET"
        f" received = {TALLIES}.received + excluded.received, honoured = {TALLIES}.honoured + excluded.honoured,"
        f" late = {TALLIES}.late + excluded.late, late_days = {TALLIES}.late_days + excluded.late_days,"
        f" late_days_max = {greatest}({TALLIES}.late_days_max, excluded.late_days_max),"
        f" withdrawn = {TALLIES}.withdrawn + excluded.withdrawn"
    )
    cursor.execute(
        f"DELETE FROM {OPEN} WHERE (phone, dnc_list_id) IN"  # noqa: S608 — names ours
        " (SELECT phone, dnc_list_id FROM fold_outcomes WHERE old_on IS NOT NULL)"
    )
    cursor.execute(
        f"INSERT INTO {OPEN} (phone, dnc_list_id, received_at, received_on, deadline)"  # noqa: S608 — names ours
        " SELECT phone, dnc_list_id, received_at, received_on, deadline FROM fold_outcomes WHERE outcome IS NULL"
        " ON CONFLICT (phone, dnc_list_id) DO NOTHING"
    )
    for table in TEMPORARY:
        cursor.execute(f"DROP TABLE {table}")


def refold() -> None:
    """Tally every event again from the first (after a change of TIME_ZONE, say)."""
    with transaction.atomic():
        RequestTally.objects.all().delete()
        OpenRequest.objects.all().delete()
        TallyMark.objects.update_or_create(pk=1, defaults={"last_event_id": 0})
        fold()


MAX_RANGE_DAYS = 366 * 10  # ten years a page: 522 weeks at most
PERIODS = {"week": TruncWeek, "month": TruncMonth}


@dataclass
class Row:
    start: date
    end: date  # the period's last day
    received: int = 0
    in_time: int = 0
    late: int = 0
    late_days: int = 0
    late_days_max: int = 0
    withdrawn: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def late_days_average(self) -> float | None:
        return round(self.late_days / self.late, 1) if self.late else None


def period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def period_end(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=6)
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def default_first(last: date, period: str, count: int = 12) -> date:
    """The first day of the `count` periods up to the one holding `last`."""
    start = period_start(last, period)
    if period == "week":
        return start - timedelta(weeks=count - 1)
    month = start.year * 12 + start.month - 1 - (count - 1)
    return date(month // 12, month % 12 + 1, 1)


def report(period: str, first: date, last: date, today: date | None = None,
           dnc_list: DncList | None = None) -> tuple[list[Row], Row]:
    """Rows per `period` ("week" or "month") of receipt from the one holding `first` to the one
    holding `last`, every period shown (zeros too), and their total: one GROUP BY over the
    tallies of every list, or of `dnc_list`'s."""
    today = today or timezone.localdate()
    first, last = period_start(first, period), period_end(period_start(last, period), period)
    unsettled = F("received") - F("honoured") - F("withdrawn")
    tallies = RequestTally.objects.all() if dnc_list is None else RequestTally.objects.filter(dnc_list=dnc_list)
    sums = (
        tallies.filter(received_on__gte=first, received_on__lte=last)
        .annotate(start=PERIODS[period]("received_on"))
        .values("start")
        .annotate(**{f"sum_{key}": Sum(key) for key in ("received", "honoured", "late", "late_days", "withdrawn")},
                  sum_late_days_max=Max("late_days_max"), sum_open=Sum(unsettled, filter=Q(deadline__gte=today)),
                  sum_overdue=Sum(unsettled, filter=Q(deadline__lt=today)))
        .order_by("start")
    )
    found = {row["start"]: row for row in sums}
    rows, start = [], first
    while start <= last:
        found_row: dict[str, Any] = dict(found.get(start, {}))
        numbers: dict[str, int] = {key: found_row.get(f"sum_{key}") or 0 for key in
                   ("received", "honoured", "late", "late_days", "late_days_max", "withdrawn", "open", "overdue")}
        honoured = numbers.pop("honoured")
        rows.append(Row(start, period_end(start, period), in_time=honoured - numbers["late"], **numbers))
        start = period_end(start, period) + timedelta(days=1)
    total = Row(first, last)
    for row in rows:
        for key in ("received", "in_time", "late", "late_days", "withdrawn", "open", "overdue"):
            setattr(total, key, getattr(total, key) + getattr(row, key))
        total.late_days_max = max(total.late_days_max, row.late_days_max)
    return rows, total


CSV_HEADER = ["period", "from", "to", "received", "honoured in time", "honoured late", "average days late",
              "most days late", "withdrawn", "open", "overdue"]


def csv_rows(rows: list[Row], total: Row, period: str):
    yield CSV_HEADER
    for label, row in [*((_label(row.start, period), row) for row in rows), ("total", total)]:
        yield [label, row.start.isoformat(), row.end.isoformat(), row.received, row.in_time, row.late,
               "" if row.late_days_average is None else row.late_days_average, row.late_days_max if row.late else "",
               row.withdrawn, row.open, row.overdue]


def _label(start: date, period: str) -> str:
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start:%Y-%m}"


class ReportForm(forms.Form):
    """The report's query string: period, the first and last day (any day of their period), and
    the list (`list`, its id; none: every list)."""

    period = forms.ChoiceField(choices=[("week", "Per week"), ("month", "Per month")], required=False)
    first = forms.DateField(required=False, label="From")
    last = forms.DateField(required=False, label="To")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Archived lists too: their requests are still on record. (Named "list" in the query
        # string, which a class attribute may not be.)
        self.fields["list"] = forms.ModelChoiceField(DncList.objects.all(), required=False, label="List",
                                                     empty_label="All lists")

    def clean(self):
        data = self.cleaned_data
        data["period"] = data.get("period") or "week"
        today = timezone.localdate()
        last = data.get("last") or today
        first = data.get("first") or default_first(last, data["period"])
        for day in (first, last):
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                raise forms.ValidationError(f"Choose dates between {EARLIEST_DATE} and {LATEST_DATE}.")
        if first > last:
            raise forms.ValidationError("The first day is after the last.")
        if (last - first).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS // 365} years.")
        data.update(first=first, last=last)
        return data


@dataclass
class Choice:
    """What the report's query string asks for."""

    period: str
    first: date
    last: date
    dnc_list: DncList | None = None  # None: every list
    problem: str = ""  # why the query string was not followed ("": it was)


def chosen_range(params) -> Choice:
    """The period, range and list the query string asks, or the last 12 weeks of every list and why not."""
    if params.get("list") == "all":  # as the list picker above the tabs names every list
        params = params.copy()
        params["list"] = ""
    form = ReportForm(params)
    if form.is_valid():
        data = form.cleaned_data
        return Choice(data["period"], data["first"], data["last"], data["list"])
    problems = [str(error) for error in form.non_field_errors()] + [
        f"{form[name].label}: {' '.join(str(error) for error in errors)}"
        for name, errors in form.errors.items() if name != "__all__"
    ]
    last = timezone.localdate()
    return Choice("week", default_first(last, "week"), last, problem=" ".join(problems))
