"""The Activity chart's per-day counts (issue 17): audit_daycount holds, per day, action and
list, how many events there are, so that the chart reads a few hundred rows, not a year of events.

PostgreSQL only: an AFTER INSERT statement trigger with a transition table inserts each
statement's counts per day, action and list (whoever writes: services' CTEs, COPY, the admin,
a shell; audit.tasks.compact_day_counts sums them later), and this migration counts the events
already there. The day is the event's
local day in TIME_ZONE as of this migration, written into the trigger's function and recorded as
its comment (audit/chart.py reads it): the same day as the chart's TruncDate in that zone.
Events are never updated or deleted (migrations 0001, 0002), so nothing takes counts away; a
TRUNCATE of the events (their guard lifted: tests, benchmarks) empties the counts too. SQLite keeps no counts (its chart counts events): the tables stay empty.

After a change of TIME_ZONE the chart counts events again until this migration is run again:
`manage.py migrate audit 0006 && manage.py migrate audit`.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EVENTS, COUNTS = "audit_event", "audit_daycount"
# Counted per statement, not per row: a bulk action's million events are a few rows. Inserted,
# not upserted: two writers of the same day never wait for each other's commit on a shared row.
COUNT = (
    f"INSERT INTO {COUNTS} (day, action, dnc_list_id, n)"
    " SELECT (e.at AT TIME ZONE {zone})::date, e.action, coalesce(e.dnc_list_id, 0), count(*)"
    " FROM {source} e GROUP BY 1, 2, 3"
)
POSTGRESQL_CREATE = """
CREATE FUNCTION audit_count_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {count};
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION audit_count_days() IS {zone};
CREATE TRIGGER audit_event_count_days AFTER INSERT ON {EVENTS}
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION audit_count_days();
-- Only where the truncate guard (0002) was lifted, as the tests' clean-up and the benchmarks do.
CREATE FUNCTION audit_uncount_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {COUNTS};  -- not TRUNCATE: a flush truncates both tables in one statement
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_event_uncount_days AFTER TRUNCATE ON {EVENTS}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_uncount_days();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS audit_event_count_days ON {EVENTS};
DROP TRIGGER IF EXISTS audit_event_uncount_days ON {EVENTS};
DROP FUNCTION IF EXISTS audit_count_days();
DROP FUNCTION IF EXISTS audit_uncount_days();
"""


def count_days(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No event written between the count of those there and the trigger's start of counting.
    schema_editor.execute(f"LOCK TABLE {EVENTS} IN SHARE MODE")
    zone = schema_editor.quote_value(settings.TIME_ZONE)
    schema_editor.execute(COUNT.format(source=EVENTS, zone=zone), params=None)
    schema_editor.execute(POSTGRESQL_CREATE.format(
        count=COUNT.format(source="new_events", zone=zone), zone=zone, EVENTS=EVENTS, COUNTS=COUNTS), params=None)


def stop_counting(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_requests_per_entry'),
        ('blacklist', '0014_prefix_entry_lengths'),
    ]

    operations = [
        migrations.CreateModel(
            name='DayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('action', models.CharField(max_length=24)),
                ('n', models.BigIntegerField()),
                ('dnc_list', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='blacklist.dnclist', verbose_name='list')),
            ],
            options={
                'indexes': [models.Index(fields=['day', 'action'], name='daycount_day_action')],
            },
        ),
        migrations.RunPython(count_days, stop_counting),
    ]
