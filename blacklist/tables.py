import django_tables2 as tables
from django.utils.html import format_html

from .models import BlacklistedNumber, Status


class BlacklistTable(tables.Table):
    phone = tables.Column(verbose_name="Number", order_by=("phone",))
    status = tables.Column()
    added_at = tables.DateTimeColumn(verbose_name="Added", format="Y-m-d H:i")
    added_by = tables.Column(verbose_name="Added by", orderable=False, default="—")
    source_task = tables.Column(verbose_name="Source", orderable=False, default="manual")
    status_changed_at = tables.DateTimeColumn(verbose_name="Status changed", format="Y-m-d H:i")

    class Meta:
        model = BlacklistedNumber
        fields = ("phone", "status", "added_at", "added_by", "source_task", "status_changed_at")
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = "No numbers here."

    def render_phone(self, record):
        return format_html('<span title="{}">{}</span>', record.phone, record.display_phone)

    def render_status(self, record):
        if record.status == Status.PERMANENT:
            return format_html('<span class="badge text-bg-dark">&#128274; {}</span>', record.get_status_display())
        return record.get_status_display()

    def render_source_task(self, value):
        return value.file_name or str(value)
