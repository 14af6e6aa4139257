"""Each event names the list of the entry it is about (docs/lists.md); every event from before
lists is the Internal list's (id 1, made by blacklist 0010). The column is added with that
default and the default dropped: PostgreSQL writes it into its catalogue, not into the events
(which triggers keep from any UPDATE). SQLite rebuilds the table, which drops its triggers: the
append-only guard of migration 0001 is made again.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

initial = importlib.import_module("audit.migrations.0001_initial")


def recreate_sqlite_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in initial.SQLITE_DROP + initial.SQLITE_CREATE:
            schema_editor.execute(statement, params=None)



class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_compliance_report'),
        ('blacklist', '0010_named_lists'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='dnc_list',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='blacklist.dnclist', verbose_name='list', default=1),
            preserve_default=False,
        ),
        migrations.RunPython(recreate_sqlite_guard, migrations.RunPython.noop),
    ]
