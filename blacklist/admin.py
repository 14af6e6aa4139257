"""The Django admin, read-only for numbers: every change it offers goes through services,
so permanently approved numbers stay untouched here too."""

from django.contrib import admin, messages

from audit.events import Source
from audit.models import Event

from . import services
from .models import BlacklistedNumber

ADMIN = Source(Event.Via.ADMIN)


def _report(modeladmin, request, verb, outcome):
    modeladmin.message_user(request, f"{verb} {outcome.changed:,} number(s). {outcome.skipped_text()}".strip())


@admin.action(description="Approve selected numbers", permissions=["change"])
def approve(modeladmin, request, queryset):
    _report(modeladmin, request, "Approved", services.approve(queryset, request.user, ADMIN))


@admin.action(description="Approve selected numbers permanently", permissions=["approve_permanently"])
def approve_permanently(modeladmin, request, queryset):
    _report(modeladmin, request, "Permanently approved", services.approve_permanently(queryset, request.user, ADMIN))


@admin.action(description="Unapprove selected numbers", permissions=["change"])
def unapprove(modeladmin, request, queryset):
    _report(modeladmin, request, "Unapproved", services.unapprove(queryset, request.user, ADMIN))


@admin.action(description="Remove selected numbers from the blacklist", permissions=["delete"])
def remove(modeladmin, request, queryset):
    _report(modeladmin, request, "Removed", services.remove(queryset, request.user, ADMIN))


@admin.register(BlacklistedNumber)
class BlacklistedNumberAdmin(admin.ModelAdmin):
    list_display = ("phone", "status", "added_at", "added_by", "source_task", "status_changed_at")
    list_filter = ("status",)
    search_fields = ("=phone",)  # exact match: served by the unique index
    show_full_result_count = False  # no COUNT(*) over millions of rows
    list_select_related = ("added_by", "source_task")
    actions = [approve, approve_permanently, unapprove, remove]
    readonly_fields = [f.name for f in BlacklistedNumber._meta.fields]

    def has_add_permission(self, request):
        return False  # numbers come in through the app, where they are normalized

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # `remove` above reports what it skipped
        return actions

    def has_approve_permanently_permission(self, request):
        return request.user.has_perm("blacklist.approve_permanently")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_permanent)

    def delete_model(self, request, obj):
        self.delete_queryset(request, BlacklistedNumber.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        outcome = services.remove(queryset, request.user, ADMIN)
        if outcome.skipped_total:
            self.message_user(request, outcome.skipped_text(), messages.WARNING)
