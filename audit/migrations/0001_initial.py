"""Audit events, and the database's guard that makes them append-only, whatever the path (the
admin, a shell, raw SQL): any UPDATE or DELETE of an event raises an integrity error. The test
clean-up of SQLite lifts it to empty the table (PostgreSQL's test flush uses TRUNCATE, which row
triggers do not see and which only the table's owner may run: see README, Audit trail).

Note for SQLite: Django rebuilds a table on most ALTERs, which drops its triggers; a migration
that alters audit_event must call create_guard again (tests check the triggers exist).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLE = "audit_event"

POSTGRESQL_CREATE = f"""
CREATE FUNCTION audit_refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events cannot be changed or deleted (% of event %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_event_change();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_event_change();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS audit_event_no_update ON {TABLE};
DROP TRIGGER IF EXISTS audit_event_no_delete ON {TABLE};
DROP FUNCTION IF EXISTS audit_refuse_event_change();
"""
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END
    """,
    f"""
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END
    """,
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"]


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError(f"No audit-event guard for {schema_editor.connection.vendor}.")
    for statement in [statements] if isinstance(statements, str) else statements:
        schema_editor.execute(statement, params=None)


def create_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE})


def drop_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})

class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0001_initial'),
        ('tasks_logs', '0003_upload_rejected_rows_heartbeat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('phone', models.CharField(max_length=16, verbose_name='number')),
                ('action', models.CharField(choices=[('added', 'Added'), ('raised', 'Status raised by adding again'), ('approved', 'Approved'), ('approved_permanently', 'Approved permanently'), ('unapproved', 'Unapproved'), ('removed', 'Removed')], max_length=24)),
                ('from_status', models.PositiveSmallIntegerField(blank=True, choices=[(1, 'For review'), (2, 'Approved'), (3, 'Permanently approved')], null=True)),
                ('to_status', models.PositiveSmallIntegerField(blank=True, choices=[(1, 'For review'), (2, 'Approved'), (3, 'Permanently approved')], null=True)),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                ('actor', models.CharField(help_text='the user name, or the API key, as it was then', max_length=200)),
                ('via', models.CharField(choices=[('hand', 'Added by hand'), ('upload', 'Upload'), ('api', 'API'), ('row', 'Row action'), ('bulk', 'Bulk action'), ('bulk_task', 'Bulk action (background)'), ('admin', 'Django admin'), ('other', 'Shell or script')], max_length=16, verbose_name='source')),
                ('api_key', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='api.apikey')),
                ('task', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tasks_logs.tasklog')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['-at', '-id'], name='event_newest_first'), models.Index(fields=['phone', '-at', '-id'], name='event_number_history')],
            },
        ),
        migrations.RunPython(create_guard, drop_guard),
    ]
