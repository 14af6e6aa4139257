from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from .actions import Action
from .deadlines import business_days_between, business_days_text, due_soon_until
from .models import BlacklistedNumber, Status, numbers_under

LOCK_ICON = (  # inline, so it shows whatever fonts the browser has
    '<svg aria-hidden="true" width="10" height="11" viewBox="0 0 10 11" fill="currentColor">'
    '<path d="M2 5V3.5a3 3 0 0 1 6 0V5h.5A1.5 1.5 0 0 1 10 6.5v3A1.5 1.5 0 0 1 8.5 11h-7A1.5 1.5 0 0 1 0 9.5v-3'
    'A1.5 1.5 0 0 1 1.5 5H2zm1.5 0h3V3.5a1.5 1.5 0 0 0-3 0V5z"/></svg>'
)


OVERDUE_ROW, DUE_SOON_ROW = mark_safe(' class="overdue"'), mark_safe(' class="due-soon"')


class BlacklistTable(tables.Table):
    ids = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "ids"}})  # BulkActionForm.ids
    phone = tables.Column(verbose_name="Number")
    dnc_list = tables.Column(verbose_name="List", orderable=False)  # "All lists" only
    status = tables.Column(orderable=False)
    reason = tables.Column(verbose_name="Reason · channel", orderable=False)
    received_at = tables.Column(verbose_name="Request received", orderable=False)
    age = tables.Column(verbose_name="Age", empty_values=(), orderable=False)  # the review tab's
    deadline = tables.Column(verbose_name="Honour by")  # the review tab's; sorted oldest first by the index
    added_at = tables.Column(verbose_name="Added")
    source_task = tables.Column(verbose_name="Source", orderable=False)
    status_changed_at = tables.Column(verbose_name="Last status change")
    actions = tables.Column(verbose_name="Actions", orderable=False)

    class Meta:
        model = BlacklistedNumber
        fields = ("ids", "phone", "dnc_list", "status", "reason", "received_at", "age", "deadline", "added_at",
                  "source_task", "status_changed_at", "actions")
        order_by_field = "sort"
        attrs = {"class": "table table-sm table-hover align-middle blacklist-table"}
        empty_text = "No numbers match."
        template_name = "blacklist/_table.html"  # the body comes from body_html() below

    def __init__(self, rows, *, tab: str, actions: list[Action], list_column: bool = False, **kwargs):
        """`actions`: the tab's actions to offer a button for, those the user may run (actions.allowed);
        `list_column`: rows of every list ("All lists", their dnc_list selected with them)."""
        super().__init__(rows, **kwargs)
        self.list_column = list_column
        if not list_column:
            self.columns.hide("dnc_list")
        self.buttons = [  # (style, url, row label, confirmation) for each of them
            (action.style, reverse("blacklist:row_action", args=[tab, action.name]), action.row_label,
             action.row_question)
            for action in actions
        ]
        self.history_url = reverse("audit:history") + "?phone="  # once, not per row
        self.deadlines = tab == "review"  # approved numbers were honoured: no age, no deadline to meet
        self.today = timezone.localdate()
        self.due_soon_until = due_soon_until(self.today)
        self.ages: dict = {}  # received day → its age text (render_age)
        if not self.deadlines:
            self.columns.hide("age")
            self.columns.hide("deadline")
        if not self.buttons:  # a Viewer: no checkboxes, no buttons (body_html leaves their cells out too)
            self.columns.hide("ids")
            self.columns.hide("actions")

    def body_html(self):
        """The rows, one format_html each, calling the render_* methods below directly.

        django-tables2's own cell rendering costs about 1 ms a row (it inspects each render
        method's signature per cell); a page of 25 would spend most of its 50 ms budget there."""
        rows = (f"<tr{self._row_class(record)}>{self._cells_html(record)}</tr>" for record in self.data)
        return mark_safe("".join(rows))  # noqa: S308 — each part is escaped markup (_cells_html)

    def _row_class(self, record) -> str:
        """`overdue` or `due-soon` on the review tab (the deadline cell says so in words too)."""
        if not self.deadlines or record.deadline > self.due_soon_until:
            return ""
        return OVERDUE_ROW if record.deadline < self.today else DUE_SOON_ROW

    def _cells_html(self, record):
        cells = [
            self.render_phone(record),
            *([self.render_dnc_list(record)] if self.list_column else []),
            self.render_status(record),
            self.render_reason(record),
            self.render_received_at(record),
        ]
        if self.deadlines:
            cells += [self.render_age(record), self.render_deadline(record)]
        cells += [
            self.render_added_at(record),
            self.render_source_task(record.source_task) if record.source_task else "manual",
            self.render_status_changed_at(record),
        ]
        if self.buttons:  # the checkbox and the buttons only for those who may act
            checkbox = format_html('<input type="checkbox" name="ids" value="{}">', record.pk)
            cells = [checkbox, *cells, self.render_actions(record)]
        # One join, not a format_html per cell: conditional_escape keeps the cells' markup and
        # escapes any plain text, as format_html would.
        return "".join(f"<td>{conditional_escape(cell)}</td>" for cell in cells)

    def render_actions(self, record):
        """The tab's per-row buttons; they submit the page's hidden `row-action` form. Irreversible
        ones carry their question, which static/js/blacklist.js asks before submitting."""
        if record.is_permanent:
            return mark_safe('<span class="text-body-secondary small" '
                             'title="Permanently approved numbers can never be unapproved or removed">locked</span>')
        buttons = format_html_join(
            "",
            '<button type="submit" form="row-action" name="pk" value="{}" class="btn btn-outline-{}" formaction="{}"'
            ' data-confirm="{}">{}</button>',
            ((record.pk, style, url, confirmation.format(record.phone), label)
             for style, url, label, confirmation in self.buttons),
        )
        return format_html('<div class="btn-group btn-group-sm">{}</div>', buttons)

    def render_phone(self, record):
        """The number, linking to its history (audit:history); a prefix entry with its badge and
        how many listed numbers it covers."""
        link = format_html('<a href="{}{}" title="{}">{}</a>', self.history_url,
                           quote(record.phone), record.phone, record.display_phone)
        if not record.is_prefix:
            return link
        return format_html('{} <span class="badge text-bg-info">prefix</span>'
                           ' <span class="small text-body-secondary">covers {}</span>',
                           link, self._coverage_text(record.phone))

    def _coverage_text(self, prefix: str) -> str:
        """"12 listed numbers", or "~45,000 listed numbers" (an estimate): counted once per page,
        for its prefixes only (models.numbers_under)."""
        if not hasattr(self, "coverage"):
            self.coverage = numbers_under([row.phone for row in self.data if row.is_prefix])
        count, exact = self.coverage[prefix]
        return f"{'' if exact else '~'}{count:,} listed number{'' if count == 1 else 's'}"

    def render_dnc_list(self, record):
        dnc_list = record.dnc_list
        if dnc_list.is_archived:
            return format_html('{} <span class="badge text-bg-secondary">archived</span>', dnc_list.name)
        return dnc_list.name

    def render_status(self, record):
        if record.status == Status.PERMANENT:
            return mark_safe(f'<span class="badge text-bg-dark">{LOCK_ICON} Permanently approved</span>')  # noqa: S308 — constant markup, no data in it
        return record.get_status_display()

    def render_reason(self, record):
        """The reason and channel; the note, if any, as the cell's tooltip (escaped)."""
        title = format_html(' title="{}"', record.note) if record.note else ""
        return format_html('<span{}>{}</span> <span class="text-body-secondary">· {}</span>', title,
                           record.reason.name, record.get_channel_display())

    def render_received_at(self, record):
        return timezone.localtime(record.received_at).isoformat(" ", "minutes")[:16]  # 2026-11-20 10:15

    def render_age(self, record):
        """Business days since the request arrived (weekends and HOLIDAY_CALENDAR's holidays skipped)."""
        received_on = timezone.localdate(record.received_at)
        if received_on not in self.ages:  # once a day per page: the rows of an upload share their day
            self.ages[received_on] = business_days_text(business_days_between(received_on, self.today))
        return self.ages[received_on]

    def render_deadline(self, record):
        """The last day to honour the request, and, when it is near or past, a badge that says so."""
        day = record.deadline.isoformat()
        if record.deadline < self.today:
            late = business_days_text(business_days_between(record.deadline, self.today))
            return format_html('{} <span class="badge text-bg-danger">Overdue by {}</span>', day, late)
        if record.deadline <= self.due_soon_until:
            left = business_days_between(self.today, record.deadline)
            when = "today" if left <= 0 else f"in {business_days_text(left)}"
            return format_html('{} <span class="badge text-bg-warning">Due soon: {}</span>', day, when)
        return day

    def render_added_at(self, record):
        return _when_and_who(record.added_at, record.added_by)

    def render_status_changed_at(self, record):
        return _when_and_who(record.status_changed_at, record.status_changed_by)

    def render_source_task(self, value):
        url = reverse("tasks_logs:detail", args=[value.pk])
        return format_html('<a href="{}">{}</a>', url, value.file_name or f"task #{value.pk}")


def _when_and_who(when, user):
    who = user.get_username() if user else "system"
    return format_html('{} <span class="text-body-secondary">· {}</span>',
                       timezone.localtime(when).strftime("%Y-%m-%d %H:%M"), who)
