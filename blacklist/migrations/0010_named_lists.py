"""Named DNC lists (docs/lists.md): the lists, and each number an entry of one of them.

- The built-in *Internal* list is made first (id 1: its table is new), and every existing number
  becomes an entry of it: the column is added with that default, which PostgreSQL writes into
  its catalogue, not into 10 million rows; the events follow in audit 0005.
- A number may be on several lists: `phone` is unique per list, not overall. The unique
  (phone, list) index serves check and scrub; `phone_prefix_search` (varchar_pattern_ops on
  PostgreSQL) the prefix search the unique phone index's twin served before.
- The tabs' indexes lead with the list; the newest-first and deadline ones over every list stay
  for "All lists"; the by-status-change ones over every list go.
- The permanent-number guard also refuses moving a permanent entry to another list. SQLite
  rebuilds the table for the new column, which drops its triggers: they are made again last.
"""

import importlib

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import blacklist.models

TABLE = "blacklist_blacklistednumber"
PERMANENT = 3  # Status.PERMANENT; frozen here as migrations must be
INTERNAL_ID = 1  # the first row of a new table, on both databases (checked by make_internal_list)

# The guard of migration 0002, the list column watched too.
POSTGRESQL_UPDATE_GUARD = f"""
DROP TRIGGER IF EXISTS blacklist_permanent_no_update ON {TABLE};
CREATE TRIGGER blacklist_permanent_no_update BEFORE UPDATE OF status, phone, dnc_list_id ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = {PERMANENT} AND (NEW.status <> {PERMANENT} OR NEW.phone <> OLD.phone
                       OR NEW.dnc_list_id <> OLD.dnc_list_id))
    EXECUTE FUNCTION blacklist_refuse_permanent_change();
"""
POSTGRESQL_UPDATE_GUARD_BEFORE = f"""
DROP TRIGGER IF EXISTS blacklist_permanent_no_update ON {TABLE};
CREATE TRIGGER blacklist_permanent_no_update BEFORE UPDATE OF status, phone ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = {PERMANENT} AND (NEW.status <> {PERMANENT} OR NEW.phone <> OLD.phone))
    EXECUTE FUNCTION blacklist_refuse_permanent_change();
"""
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER blacklist_permanent_no_update BEFORE UPDATE OF status, phone, dnc_list_id ON {TABLE}
    FOR EACH ROW WHEN OLD.status = {PERMANENT} AND (NEW.status <> {PERMANENT} OR NEW.phone <> OLD.phone
                                               OR NEW.dnc_list_id <> OLD.dnc_list_id)
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


def make_internal_list(apps, schema_editor):
    internal = apps.get_model("blacklist", "DncList").objects.create(
        name="Internal", kind="internal", description="Every number that is on no other list."
    )
    if internal.pk != INTERNAL_ID:
        raise RuntimeError(f"The Internal list got id {internal.pk}, not {INTERNAL_ID}: is blacklist_dnclist new?")


def create_guard(apps, schema_editor):
    """The guard as it is from here on (the tests' clean-up lifts and makes it again on SQLite)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UPDATE_GUARD, params=None)
    else:
        for statement in SQLITE_DROP + SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def drop_guard(apps, schema_editor):
    """SQLite's row triggers, for the tests' clean-up (PostgreSQL's are lifted there otherwise)."""
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


def narrow_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UPDATE_GUARD_BEFORE, params=None)
    else:
        guard = importlib.import_module("blacklist.migrations.0002_permanent_numbers_guard")
        for statement in guard.SQLITE_DROP + guard.SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('blacklist', '0009_retention_and_expiry'),
        ('tasks_logs', '0003_upload_rejected_rows_heartbeat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DncList',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=80)),
                ('description', models.CharField(blank=True, default='', max_length=300)),
                ('kind', models.CharField(choices=[('internal', 'Internal (built in)'), ('named', 'Named list')], default='named', max_length=8)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('archived_at', models.DateTimeField(blank=True, null=True, verbose_name='archived')),
            ],
            options={
                'verbose_name': 'DNC list',
                'ordering': ['pk'],
            },
        ),
        migrations.RunPython(make_internal_list, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='blacklistednumber',
            name='review_by_status_change',
        ),
        migrations.RemoveIndex(
            model_name='blacklistednumber',
            name='approved_by_status_change',
        ),
        migrations.AlterField(
            model_name='blacklistednumber',
            name='phone',
            field=models.CharField(max_length=16, verbose_name='number'),
        ),
        migrations.AddField(
            model_name='dnclist',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='blacklistednumber',
            name='dnc_list',
            field=models.ForeignKey(db_index=False, default=INTERNAL_ID, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='blacklist.dnclist', verbose_name='list'),
            preserve_default=False,
        ),
        migrations.AlterField(  # the model's default from now on (nothing in the database)
            model_name='blacklistednumber',
            name='dnc_list',
            field=models.ForeignKey(db_index=False, default=blacklist.models.internal_list_id, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='blacklist.dnclist', verbose_name='list'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(fields=['phone'], name='phone_prefix_search', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status', 1)), fields=['dnc_list', '-added_at', '-id'], name='list_review_newest_first'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status__gte', 2)), fields=['dnc_list', '-added_at', '-id'], name='list_approved_newest_first'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status', 1)), fields=['dnc_list', '-status_changed_at', '-id'], name='list_review_by_status_change'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status__gte', 2)), fields=['dnc_list', '-status_changed_at', '-id'], name='list_approved_by_status_change'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status', 1)), fields=['dnc_list', 'deadline', 'id'], name='list_review_by_deadline'),
        ),
        migrations.AddConstraint(
            model_name='blacklistednumber',
            constraint=models.UniqueConstraint(fields=('phone', 'dnc_list'), name='one_entry_per_list'),
        ),
        migrations.AddConstraint(
            model_name='dnclist',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('name'), name='list_name_unique'),
        ),
        migrations.AddConstraint(
            model_name='dnclist',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'internal')), fields=('kind',), name='one_internal_list'),
        ),
        migrations.RunPython(create_guard, narrow_guard),
    ]
