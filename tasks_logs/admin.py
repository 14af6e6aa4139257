from django.contrib import admin

from .models import TaskLog


@admin.register(TaskLog)
class TaskLogAdmin(admin.ModelAdmin):
    """Read-only: task logs are written by the jobs themselves."""

    list_display = ("id", "kind", "file_name", "state", "created_by", "created_at", "processed", "total")
    list_filter = ("kind", "state")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
