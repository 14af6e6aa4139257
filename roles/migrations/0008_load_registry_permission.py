"""Managers load the national registry's files and see its freshness on the Registry page
(`registry.load_registry`, docs/registry.md)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber", "audit.view_compliance_report"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "blacklist.remove_retained",
                      "blacklist.add_prefix", "api.view_apikey", "api.add_apikey", "api.change_apikey",
                      "roles.manage_roles", "roles.manage_reasons", "blacklist.manage_lists",
                      "registry.load_registry"]


def give_managers_the_registry_permission(apps, schema_editor):
    registry_app = apps.get_app_config("registry")
    registry_app.models_module = True
    create_permissions(registry_app, apps=apps, verbosity=0)
    registry_app.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


class Migration(migrations.Migration):
    dependencies = [("roles", "0007_add_prefix_permission"), ("registry", "0002_load_registry_permission")]

    operations = [migrations.RunPython(give_managers_the_registry_permission, migrations.RunPython.noop)]
