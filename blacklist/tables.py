import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .models import BlacklistedNumber, Status


class BlacklistTable(tables.Table):
    ids = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "ids"}})  # BulkActionForm.ids
    phone = tables.Column(verbose_name="Number")
    status = tables.Column(orderable=False)
    added_at = tables.Column(verbose_name="Added")
    source_task = tables.Column(verbose_name="Source", orderable=False, default="manual")
    status_changed_at = tables.Column(verbose_name="Last status change")
    actions = tables.TemplateColumn(template_name="blacklist/_row_actions.html", orderable=False)

    class Meta:
        model = BlacklistedNumber
        fields = ("ids", "phone", "status", "added_at", "source_task", "status_changed_at", "actions")
        order_by_field = "sort"
        attrs = {"class": "table table-sm table-hover align-middle blacklist-table"}
        empty_text = "No numbers match."

    def render_phone(self, record):
        return format_html('<span title="{}">{}</span>', record.phone, record.display_phone)

    def render_status(self, record):
        if record.status == Status.PERMANENT:
            return mark_safe('<span class="badge text-bg-dark">&#128274; Permanently approved</span>')
        return record.get_status_display()

    def render_added_at(self, record):
        return _when_and_who(record.added_at, record.added_by)

    def render_status_changed_at(self, record):
        return _when_and_who(record.status_changed_at, record.status_changed_by)

    def render_source_task(self, value):
        url = reverse("tasks_logs:detail", args=[value.pk])
        return format_html('<a href="{}">{}</a>', url, value.file_name or f"task #{value.pk}")


def _when_and_who(when, user):
    who = user.get_username() if user else "system"
    return format_html('{} <span class="text-body-secondary">· {}</span>', timezone.localtime(when).strftime("%Y-%m-%d %H:%M"), who)
