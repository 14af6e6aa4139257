from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from blacklist.deadlines import business_days_text
from blacklist.models import DncList
from blacklist.phones import format_phone
from blacklist_admin.stacking import label_cells

from .models import Event


def source_html(event: Event) -> str:
    """How the change came in, linking to its upload or background job."""
    if event.task_id:
        label = event.task.file_name if event.task and event.task.file_name else f"task #{event.task_id}"
        return format_html('{} · <a href="{}">{}</a>', event.get_via_display(),
                           reverse("tasks_logs:detail", args=[event.task_id]), label)
    return event.get_via_display()


def change_text(event: Event) -> str:
    """`For review → Approved`; only one side for added and removed numbers."""
    before = event.get_from_status_display() if event.from_status else ""
    after = event.get_to_status_display() if event.to_status else ""
    return " → ".join(part for part in [before, after] if part) or "—"


def late_html(event: Event) -> str:
    """A badge `3 business days past its deadline` on an event that honoured its request late,
    else nothing (Event.days_late)."""
    if not (late := event.days_late) or event.deadline is None:  # no deadline: never late
        return ""
    return format_html(' <span class="badge text-bg-warning late">{} past its deadline {}</span>',
                       business_days_text(late), event.deadline.isoformat())


class EventTable(tables.Table):
    at = tables.Column(verbose_name="When", orderable=False)
    phone = tables.Column(verbose_name="Number", orderable=False)
    dnc_list = tables.Column(verbose_name="List", orderable=False, accessor="dnc_list_id")  # the id: no query per row
    action = tables.Column(orderable=False)
    change = tables.Column(verbose_name="Status", empty_values=(), orderable=False)
    actor = tables.Column(verbose_name="By", orderable=False)
    via = tables.Column(verbose_name="Source", orderable=False)

    class Meta:
        model = Event
        fields = ("at", "phone", "dnc_list", "action", "change", "actor", "via")
        attrs = {"class": "table table-sm table-hover align-middle events-table table-stack"}
        empty_text = "No events match."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history_url = reverse("audit:history") + "?phone="  # once, not per row
        self.list_names = dict(DncList.objects.values_list("pk", "name"))  # a few rows, once, not a join per event
        label_cells(self)

    def render_at(self, value):
        return format_html('<time class="nowrap">{}</time>', timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S"))

    def render_phone(self, value):
        return format_html('<a class="phone" href="{}{}" title="{} · its history">{}</a>', self.history_url,
                           quote(value), value, format_phone(value))

    def render_dnc_list(self, record):
        return self.list_names.get(record.dnc_list_id, f"#{record.dnc_list_id}")

    def render_change(self, record):
        return format_html("{}{}", change_text(record), late_html(record))

    def render_via(self, record):
        return source_html(record)
