from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from blacklist.exports import csv_download
from blacklist.models import DncList
from blacklist.phones import E164, normalized
from blacklist_admin.params import paginate

from . import chart, evidence, report
from .filters import EventFilter
from .models import Event
from .tables import EventTable

can_view = permission_required("audit.view_event", raise_exception=True)
can_see_report = permission_required("audit.view_compliance_report", raise_exception=True)


def _events():
    return Event.objects.select_related("task").order_by("-at", "-id")


def _chart_range(filterset, counts) -> tuple[date, date] | None:
    """The filter's dates; where it names no start, from the day of the first event it shows (at
    least chart.MIN_DAYS before the end); to today where it names no end. At most chart.MAX_DAYS,
    the latest ones. None when there is nothing to draw."""
    dates = filterset.form.cleaned_data.get("date") if filterset.is_valid() else None
    last = (dates.stop.date() if dates and dates.stop else None) or timezone.localdate()
    window = last - timedelta(days=chart.MAX_DAYS - 1)
    if dates and dates.start:
        return max(dates.start.date(), window), last
    first = chart.first_day(filterset.qs, window, counts)
    if first is None:
        return None
    return max(min(first, last - timedelta(days=chart.MIN_DAYS - 1)), window), last


def _whole_number(typed: str) -> str:
    """The E.164 form of the Number filter when it is a whole number (the link to its history), else ""."""
    phone, refusal = normalized(typed) if typed else ("", "")
    return "" if refusal else phone


@require_GET
@can_view
def activity(request):
    filterset = EventFilter(request.GET, queryset=_events())
    table = EventTable(filterset.qs)
    paginate(request, table, per_page=50)
    counts = chart.day_counts(filterset)
    chart_range = _chart_range(filterset, counts)
    days = chart.daily_counts(filterset.qs, *chart_range, counts) if chart_range else []
    context = {
        "filterset": filterset,
        "table": table,
        "days": days,
        "chart": chart.svg(days) if days else "",
        "phone_chart": chart.svg(days, width=380, labels=4) if days else "",
        "series": [(name, colour) for name, (_, colour) in chart.SERIES.items()],
        "history_of": _whole_number(request.GET.get("phone", "").strip()),
        "first": days[0].day if days else None,
        "last": days[-1].day if days else None,
        "events_exist": bool(days) or Event.objects.exists(),  # the empty page only when nothing ever happened
    }
    return render(request, "audit/activity.html", context)


@require_GET
@can_view
def export(request):
    """The events the Activity filter shows, all pages, newest first, as a streamed CSV file."""
    filterset = EventFilter(request.GET, queryset=_events())
    return csv_download(_event_rows(filterset.qs), f"activity-{timezone.localtime():%Y%m%d-%H%M}.csv")


def _event_rows(events):
    lists = dict(DncList.objects.values_list("pk", "name"))
    yield ["when", "number", "list", "action", "from status", "to status", "by", "source", "task", "api key",
           "deadline", "business days late"]
    for event in events.iterator(5_000):
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.phone,
            lists.get(event.dnc_list_id, event.dnc_list_id or ""),
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


def _typed_phone(request) -> tuple[str, str, str]:
    """(typed, phone, refusal): the number as stored (the rows' links), even if today's phone
    metadata would no longer accept it, else normalized."""
    typed = request.GET.get("phone", "").strip()
    phone, refusal = (typed, "") if E164.match(typed) else normalized(typed) if typed else ("", "")
    return typed, phone, refusal


@require_GET
@can_view
def history(request):
    """One number's evidence record: its state, whether it was honoured in time, and every event,
    oldest first, with the SHA-256 of each download; also for a number no longer listed."""
    typed, phone, refusal = _typed_phone(request)
    if refusal:
        messages.warning(request, f"“{typed[:40]}” is not a phone number: {refusal}.")
        return redirect("audit:history")
    context: dict = {"typed": typed, "phone": phone}
    if phone:
        record = evidence.record(phone)
        context.update(record=record, json_sha256=evidence.sha256(evidence.as_json(record)),
                       csv_sha256=evidence.sha256(evidence.as_csv(record)), file_stem=_file_stem(phone))
    return render(request, "audit/history.html", context)


@require_GET
@can_view
def evidence_download(request, kind):
    """The evidence record as canonical JSON or as CSV: the bytes whose SHA-256 the page shows."""
    if kind not in ("json", "csv"):
        raise Http404("The evidence record downloads as evidence.json or evidence.csv.")
    typed, phone, refusal = _typed_phone(request)
    if refusal or not phone:
        messages.warning(request, f"“{typed[:40]}” is not a phone number: {refusal or 'none given'}.")
        return redirect("audit:history")
    record = evidence.record(phone)
    if kind == "csv":
        return csv_download(evidence.csv_rows(record), f"{_file_stem(phone)}.csv")
    response = HttpResponse(evidence.as_json(record), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_file_stem(phone)}.json"'
    return response


def _file_stem(phone: str) -> str:
    return f"evidence-{phone.lstrip('+')}"
@can_see_report
def compliance(request):
    """Requests per week or month of receipt: received, honoured in time or late, open, overdue."""
    chosen = report.chosen_range(request.GET)
    if chosen.problem:
        messages.warning(request, f"{chosen.problem} Showing the last 12 weeks of every list.")
    behind = report.fold(report.PAGE_FOLD)
    rows, total = report.report(chosen.period, chosen.first, chosen.last, dnc_list=chosen.dnc_list)
    context = {"period": chosen.period, "first": chosen.first, "last": chosen.last, "chosen_list": chosen.dnc_list,
               "lists": DncList.objects.all(), "rows": rows, "total": total, "behind": behind,
               "honour_days": settings.HONOUR_WITHIN_BUSINESS_DAYS, "query": request.GET.urlencode(),
               "problem": chosen.problem,
               "filters_used": sum(bool(request.GET.get(name)) for name in ("list", "first", "last"))}
    return render(request, "audit/compliance.html", context)


@require_GET
@can_see_report
def compliance_export(request):
    """The report the page shows, as CSV: a row per period, then the total."""
    chosen = report.chosen_range(request.GET)
    if chosen.problem:
        messages.warning(request, f"{chosen.problem} Nothing was exported.")
        return redirect("audit:compliance")
    report.fold(report.PAGE_FOLD)
    period, first, last = chosen.period, chosen.first, chosen.last
    rows, total = report.report(period, first, last, dnc_list=chosen.dnc_list)
    of_list = f"-list{chosen.dnc_list.pk}" if chosen.dnc_list else ""
    return csv_download(report.csv_rows(rows, total, period),
                        f"compliance-{period}{of_list}-{first:%Y%m%d}-{last:%Y%m%d}.csv")
