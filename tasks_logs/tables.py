import django_tables2 as tables

from .models import TaskLog


class TaskLogTable(tables.Table):
    task = tables.Column(accessor="pk", verbose_name="Task", orderable=False)
    created_by = tables.Column(verbose_name="User", default="—")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i:s")
    progress = tables.Column(accessor="percent", verbose_name="Progress", orderable=False)

    class Meta:
        model = TaskLog
        fields = ("task", "created_by", "created_at", "state", "progress", "message")
        attrs = {"class": "table table-sm align-middle"}
        empty_text = "No tasks yet."

    def render_task(self, record):
        return str(record)

    def render_progress(self, record):
        return f"{record.percent}% ({record.processed:,}/{record.total:,})"
