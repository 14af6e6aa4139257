"""The append-only guard of audit events, closed against the two paths that skip row triggers
(as blacklist/0005 does for permanent numbers):

- PostgreSQL: a `BEFORE TRUNCATE` trigger refuses `TRUNCATE audit_event` (also through
  `TRUNCATE … CASCADE`) while the table holds an event.
- SQLite: `INSERT OR REPLACE` / `REPLACE INTO` of an existing event's id deletes it without
  firing the delete trigger unless `PRAGMA recursive_triggers` is on, which the settings do on
  every connection; `UPDATE OR REPLACE` is refused by the update trigger already.
"""

from django.db import migrations

TABLE = "audit_event"

POSTGRESQL_CREATE = f"""
CREATE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {TABLE}) THEN
        RAISE EXCEPTION 'audit events cannot be deleted (TRUNCATE of {TABLE})'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS audit_event_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""


def create_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_guard, drop_guard)]
