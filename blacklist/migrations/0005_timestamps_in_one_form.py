"""Rewrite timestamps that add_numbers' raw SQL stored on SQLite as "2026-11-27 09:35:39.123456+00:00"
into the ORM's form, "2026-11-27 09:35:39.123456" (naive UTC text).

SQLite compares these columns as text, so the two forms side by side broke keyset pages (a page's
cursor is compared in the ORM's form) and every other timestamp comparison. add_numbers now
writes the ORM's form. The raw SQL only ever wrote timezone.now(), which is UTC, so "+00:00" is
the only suffix to strip. One UPDATE a column, no table rebuild: the permanent-number triggers
(0002) stay, and they do not fire (they watch status and phone). The other raw writer, the
audit events (audit.events), always adapted its timestamps as the ORM does; task logs are
written by the ORM only. PostgreSQL stores timestamptz: nothing to do there.
"""

from django.db import migrations

TABLE = "blacklist_blacklistednumber"
COLUMNS = ("added_at", "status_changed_at")


def rewrite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"UPDATE {TABLE} SET {column} = substr({column}, 1, length({column}) - 6) WHERE {column} LIKE '%+00:00'",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0004_role_permissions")]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
