import django_tables2 as tables
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from blacklist.models import DncList
from blacklist_admin.stacking import label_cells

from .models import RejectedRow, TaskLog

STATE_BADGES = {
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
        row_attrs = {"data-id": lambda record: record.pk, "data-state": lambda record: record.state}
        empty_text = lazy(_no_tasks_yet, SafeString)()  # lazy: the URLs load after this module

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_cells(self)

    def render_task(self, record):
        url = reverse("tasks_logs:detail", args=[record.pk])
        if record.file_name:
            return format_html('<a href="{}">{}<br><span class="small">{}</span></a>{}',
                               url, record.get_kind_display(), record.file_name, self._into_list(record))
        return format_html('<a href="{}">{}</a>', url, record.get_kind_display())

    def _into_list(self, record) -> str:
        """Which list an import adds to (services.upload_list): "into Internal" under the file name."""
        if record.kind != TaskLog.Kind.IMPORT:
            return ""
        if not hasattr(self, "list_names"):  # once per page: a handful of lists
            self.list_names = dict(DncList.objects.values_list("pk", "name"))
        list_id = record.params.get("dnc_list")
        name = self.list_names.get(list_id, f"list #{list_id}") if list_id is not None else DncList.INTERNAL_NAME
        return format_html('<div class="small text-body-secondary">into {}</div>', name)

    def render_state(self, record):
        badge = format_html('<span class="badge {}">{}</span>', STATE_BADGES[record.state], record.get_state_display())
        if record.state == TaskLog.State.FAILED and record.message:
            return format_html('{}<div class="small text-danger">{}</div>', badge, Truncator(record.message).chars(120))
        return badge

    def render_progress(self, record):
        # The bar is an SVG rect whose width attribute is the percentage: no style="width: …"
        # attribute, which the Content-Security-Policy (style-src 'self') would refuse.
        return format_html(
            '<div class="progress" role="progressbar" aria-label="Progress" aria-valuenow="{0}" aria-valuemin="0"'
            ' aria-valuemax="100"><svg class="progress-fill" viewBox="0 0 100 1" preserveAspectRatio="none"'
            ' aria-hidden="true"><rect class="{1}" width="{0}" height="1"></rect></svg></div>'
            '<div class="small">{0}% ({2}/{3})</div>',
            record.percent, record.state, f"{record.processed:,}", f"{record.total:,}",
        )

    def render_counts(self, record):
        if not record.is_finished:
            return "—"
        if record.kind == TaskLog.Kind.IMPORT:
            return (f"{record.new:,} new · {record.raised:,} raised · {record.unchanged:,} unchanged ·"
                    f" {record.duplicates:,} duplicates · {record.invalid:,} invalid")
        return f"{record.changed:,} changed · {record.skipped:,} skipped"

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
