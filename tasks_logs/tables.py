import django_tables2 as tables
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from blacklist.actions import ACTIONS
from blacklist.models import DncList
from blacklist.services import ADDED_AS
from blacklist_admin.stacking import label_cells

from .models import RejectedRow, TaskLog

STATE_BADGES = {
    TaskLog.State.AWAITING: "text-bg-warning",
    TaskLog.State.QUEUED: "text-bg-secondary",
    TaskLog.State.RUNNING: "text-bg-primary",
    TaskLog.State.SUCCEEDED: "text-bg-success",
    TaskLog.State.FAILED: "text-bg-danger",
}


def duration_text(duration) -> str:
    """45 ms, 1.2 s, 14 s, 3 min 4 s, 2 h 5 min."""
    if duration is None:
        return "—"
    seconds = duration.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _no_tasks_yet() -> SafeString:
    return format_html('No tasks yet. Upload a file on <a href="{}">Add Blacklisted Leads</a>.',
                       reverse("blacklist:add"))


def counts_text(record: TaskLog) -> str:
    """A finished job's counts in one line ("" before it finishes)."""
    if not record.is_finished:
        return ""
    if record.kind == TaskLog.Kind.IMPORT:
        return (f"{record.new:,} new · {record.raised:,} raised · {record.unchanged:,} unchanged ·"
                f" {record.duplicates:,} duplicates · {record.invalid:,} invalid")
    if record.kind == TaskLog.Kind.REGISTRY_LOAD:
        return (f"{record.new:,} added · {record.deleted:,} deleted · {record.unchanged:,} unchanged ·"
                f" {record.invalid:,} unreadable")
    return f"{record.changed:,} changed · {record.skipped:,} skipped"


def result_text(record: TaskLog) -> str:
    """What a finished job did, for the message that announced it (static/js/tasks_logs.js)."""
    if not record.is_finished:
        return ""
    name = record.file_name or record.get_kind_display()
    if record.state == TaskLog.State.FAILED:
        return f"{name}: failed. {record.message}"
    return f"{name}: done. {counts_text(record)}."


class TaskLogTable(tables.Table):
    """Tasks Logs, one row per job. Rows carry their id and state, so static/js/tasks_logs.js can
    fetch the unfinished ones again (tasks_logs:rows renders them with the same _rows.html)."""

    task = tables.Column(accessor="pk", verbose_name="Task")
    created_by = tables.Column(verbose_name="User", default="—")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i:s", attrs={"td": {"class": "nowrap"}})
    state = tables.Column()
    progress = tables.Column(accessor="percent", verbose_name="Progress", attrs={"td": {"class": "progress-cell"}})
    counts = tables.Column(accessor="pk", verbose_name="Counts")
    duration = tables.Column(accessor="pk", verbose_name="Duration", attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        model = TaskLog
        fields = ("task", "created_by", "created_at", "state", "progress", "counts", "duration")
        template_name = "tasks_logs/_table.html"
        orderable = False  # newest first, always: the order the (created_at, id) index serves
        attrs = {"class": "table table-sm align-middle table-stack"}
        row_attrs = {"data-id": lambda record: record.pk, "data-state": lambda record: record.state,
                     "data-result": lambda record: result_text(record)}
        empty_text = lazy(_no_tasks_yet, SafeString)()  # lazy: the URLs load after this module

    def render_task(self, record):
        url = reverse("tasks_logs:detail", args=[record.pk])
        if record.file_name:
            return format_html('<a href="{}">{}<br><span class="small">{}</span></a>{}',
                               url, record.get_kind_display(), record.file_name, self._into_list(record))
        return format_html('<a href="{}">{}</a>', url, record.get_kind_display())

    def _list_name(self, list_id) -> str:
        if not hasattr(self, "list_names"):  # once per page: a handful of lists
            self.list_names = dict(DncList.objects.values_list("pk", "name"))
        return self.list_names.get(list_id, f"list #{list_id}") if list_id is not None else DncList.INTERNAL_NAME

    def __init__(self, *args, with_list: bool = True, **kwargs):
        """`with_list`: say under each file name which list it goes into (the task page says it below)."""
        super().__init__(*args, **kwargs)
        self.with_list = with_list
        label_cells(self)

    def _into_list(self, record) -> str:
        """Which list an import adds to (services.upload_list) and at which status: "into
        Internal, as approved permanently" under the file name."""
        if record.kind != TaskLog.Kind.IMPORT or not self.with_list:
            return ""
        added_as = ADDED_AS.get(record.params.get("status"), "")
        return format_html('<div class="small text-body-secondary">into {}{}</div>',
                           self._list_name(record.params.get("dnc_list")), f", {added_as}" if added_as else "")

    def will_do(self, record) -> str:
        """What a bulk job does, from its params: "Delete from Blacklist: all 12,345 matching numbers on
        Internal" (the count its user confirmed; the numbers matching may change before it runs)."""
        action = ACTIONS.get(record.params.get("action", ""))
        if action is None:
            return ""
        list_id = record.params.get("list", "")  # None: every list; "": a job from before lists, on Internal
        where = "every list" if list_id is None else f"“{self._list_name(list_id or None)}”"
        count = record.params.get("confirmed_count")
        return f"{action.bulk_label}: all {f'{count:,} ' if count else ''}matching numbers on {where}"

    def render_state(self, record):
        badge = format_html('<span class="badge {}">{}</span>', STATE_BADGES[record.state], record.get_state_display())
        if record.state == TaskLog.State.FAILED and record.message:
            return format_html('{}<div class="small text-danger">{}</div>', badge, Truncator(record.message).chars(120))
        return badge

    def render_progress(self, record):
        if record.state == TaskLog.State.AWAITING:
            url = reverse("blacklist:confirm_upload", args=[record.pk])
            return format_html('<a href="{}">Confirm or cancel</a>', url)
        if record.kind != TaskLog.Kind.IMPORT and not record.is_finished:  # one statement: no steps to count
            doing = "Changing the numbers…" if record.state == TaskLog.State.RUNNING else "Waiting for a worker"
            return format_html('<div class="small">{}</div><div class="small text-body-secondary">{}</div>',
                               self.will_do(record) or record.get_kind_display(), doing)
        # The bar is an SVG rect whose width attribute is the percentage: no style="width: …"
        # attribute, which the Content-Security-Policy (style-src 'self') would refuse.
        status = record.phase_text() or f"{record.percent}% ({record.processed:,}/{record.total:,})"
        return format_html(
            '<div class="progress" role="progressbar" aria-label="Progress" aria-valuenow="{0}" aria-valuemin="0"'
            ' aria-valuemax="100" aria-valuetext="{2}"><svg class="progress-fill" viewBox="0 0 100 1"'
            ' preserveAspectRatio="none" aria-hidden="true"><rect class="{1}" width="{0}" height="1"></rect>'
            '</svg></div>'
            '<div class="small">{2}</div>',
            record.percent, record.state, status,
        )

    def render_counts(self, record):
        return counts_text(record) or "—"

    def render_duration(self, record):
        return duration_text(record.duration)


class RejectedRowTable(tables.Table):
    class Meta:
        model = RejectedRow
        fields = ("line", "value", "reason")
        orderable = False  # by line, as the (task_log, line) index serves
        attrs = {"class": "table table-sm table-stack"}
        empty_text = "No rejected rows."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_cells(self)
