from django.contrib import admin

from .models import LoginFailures


@admin.register(LoginFailures)
class LoginFailuresAdmin(admin.ModelAdmin):
    """Where an admin lifts a lockout early: delete the row."""

    list_display = ("key", "count", "since")
    search_fields = ("key",)
