"""The Roles page's own permission, `roles.manage_roles`, for Managers instead of Django's
`auth.view_user` / `auth.change_user` (which the admin reads as the right to edit any user,
`is_superuser` included)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "api.view_apikey", "api.add_apikey",
                      "api.change_apikey", "roles.manage_roles"]


def give_managers_the_roles_permission(apps, schema_editor):
    roles_app = apps.get_app_config("roles")
    roles_app.models_module = True
    create_permissions(roles_app, apps=apps, verbosity=0)
    roles_app.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


class Migration(migrations.Migration):
    dependencies = [("roles", "0001_role_groups")]

    operations = [
        migrations.CreateModel(
            name="Role",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
            options={"managed": False, "default_permissions": (),
                     "permissions": [("manage_roles", "Can give users their roles (the Roles page)")]},
        ),
        migrations.RunPython(give_managers_the_roles_permission, migrations.RunPython.noop),
    ]
