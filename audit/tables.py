import html
from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from blacklist.deadlines import business_days_text
from blacklist.models import DncList, Status
from blacklist.phones import format_phone

from .models import Event

ACTIONS, VIAS, STATUSES = ({value: str(label) for value, label in choices.choices}
                          for choices in (Event.Action, Event.Via, Status))


class EventTable(tables.Table):
    """The events, a page at a time: the header from django-tables2, the rows from body_html."""

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
        template_name = "audit/_events_table.html"  # the body comes from body_html() below

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history_url = _esc(reverse("audit:history") + "?phone=")  # once, not per row
        # a few rows, once, not a join per event
        self.list_names = {pk: _esc(name) for pk, name in DncList.objects.values_list("pk", "name")}
        # The phone layout's labels (app.css .table-stack), as blacklist_admin.stacking gives other tables.
        self.labels = [f'<td data-label="{_esc(column.header)}">' for column in self.columns]

    def body_html(self):
        """The rows, built as strings here (every value escaped once, html.escape), as the tabs'
        (blacklist/tables.py): django-tables2's per-cell rendering took most of the page's time."""
        rows = ["<tr>" + "".join(label + cell + "</td>"
                                 for label, cell in zip(self.labels, self._cells(event), strict=True)) + "</tr>"
                for event in (row.record for row in self.paginated_rows)]
        if not rows:
            rows = [f'<tr><td colspan="{len(self.labels)}">{_esc(self.empty_text)}</td></tr>']
        return mark_safe("".join(rows))  # noqa: S308 — each part is escaped markup (_cells)

    def _cells(self, event: Event) -> list[str]:
        """When, number, list, action, status change, by, source: each escaped markup."""
        phone = _esc(event.phone)
        return [
            f'<time class="nowrap">{timezone.localtime(event.at):%Y-%m-%d %H:%M:%S}</time>',
            f'<a class="phone" href="{self.history_url}{_esc(quote(event.phone))}" title="{phone} · its history">'
            f"{_esc(format_phone(event.phone))}</a>",
            self._list_html(event.dnc_list_id),
            _esc(ACTIONS.get(event.action, event.action)),
            _esc(change_text(event)) + late_html(event),
            _esc(event.actor),
            self._source_html(event),
        ]

    def _list_html(self, list_id: int | None) -> str:
        if list_id is None:
            return "—"  # as django-tables2 showed an empty value
        return self.list_names.get(list_id, f"#{list_id}")

    def _source_html(self, event: Event) -> str:
        """How the change came in, linking to its upload or background job."""
        via = _esc(VIAS.get(event.via, event.via))
        if not event.task_id:
            return via
        label = event.task.file_name if event.task and event.task.file_name else f"task #{event.task_id}"
        return f'{via} · <a href="{reverse("tasks_logs:detail", args=[event.task_id])}">{_esc(label)}</a>'


def change_text(event: Event) -> str:
    """`For review → Approved`; only one side for added and removed numbers."""
    before = STATUSES[event.from_status] if event.from_status else ""
    after = STATUSES[event.to_status] if event.to_status else ""
    return " → ".join(part for part in [before, after] if part) or "—"


def late_html(event: Event) -> str:
    """A badge `3 business days past its deadline` on an event that honoured its request late,
    else nothing (Event.days_late)."""
    if not (late := event.days_late) or event.deadline is None:  # no deadline: never late
        return ""
    return (f' <span class="badge text-bg-warning late">{_esc(business_days_text(late))} past its deadline'
            f" {event.deadline.isoformat()}</span>")


def _esc(text) -> str:
    """Text escaped for HTML, as Django's escape() (& < > " ' all), without its lazy-string wrapper."""
    return html.escape(str(text))
