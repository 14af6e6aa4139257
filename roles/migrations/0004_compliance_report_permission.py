"""Reviewers (and so Managers) may see the compliance report: `audit.view_compliance_report`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from roles.groups import sync_groups

VIEWER = ["blacklist.view_blacklistednumber", "tasks_logs.view_tasklog", "audit.view_event"]
REVIEWER = VIEWER + ["blacklist.add_blacklistednumber", "blacklist.change_blacklistednumber",
                     "blacklist.delete_blacklistednumber", "audit.view_compliance_report"]
MANAGER = REVIEWER + ["blacklist.add_approved", "blacklist.approve_permanently", "api.view_apikey", "api.add_apikey",
                      "api.change_apikey", "roles.manage_roles", "roles.manage_reasons"]


def give_reviewers_the_report(apps, schema_editor):
    audit_app = apps.get_app_config("audit")
    audit_app.models_module = True
    create_permissions(audit_app, apps=apps, verbosity=0)
    audit_app.models_module = None
    sync_groups(apps, {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER})


class Migration(migrations.Migration):
    dependencies = [("roles", "0003_manage_reasons_permission"), ("audit", "0004_compliance_report")]

    operations = [migrations.RunPython(give_reviewers_the_report, migrations.RunPython.noop)]
