"""The Django admin, read-only for numbers: every change it offers goes through services,
so permanently approved numbers, and those kept for retention, stay untouched here too."""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import OperationalError
from django.http import HttpResponseRedirect
from django.utils import timezone

from audit.events import Source
from audit.models import Event

from . import services
from .actions import ACTIONS, RETAINED, Action
from .models import BlacklistedNumber

ADMIN = Source(Event.Via.ADMIN)
# The admin asks for no justification: numbers kept for retention stay, and this says where to go.
KEPT_HERE = ("Numbers kept for retention (the consumer's own requests) stay listed: a Manager may remove one"
             " earlier from its Blacklists tab, with a written justification.")


def _admin_action(action: Action):
    """The admin's action for a declared one: its rule, reported as "Approved 3 number(s)."."""

    def run(modeladmin, request, queryset):
        outcome = services.RULES[action.name](queryset, request.user, ADMIN)
        report = f"{action.past} {outcome.changed:,} number(s). {outcome.skipped_text()}"
        if outcome.skipped.get(RETAINED):
            report += f" {KEPT_HERE}"
        modeladmin.message_user(request, report.strip())

    return run


@admin.register(BlacklistedNumber)
class BlacklistedNumberAdmin(admin.ModelAdmin):
    list_display = ("phone", "status", "added_at", "added_by", "source_task", "status_changed_at")
    list_filter = ("status",)
    search_fields = ("=phone",)  # exact match: served by the unique index
    show_full_result_count = False  # no COUNT(*) over millions of rows
    list_select_related = ("added_by", "source_task")
    readonly_fields = [f.name for f in BlacklistedNumber._meta.fields]

    def changelist_view(self, request, extra_context=None):  # where the actions run
        return self._busy_says_try_again(request, super().changelist_view, extra_context=extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._busy_says_try_again(request, super().delete_view, object_id, extra_context=extra_context)

    def _busy_says_try_again(self, request, view, *args, **kwargs):
        """Others kept changing the same numbers (services.kept_busy; nothing was changed): say so
        on the same page, as the app's pages do, never a 500."""
        try:
            return view(request, *args, **kwargs)
        except OperationalError as error:
            if not services.kept_busy(error):
                raise
            self.message_user(request, services.Busy.said, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_add_permission(self, request):
        return False  # numbers come in through the app, where they are normalized

    def get_actions(self, request):
        """Each declared action the user may run (blacklist/actions.py), and not Django's own
        delete_selected: `remove` reports what it skipped. None in a popup, as Django does."""
        if IS_POPUP_VAR in request.GET:
            return {}
        return {
            action.name: (_admin_action(action), action.name, action.admin_label)
            for action in ACTIONS.values() if request.user.has_perm(action.permission)
        }

    def has_delete_permission(self, request, obj=None):
        """No delete button for a number nothing may remove here: permanent, or kept for retention."""
        if obj is not None and (obj.is_permanent or BlacklistedNumber.objects.filter(pk=obj.pk).retained(
                timezone.now()).exists()):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        self.delete_queryset(request, BlacklistedNumber.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        outcome = services.remove(queryset, request.user, ADMIN)
        if outcome.skipped_total:
            kept_here = KEPT_HERE if outcome.skipped.get(RETAINED) else ""
            self.message_user(request, f"{outcome.skipped_text()} {kept_here}".strip(), messages.WARNING)
