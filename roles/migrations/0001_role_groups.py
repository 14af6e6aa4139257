"""The Viewer, Reviewer and Manager groups (roles/groups.py says which permissions each holds).

Permissions are normally created after all migrations ran (post_migrate), so they are created
here first. A later change to roles/groups.py needs a new migration that calls sync_groups again;
each migration passes the roles as they were then (frozen, as migrations must be).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "api.view_apikey", "api.add_apikey",
                      "api.change_apikey", "auth.view_user", "auth.change_user"]


def create_role_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Viewer", "Reviewer", "Manager"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("blacklist", "0004_role_permissions"),
        ("tasks_logs", "0003_upload_rejected_rows_heartbeat"),
        ("api", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
