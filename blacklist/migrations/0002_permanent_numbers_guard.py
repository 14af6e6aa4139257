"""The database's own guard for permanently approved numbers.

The service layer already skips them; these triggers make sure no other path (a raw
QuerySet.update()/delete(), the Django admin, a shell, a future developer) can change a
permanent number's status or phone, or delete it. Both raise an integrity error.
"""

from django.db import migrations

TABLE = "blacklist_blacklistednumber"
PERMANENT = 3  # Status.PERMANENT; frozen here as migrations must be

POSTGRESQL_CREATE = f"""
CREATE FUNCTION blacklist_refuse_permanent_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'permanently approved number % cannot be removed', OLD.phone
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'permanently approved number % cannot be changed', OLD.phone
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER blacklist_permanent_no_update BEFORE UPDATE OF status, phone ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = {PERMANENT} AND (NEW.status <> {PERMANENT} OR NEW.phone <> OLD.phone))
    EXECUTE FUNCTION blacklist_refuse_permanent_change();
CREATE TRIGGER blacklist_permanent_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = {PERMANENT})
    EXECUTE FUNCTION blacklist_refuse_permanent_change();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS blacklist_permanent_no_update ON {TABLE};
DROP TRIGGER IF EXISTS blacklist_permanent_no_delete ON {TABLE};
DROP FUNCTION IF EXISTS blacklist_refuse_permanent_change();
"""

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER blacklist_permanent_no_update BEFORE UPDATE OF status, phone ON {TABLE}
    FOR EACH ROW WHEN OLD.status = {PERMANENT} AND (NEW.status <> {PERMANENT} OR NEW.phone <> OLD.phone)
    BEGIN SELECT RAISE(ABORT, 'permanently approved numbers cannot be changed'); END
    """,
    f"""
    CREATE TRIGGER blacklist_permanent_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW WHEN OLD.status = {PERMANENT}
    BEGIN SELECT RAISE(ABORT, 'permanently approved numbers cannot be removed'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS blacklist_permanent_no_update",
    "DROP TRIGGER IF EXISTS blacklist_permanent_no_delete",
]


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError(f"No permanent-number guard for {schema_editor.connection.vendor}.")
    for statement in [statements] if isinstance(statements, str) else statements:
        schema_editor.execute(statement, params=None)


def create_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE})


def drop_guard(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0001_initial")]

    operations = [migrations.RunPython(create_guard, drop_guard)]
