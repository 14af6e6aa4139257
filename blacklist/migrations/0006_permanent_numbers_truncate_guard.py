"""The permanent-number guard, closed against the two paths that skip row triggers.

- PostgreSQL: `TRUNCATE` (also one reached by `TRUNCATE … CASCADE` from another table) fires no
  row trigger; a `BEFORE TRUNCATE` trigger refuses it while the table holds a permanently
  approved number. (`DROP TABLE` and `ALTER TABLE … DISABLE TRIGGER` need the table's owner:
  run the app as another role, see README, Deploying.)
- SQLite: `INSERT OR REPLACE`, `REPLACE INTO` and `UPDATE OR REPLACE` delete the conflicting row
  without firing delete triggers, unless `PRAGMA recursive_triggers` is on: the settings turn it on
  for every connection the app opens (blacklist_admin/settings.py), so the delete trigger of
  migration 0002 refuses the replace. Nothing to add to the schema here.

The tests' clean-up (conftest.py) lifts the truncate guard for pytest-django's flush only.
"""

from django.db import migrations

TABLE = "blacklist_blacklistednumber"
PERMANENT = 3  # Status.PERMANENT; frozen here as migrations must be

POSTGRESQL_CREATE = f"""
CREATE FUNCTION blacklist_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {TABLE} WHERE status = {PERMANENT}) THEN
        RAISE EXCEPTION 'permanently approved numbers cannot be removed (TRUNCATE of {TABLE})'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER blacklist_permanent_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION blacklist_refuse_truncate();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS blacklist_permanent_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS blacklist_refuse_truncate();
"""


def create_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0005_timestamps_in_one_form")]

    operations = [migrations.RunPython(create_guard, drop_guard)]
