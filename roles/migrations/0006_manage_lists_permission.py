"""The Lists page's permission, `blacklist.manage_lists`, for Managers (docs/lists.md)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber", "audit.view_compliance_report"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "blacklist.remove_retained",
                      "api.view_apikey", "api.add_apikey", "api.change_apikey", "roles.manage_roles",
                      "roles.manage_reasons", "blacklist.manage_lists"]


def give_managers_the_lists_permission(apps, schema_editor):
    blacklist_app = apps.get_app_config("blacklist")
    blacklist_app.models_module = True
    create_permissions(blacklist_app, apps=apps, verbosity=0)
    blacklist_app.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


class Migration(migrations.Migration):
    dependencies = [("roles", "0005_remove_retained_permission"), ("blacklist", "0011_manage_lists_permission")]

    operations = [migrations.RunPython(give_managers_the_lists_permission, migrations.RunPython.noop)]
