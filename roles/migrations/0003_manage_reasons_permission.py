"""The Reasons page's permission, `roles.manage_reasons`, for Managers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "api.view_apikey", "api.add_apikey",
                      "api.change_apikey", "roles.manage_roles", "roles.manage_reasons"]


def give_managers_the_reasons_permission(apps, schema_editor):
    roles_app = apps.get_app_config("roles")
    roles_app.models_module = True
    create_permissions(roles_app, apps=apps, verbosity=0)
    roles_app.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


class Migration(migrations.Migration):
    dependencies = [("roles", "0002_manage_roles_permission")]

    operations = [
        migrations.AlterModelOptions(
            name="role",
            options={"managed": False, "default_permissions": (), "permissions": [
                ("manage_roles", "Can give users their roles (the Roles page)"),
                ("manage_reasons", "Can add, rename and delete reasons (the Reasons page)"),
            ]},
        ),
        migrations.RunPython(give_managers_the_reasons_permission, migrations.RunPython.noop),
    ]
