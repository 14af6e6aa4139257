"""The Activity page's chart: numbers added, approved and removed per day, as an inline SVG
drawn here (no chart library, no CDN), with each bar's count in its tooltip.

The scale is a square root, with labelled gridlines: one removal beside a thousand additions
is a bar of 3 % of the height, not of 0.1 % (invisible), and the gridlines say what a height means.

The figures come from the per-day counts (DayCount, kept by a trigger on PostgreSQL) when the
filter is one they have (action, list, dates) and they are in the page's time zone; else, by a
user or a number, or on SQLite, from counting the events (a number's are few, by its index)."""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Min, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import DayCount, Event

SERIES = {  # series → (the actions it counts, its colour)
    "added": ([Event.Action.ADDED], "#198754"),
    "approved": ([Event.Action.APPROVED, Event.Action.APPROVED_PERMANENTLY], "#0d6efd"),
    "removed": ([Event.Action.REMOVED], "#dc3545"),
}
MAX_DAYS = 366
MIN_DAYS = 7  # a range of one or two days would draw one wide group: a week at least
HEIGHT, LEFT, BOTTOM, TOP = 180, 50, 20, 8
GRID_GAP = 0.14  # gridlines at least this share of the plot's height apart


@dataclass
class Day:
    day: date
    counts: dict  # series → count


def charted(events):
    """The events the chart counts: those of its three series."""
    return events.filter(action__in=_charted_actions())


def day_counts(filterset) -> QuerySet[DayCount] | None:
    """The per-day counts of the events `filterset` shows, or None where they cannot say: a
    filter by user or number, an invalid filter, or counts kept in another time zone (or none:
    SQLite). Its dates are whole days in the page's time zone, the counts' zone: the same rows."""
    if connection.vendor != "postgresql" or not filterset.is_valid():
        return None
    chosen = filterset.form.cleaned_data
    if chosen.get("actor") or chosen.get("phone") or counted_zone() != timezone.get_current_timezone_name():
        return None
    counts = DayCount.objects.filter(action__in=_charted_actions())
    if chosen.get("action"):
        counts = counts.filter(action=chosen["action"])
    if chosen.get("dnc_list"):
        counts = counts.filter(dnc_list=chosen["dnc_list"])
    if dates := chosen.get("date"):
        counts = counts.filter(**({"day__gte": dates.start.date()} if dates.start else {}),
                               **({"day__lte": dates.stop.date()} if dates.stop else {}))
    return counts


def counted_zone() -> str | None:
    """The time zone DayCount's days are in: the comment on its trigger's function (audit
    migration 0007), None where there is none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regproc('audit_count_days'), 'pg_proc')")
        return cursor.fetchone()[0]


def _charted_actions() -> list[str]:
    return [action for actions, _ in SERIES.values() for action in actions]


def daily_counts(events, first: date, last: date, counts: QuerySet[DayCount] | None = None) -> list[Day]:
    """Counts per day and series from `first` to `last` for `events` (already filtered): one
    GROUP BY query, over `counts` (day_counts) when given, else over the events in the date
    range (served by the events' newest-first index)."""
    actions = {action: name for name, (actions, _) in SERIES.items() for action in actions}
    if counts is not None:
        rows = counts.filter(day__range=(first, last)).order_by().values_list("day", "action").annotate(Sum("n"))
    else:
        rows = (
            charted(events).filter(at__gte=_midnight(first), at__lt=_midnight(last + timedelta(days=1)))
            .order_by()
            .annotate(day=TruncDate("at"))
            .values_list("day", "action")
            .annotate(n=Count("id"))
        )
    days = {first + timedelta(days=i): Day(first + timedelta(days=i), dict.fromkeys(SERIES, 0))
            for i in range((last - first).days + 1)}
    for day, action, n in rows:
        if day in days:
            days[day].counts[actions[action]] += n
    return list(days.values())


def first_day(events, since: date, counts: QuerySet[DayCount] | None = None) -> date | None:
    """The day of the earliest charted event on or after `since`, or None: the least day of
    `counts` (day_counts) when given, else one row read from the events' time index, from the
    start of the window up."""
    if counts is not None:
        return counts.filter(day__gte=since).aggregate(first=Min("day"))["first"]
    at = charted(events).filter(at__gte=_midnight(since)).order_by("at").values_list("at", flat=True).first()
    return timezone.localdate(at) if at else None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def gridlines(top: int) -> list[int]:
    """Round counts (1, 2, 5, 10, 20, 50 …) up to `top`, spaced apart on the square-root scale.
    A chart whose top is 1 has no line but 0: the bar's tooltip and the table give the count."""
    rounds = [step * 10**power for power in range(len(str(top)) + 1) for step in (1, 2, 5)]
    chosen: list[int] = []
    for value in reversed([value for value in rounds if value <= top]):
        position = math.sqrt(value / top)
        if position >= GRID_GAP and (not chosen or math.sqrt(chosen[-1] / top) - position >= GRID_GAP):
            chosen.append(value)  # clear of the one above it and of the 0 line
    return chosen


def svg(days: list[Day], width: int = 900, labels: int = 10) -> SafeString:
    """Grouped bars, one group per day, on a square-root scale from 0 to the largest count, in a
    viewBox `width` wide with about `labels` day labels (fewer on a phone's narrower chart)."""
    top = max([max(day.counts.values()) for day in days] + [1])
    slot = (width - LEFT) / max(len(days), 1)
    bar = max(slot / (len(SERIES) + 1), 1)
    plot = HEIGHT - BOTTOM - TOP

    def y(count: int) -> float:
        return TOP + plot * (1 - math.sqrt(count / top))

    bars, day_labels = [], []
    label_every = max(math.ceil(len(days) / labels), 1)
    for i, day in enumerate(days):
        for j, (name, (_, colour)) in enumerate(SERIES.items()):
            count = day.counts[name]
            height = max(TOP + plot - y(count), 1) if count else 0  # a single event is still a visible sliver
            x = LEFT + i * slot + j * bar
            bars.append((f"{x:.1f}", f"{TOP + plot - height:.1f}", f"{bar:.1f}", f"{height:.1f}", colour,
                         f"{day.day:%Y-%m-%d}: {count:,} {name}"))
        if i % label_every == 0:
            day_labels.append((f"{LEFT + i * slot:.1f}", HEIGHT - 5, f"{day.day:%m-%d}"))
    grid = [(LEFT, f"{y(value):.1f}", width, f"{y(value):.1f}", LEFT - 4, f"{y(value) + 4:.1f}", f"{value:,}")
            for value in gridlines(top)]
    return format_html(
        '<svg class="activity-chart" role="img" aria-label="Numbers added, approved and removed per day,'
        ' on a square-root scale (the table below has the figures)" viewBox="0 0 {} {}" width="{}" height="{}">'
        '<text x="{}" y="{}" font-size="11" text-anchor="end">0</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#adb5bd"/>{}{}{}</svg>',
        width, HEIGHT, width, HEIGHT, LEFT - 4, TOP + plot + 4, LEFT, TOP + plot, width, TOP + plot,
        format_html_join("", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"/>'
                         '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>', grid),
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars),
        format_html_join("", '<text x="{}" y="{}" font-size="11">{}</text>', day_labels),
    )
