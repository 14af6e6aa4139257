"""The lengths of the prefix entries, for the API's scrub on PostgreSQL: its one query reads which
lengths the prefix entries have (a few probes of this small partial index, ~100,000 entries at 10M
numbers) and looks up only each number's heads of those lengths, not every prefix of every number
(44,000 candidates for 10,000 numbers, 20,000 when the prefixes have one length). Read in the same
query, so a prefix added a moment ago blocks on the next request. SQLite keeps looking up every
prefix (api/services.py `lookup`): no index there."""

from django.db import migrations

INDEX = "prefix_entry_lengths"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON blacklist_blacklistednumber (length(phone))"
                              " WHERE phone LIKE '%%*'")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [("blacklist", "0013_all_lists_by_status_change")]

    operations = [migrations.RunPython(create, drop)]
