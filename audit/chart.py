"""The Activity page's chart: numbers added, approved and removed per day, as an inline SVG
drawn here (no chart library, no CDN), with each bar's count in its tooltip."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import Event

SERIES = {  # series → (the actions it counts, its colour)
    "added": ([Event.Action.ADDED], "#198754"),
    "approved": ([Event.Action.APPROVED, Event.Action.APPROVED_PERMANENTLY], "#0d6efd"),
    "removed": ([Event.Action.REMOVED], "#dc3545"),
}
MAX_DAYS = 366
WIDTH, HEIGHT, LEFT, BOTTOM = 900, 180, 50, 20


@dataclass
class Day:
    day: date
    counts: dict  # series → count


def daily_counts(events, first: date, last: date) -> list[Day]:
    """Counts per day and series for `events` (already filtered) from `first` to `last`: one
    GROUP BY query over the date range (served by the events' newest-first index)."""
    actions = {action: name for name, (actions, _) in SERIES.items() for action in actions}
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    rows = (
        events.filter(at__gte=start, at__lt=end, action__in=actions)
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


def svg(days: list[Day]) -> SafeString:
    """Grouped bars, one group per day, on a scale from 0 to the largest count."""
    top = max([max(day.counts.values()) for day in days] + [1])
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = max(slot / (len(SERIES) + 1), 1)
    plot = HEIGHT - BOTTOM
    bars, labels = [], []
    label_every = max(len(days) // 10, 1)
    for i, day in enumerate(days):
        for j, (name, (_, colour)) in enumerate(SERIES.items()):
            height = plot * day.counts[name] / top
            x = LEFT + i * slot + j * bar
            bars.append((f"{x:.1f}", f"{plot - height:.1f}", f"{bar:.1f}", f"{height:.1f}", colour,
                         f"{day.day:%Y-%m-%d}: {day.counts[name]:,} {name}"))
        if i % label_every == 0:
            labels.append((f"{LEFT + i * slot:.1f}", HEIGHT - 5, f"{day.day:%m-%d}"))
    return format_html(
        '<svg class="activity-chart" role="img" aria-label="Numbers added, approved and removed per day"'
        ' viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">'
        '<text x="0" y="12" font-size="11">{}</text><text x="0" y="{}" font-size="11">0</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#adb5bd"/>{}{}</svg>',
        WIDTH, HEIGHT, f"{top:,}", plot, LEFT, plot, WIDTH, plot,
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', bars),
        format_html_join("", '<text x="{}" y="{}" font-size="10">{}</text>', labels),
    )
