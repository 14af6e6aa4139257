import functools
import html
from urllib.parse import quote, urlencode

import django_tables2 as tables
from django.http import QueryDict
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django_tables2.utils import OrderBy, OrderByTuple

from .actions import Action
from .deadlines import business_days_between, business_days_text, due_soon_until
from .models import BlacklistedNumber, Channel, Status, numbers_under

LOCK_ICON = (  # inline, so it shows whatever fonts the browser has
    '<svg aria-hidden="true" width="10" height="11" viewBox="0 0 10 11" fill="currentColor">'
    '<path d="M2 5V3.5a3 3 0 0 1 6 0V5h.5A1.5 1.5 0 0 1 10 6.5v3A1.5 1.5 0 0 1 8.5 11h-7A1.5 1.5 0 0 1 0 9.5v-3'
    'A1.5 1.5 0 0 1 1.5 5H2zm1.5 0h3V3.5a1.5 1.5 0 0 0-3 0V5z"/></svg>'
)


OVERDUE_ROW, DUE_SOON_ROW = ' class="overdue"', ' class="due-soon"'
LOCKED = ('<span class="text-body-secondary small" '
          'title="Permanently approved numbers can never be unapproved or removed">locked</span>')
PERMANENT_BADGE = f'<span class="badge text-bg-dark">{LOCK_ICON} Permanently approved</span>'
# The status and channel cells' text, escaped once (get_FOO_display per row cost a tenth of the rows' time).
STATUS_HTML = {Status.REVIEW: html.escape(Status.REVIEW.label), Status.APPROVED: html.escape(Status.APPROVED.label),
               Status.PERMANENT: PERMANENT_BADGE}
CHANNEL_TEXT = {channel.value: html.escape(channel.label) for channel in Channel}
# The header's checkbox: its aria-label names it, the visible "All" keeps the header from being empty.
SELECT_PAGE = ('<input type="checkbox" id="select-page" aria-label="Select all on this page">'
               ' <label class="small" for="select-page">All</label>')
# Marks, in the row menu, the action nothing can undo: the page defines the lock once (#lock-icon, tab_table.html).
ICONS = {"approve_permanently": '<svg aria-hidden="true" width="10" height="11"><use href="#lock-icon"/></svg>'}


class SelectColumn(tables.CheckBoxColumn):
    """The row checkboxes (body_html builds them) under a labelled select-all header."""

    @property
    def header(self):
        return mark_safe(SELECT_PAGE)  # noqa: S308 — a constant


