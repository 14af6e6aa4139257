from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from blacklist.exports import csv_download
from blacklist.models import BlacklistedNumber
from blacklist.phones import E164, normalized
from blacklist_admin.params import paginate

from . import chart
from .filters import EventFilter
from .models import Event
from .tables import EventTable, change_text, late_html, source_html

can_view = permission_required("audit.view_event", raise_exception=True)
CHART_DAYS = 30  # the chart's range when the filter names none


def _events():
    return Event.objects.select_related("task").order_by("-at", "-id")


def _chart_range(filterset) -> tuple:
    """The filter's dates, or the last CHART_DAYS days; at most chart.MAX_DAYS, the latest ones."""
    dates = filterset.form.cleaned_data.get("date") if filterset.is_valid() else None
    last = (dates.stop.date() if dates and dates.stop else None) or timezone.localdate()
    first = (dates.start.date() if dates and dates.start else None) or last - timedelta(days=CHART_DAYS - 1)
    return max(first, last - timedelta(days=chart.MAX_DAYS - 1)), last


@require_GET
@can_view
def activity(request):
    filterset = EventFilter(request.GET, queryset=_events())
    table = EventTable(filterset.qs)
    paginate(request, table, per_page=50)
    first, last = _chart_range(filterset)
    context = {
        "filterset": filterset,
        "table": table,
        "chart": chart.svg(chart.daily_counts(filterset.qs, first, last)),
        "series": [(name, colour) for name, (_, colour) in chart.SERIES.items()],
        "first": first,
        "last": last,
    }
    return render(request, "audit/activity.html", context)


@require_GET
@can_view
def export(request):
    """The events the Activity filter shows, all pages, newest first, as a streamed CSV file."""
    filterset = EventFilter(request.GET, queryset=_events())
    return csv_download(_event_rows(filterset.qs), f"activity-{timezone.localtime():%Y%m%d-%H%M}.csv")


def _event_rows(events):
    yield ["when", "number", "action", "from status", "to status", "by", "source", "task", "api key", "deadline",
           "business days late"]
    for event in events.iterator(5_000):
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.phone,
            event.get_action_display(),
            event.get_from_status_display() if event.from_status else "",
            event.get_to_status_display() if event.to_status else "",
            event.actor,
            event.get_via_display(),
            event.task.file_name if event.task else event.task_id or "",
            event.api_key_id or "",
            event.deadline or "",
            event.days_late or "",  # only an event that honoured its request late (Event.days_late)
        ]


@require_GET
@can_view
def history(request):
    """One number's timeline, newest first: also for a number no longer on the blacklist."""
    typed = request.GET.get("phone", "").strip()
    context = {"typed": typed, "phone": "", "listing": None, "events": []}
    if typed:
        # As stored (the rows' links), even if today's phone metadata would no longer accept it.
        phone, reason = (typed, "") if E164.match(typed) else normalized(typed)
        if reason:
            messages.warning(request, f"“{typed[:40]}” is not a phone number: {reason}.")
            return redirect("audit:history")
        events = list(Event.objects.filter(phone=phone).select_related("task").order_by("-at", "-id"))
        for event in events:
            event.change, event.source = change_text(event), source_html(event)  # type: ignore[attr-defined]  # for the template
            event.late = late_html(event)  # type: ignore[attr-defined]
        context.update(phone=phone, listing=BlacklistedNumber.objects.filter(phone=phone).first(), events=events)
    return render(request, "audit/history.html", context)
