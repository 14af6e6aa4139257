"""Each event records the request it is about (docs/compliance.md): reason, channel, received
date, deadline, note, and the line of its upload. Existing events keep them empty.

SQLite rebuilds the table to add columns with a default, which drops its triggers: the
append-only guard of migration 0001 is made again (tests check it exists). On PostgreSQL the
columns are added without rewriting the table.
"""

import importlib

from django.db import migrations, models

initial = importlib.import_module("audit.migrations.0001_initial")


def recreate_sqlite_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in initial.SQLITE_DROP + initial.SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_truncate_guard")]

    operations = [
        migrations.AddField(model_name="event", name="reason", field=models.CharField(blank=True, default="", max_length=60)),
        migrations.AddField(
            model_name="event",
            name="channel",
            field=models.CharField(blank=True, choices=[("phone", "Phone call"), ("sms", "SMS"), ("email", "E-mail"), ("web", "Web form"), ("letter", "Letter"), ("api", "API"), ("upload", "Upload"), ("other", "Other")], default="", max_length=8),
        ),
        migrations.AddField(model_name="event", name="received_at", field=models.DateTimeField(blank=True, null=True, verbose_name="request received")),
        migrations.AddField(model_name="event", name="deadline", field=models.DateField(blank=True, null=True, verbose_name="honour by")),
        migrations.AddField(model_name="event", name="note", field=models.CharField(blank=True, default="", max_length=500)),
        migrations.AddField(model_name="event", name="line", field=models.PositiveIntegerField(blank=True, null=True, verbose_name="line in the upload")),
        migrations.AlterField(  # the actions `repeated` and `expired`
            model_name="event",
            name="action",
            field=models.CharField(choices=[("added", "Added"), ("raised", "Status raised by adding again"), ("repeated", "Requested again"), ("approved", "Approved"), ("approved_permanently", "Approved permanently"), ("unapproved", "Unapproved"), ("removed", "Removed"), ("expired", "Expired")], max_length=24),
        ),
        migrations.RunPython(recreate_sqlite_guard, migrations.RunPython.noop),
    ]