class BlacklistTable(tables.Table):
    ids = SelectColumn(accessor="pk")  # BulkActionForm.ids
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

    def __init__(self, rows, *, tab: str, actions: list[Action], list_column: bool = False, params=None, **kwargs):
        """`actions`: the tab's actions to offer a button for, those the user may run (actions.allowed);
        `list_column`: rows of every list ("All lists", their dnc_list selected with them); `params`:
        the page's query (request.GET), which the sort links keep."""
        super().__init__(rows, **kwargs)
        self.params = params if params is not None else QueryDict()
        self.list_column = list_column
        if not list_column:
            self.columns.hide("dnc_list")
        self.buttons = [  # (style, url, row label, confirmation, icon) for each of them, the main action first
            (_esc(action.style), _url("blacklist:row_action", tab, action.name), _esc(action.row_label),
             action.row_question, ICONS.get(action.name, ""))
            for action in actions
        ]  # escaped here, once a page; names and questions are escaped per row, with the row's number in them
        self.history_url = _url("audit:history") + "?phone="
        self.sources: dict = {}  # upload → its cell (_source_html): the rows of an upload share it
        self.deadlines = tab == "review"  # approved numbers were honoured: no age, no deadline to meet
        self.zone = timezone.get_current_timezone()  # once, not per cell: timezone.localtime asks it each time
        self.today = timezone.localdate(timezone=self.zone)
        self.deadline_badges: dict = {}  # deadline day → its cell (_deadline_html)
        self.due_soon_until = due_soon_until(self.today)
        self.ages: dict = {}  # received day → its age text (render_age)
        if not self.deadlines:
            self.columns.hide("age")
            self.columns.hide("deadline")
        if not self.buttons:  # a Viewer: no checkboxes, no buttons (body_html leaves their cells out too)
            self.columns.hide("ids")
            self.columns.hide("actions")

    @tables.Table.order_by.setter
    def order_by(self, value):
        """The sorted column's mark in the header only: the rows come sorted from the database (and
        their cursors with them), so django-tables2's sort of them again in Python (a quarter of
        the table's construction) is left out."""
        aliases = value.split(",") if isinstance(value, str) else value or ()
        names = [(alias, OrderBy(alias).bare) for alias in aliases]
        self._order_by = OrderByTuple(alias for alias, name in names if name in self.columns
                                      and self.columns[name].orderable)

    def html(self):
        """The whole table, as templates/django_tables2/bootstrap5.html writes it with body_html() as its
        body (blacklist/_table.html), built as strings: the template engine spent about 1 ms on the
        header's dozen cells and their sort links."""
        return mark_safe(  # noqa: S308 — escaped markup (header_html, body_html)
            f'<div class="table-container">\n<table{self.attrs.as_html() and " " + self.attrs.as_html()}>\n'
            f"{self.header_html()}\n<tbody>{self.body_html()}</tbody>\n</table>\n</div>"
        )

    def header_html(self) -> str:
        """<thead> with a cell a column: its header, a sort link if orderable (the page's query with
        `sort` set to the column's next order, as django-tables2's querystring_replace makes it), the
        sorted one marked asc/desc and with aria-sort."""
        cells = []
        for column in self.columns:
            header = conditional_escape(column.header)
            if not column.orderable:
                cells.append(f'<th scope="col">\n    {header}\n  </th>')
                continue
            params = dict(self.params.lists())  # every value of a repeated parameter kept
            params[self.prefixed_order_by_field] = [column.order_by_alias.next]
            link = f'<a href="{escape("?" + urlencode(params, doseq=True))}">{header}</a>'
            if column.is_ordered:
                way, sort = ("desc", "descending") if column.order_by_alias.is_descending else ("asc", "ascending")
                cells.append(f'<th class="{way} orderable" scope="col" aria-sort="{sort}">\n    {link}\n  </th>')
            else:
                cells.append(f'<th class="orderable" scope="col">\n    {link}\n  </th>')
        return "<thead>\n<tr>\n  " + "\n  ".join(cells) + "\n</tr>\n</thead>"

    def page_ids_html(self):
        """The page's rows as hidden `page_ids` fields (BulkActionForm.page_ids, the "this page" scope)."""
        return mark_safe("".join(  # noqa: S308 — integers
            f'<input type="hidden" name="page_ids" value="{int(record.pk)}">' for record in self.data))

    def body_html(self):
        """The rows, built as strings here (every value escaped once, html.escape), calling none of
        django-tables2's per-cell machinery nor format_html: a page of 25 rows in about 1 ms.

        django-tables2's own cell rendering costs about 1 ms a row (it inspects each render
        method's signature per cell), and format_html/conditional_escape per value most of the
        rest; the render_* methods below give the same markup, one cell each."""
        rows = [f"<tr{self._row_class(record)}>{self._cells_html(record)}</tr>" for record in self.data]
        return mark_safe("".join(rows))  # noqa: S308 — each part is escaped markup (_cells_html)

    def _row_class(self, record) -> str:
        """`overdue` or `due-soon` on the review tab (the deadline cell says so in words too)."""
        if not self.deadlines or record.deadline > self.due_soon_until:
            return ""
        return OVERDUE_ROW if record.deadline < self.today else DUE_SOON_ROW

    def _cells_html(self, record) -> str:
        """One row's cells: each a string of markup whose values were escaped (_esc)."""
        number = _esc(record.display_phone)
        cells = [self._phone_html(record, number)]
        if self.list_column:
            cells.append(self._list_html(record.dnc_list))
        cells += [self._status_html(record), self._reason_html(record), self._received_html(record)]
        if self.deadlines:
            cells += [self._age_html(record), self._deadline_html(record)]
        source = record.source_task
        cells += [
            self._when_and_who_html(record.added_at, record.added_by),
            self._source_html(source) if source else "manual",
            self._when_and_who_html(record.status_changed_at, record.status_changed_by),
        ]
        if self.buttons:  # the checkbox and the buttons only for those who may act
            cells = [f'<input type="checkbox" name="ids" value="{record.pk}" aria-label="Select {number}">', *cells,
                     self._actions_html(record, number)]
        return "<td>" + "</td><td>".join(cells) + "</td>"

    def _actions_html(self, record, number: str) -> str:
        """The main action as a small button, the others in a menu; each submits the page's hidden
        `row-action` form and is named with the row's `number` (escaped). Irreversible ones carry
        their question, which static/js/blacklist.js asks before submitting."""
        if record.is_permanent:
            return LOCKED
        main, *others = self.buttons
        button = self._button_html(record, number, "btn btn-sm btn-outline-", *main)
        if not others:
            return button
        items = "".join(f"<li>{self._button_html(record, number, 'dropdown-item text-', *other)}</li>"
                        for other in others)
        return (f'<div class="row-actions">{button}<div class="dropdown"><button type="button"'
                f' class="btn btn-sm btn-outline-secondary dropdown-toggle" data-bs-toggle="dropdown"'
                f' aria-expanded="false" aria-label="More actions for {number}"></button>'
                f'<ul class="dropdown-menu dropdown-menu-end">{items}</ul></div></div>')

    @staticmethod
    def _button_html(record, number, css, style, url, label, question, icon) -> str:
        ask = f' data-confirm="{_esc(question.format(record.display_phone))}"' if question else ""
        return (f'<button form="row-action" name="pk" value="{record.pk}" formaction="{url}"'
                f' class="{css}{style}" aria-label="{label} {number}"{ask}>{icon}{label}</button>')

    def _phone_html(self, record, number: str) -> str:
        """The number (`number`: as shown, escaped), linking to its history (audit:history); a prefix
        entry with its badge and how many listed numbers it covers."""
        phone = record.phone
        link = f'<a href="{self.history_url}{_esc(quote(phone))}" title="{_esc(phone)}">{number}</a>'
        if not record.is_prefix:
            return link
        return (f'{link} <span class="badge text-bg-info">prefix</span>'
                f' <span class="small text-body-secondary">covers {_esc(self._coverage_text(phone))}</span>')

    def _coverage_text(self, prefix: str) -> str:
        """"12 listed numbers", or "~45,000 listed numbers" (an estimate): counted once per page,
        for its prefixes only (models.numbers_under)."""
        if not hasattr(self, "coverage"):
            self.coverage = numbers_under([row.phone for row in self.data if row.is_prefix])
        count, exact = self.coverage[prefix]
        return f"{'' if exact else '~'}{count:,} listed number{'' if count == 1 else 's'}"

    def _list_html(self, dnc_list) -> str:
        if dnc_list.is_archived:
            return f'{_esc(dnc_list.name)} <span class="badge text-bg-secondary">archived</span>'
        return _esc(dnc_list.name)

    def _status_html(self, record) -> str:
        return STATUS_HTML.get(record.status) or _esc(record.get_status_display())

    def _reason_html(self, record) -> str:
        """The reason and channel; the note, if any, as the cell's tooltip (escaped)."""
        title = f' title="{_esc(record.note)}"' if record.note else ""
        channel = CHANNEL_TEXT.get(record.channel) or _esc(record.channel)
        return f'<span{title}>{_esc(record.reason.name)}</span> <span class="text-body-secondary">· {channel}</span>'

    def _received_html(self, record) -> str:
        return f"<time>{_minutes(record.received_at.astimezone(self.zone))}</time>"

    def _age_html(self, record) -> str:
        """Business days since the request arrived (weekends and HOLIDAY_CALENDAR's holidays skipped)."""
        received_on = record.received_at.astimezone(self.zone).date()
        if received_on not in self.ages:  # once a day per page: the rows of an upload share their day
            self.ages[received_on] = _esc(business_days_text(business_days_between(received_on, self.today)))
        return self.ages[received_on]

    def _deadline_html(self, record) -> str:
        """The last day to honour the request, and, when it is near or past, a badge that says so
        (once a day per page, as the ages)."""
        deadline = record.deadline
        if deadline not in self.deadline_badges:
            self.deadline_badges[deadline] = self._deadline_cell(deadline)
        return self.deadline_badges[deadline]

    def _deadline_cell(self, deadline) -> str:
        day = f"<time>{deadline.isoformat()}</time>"  # <time>: never broken across lines (app.css)
        if deadline < self.today:
            late = business_days_text(business_days_between(deadline, self.today))
            return f'{day} <span class="badge text-bg-danger">Overdue by {_esc(late)}</span>'
        if deadline <= self.due_soon_until:
            left = business_days_between(self.today, deadline)
            when = "today" if left <= 0 else f"in {business_days_text(left)}"
            return f'{day} <span class="badge text-bg-warning">Due soon: {_esc(when)}</span>'
        return day

    def _when_and_who_html(self, when, user) -> str:
        who = _esc(user.get_username()) if user else "system"
        return f'<time>{_minutes(when.astimezone(self.zone))}</time> <span class="text-body-secondary">· {who}</span>'

    def _source_html(self, task) -> str:
        if task.pk not in self.sources:
            url = reverse("tasks_logs:detail", args=[task.pk])
            self.sources[task.pk] = f'<a href="{_esc(url)}">{_esc(task.file_name or f"task #{task.pk}")}</a>'
        return self.sources[task.pk]

    # django-tables2's names for the same cells (safe markup), should anything render a cell alone.

    def render_actions(self, record):
        return mark_safe(self._actions_html(record, _esc(record.display_phone)))  # noqa: S308 — escaped markup

    def render_phone(self, record):
        return mark_safe(self._phone_html(record, _esc(record.display_phone)))  # noqa: S308 — escaped markup

    def render_dnc_list(self, record):
        return mark_safe(self._list_html(record.dnc_list))  # noqa: S308 — escaped markup

    def render_status(self, record):
        return mark_safe(self._status_html(record))  # noqa: S308 — escaped markup

    def render_reason(self, record):
        return mark_safe(self._reason_html(record))  # noqa: S308 — escaped markup

    def render_received_at(self, record):
        return mark_safe(self._received_html(record))  # noqa: S308 — escaped markup

    def render_age(self, record):
        return mark_safe(self._age_html(record))  # noqa: S308 — escaped markup

    def render_deadline(self, record):
        return mark_safe(self._deadline_html(record))  # noqa: S308 — escaped markup

    def render_added_at(self, record):
        return mark_safe(self._when_and_who_html(record.added_at, record.added_by))  # noqa: S308 — escaped markup

    def render_status_changed_at(self, record):
        return mark_safe(self._when_and_who_html(record.status_changed_at, record.status_changed_by))  # noqa: S308

    def render_source_task(self, value):
        return mark_safe(self._source_html(value))  # noqa: S308 — escaped markup


def _url(name: str, *args) -> str:
    """reverse(name, args), escaped, once a process: the URLs are fixed (the script prefix is in the key)."""
    return _reversed(name, args, get_script_prefix())


@functools.cache
def _reversed(name: str, args: tuple, prefix: str) -> str:
    return _esc(reverse(name, args=args))


def _esc(text) -> str:
    """Text escaped for HTML, as Django's escape() (& < > " ' all), without its lazy-string wrapper."""
    return html.escape(str(text))


def _minutes(when) -> str:
    """2026-11-20 10:15 (isoformat: several times quicker than strftime)."""
    return when.isoformat(" ", "minutes")[:16]
