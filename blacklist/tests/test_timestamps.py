"""One stored form for timestamps, whichever path wrote them: on SQLite they are text compared as
text, so the raw SQL's "…+00:00" beside the ORM's "…" broke keyset pages (and would break any
range filter). add_numbers writes the ORM's form; migration 0005 rewrites the rows it wrote before."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction

from blacklist.models import BlacklistedNumber, Status, default_reason_id, internal_list_id
from blacklist.paging import keyset_page

rewrite = importlib.import_module("blacklist.migrations.0005_timestamps_in_one_form").rewrite


@pytest.mark.worker
def test_every_timestamp_is_stored_in_the_form_the_orm_writes(numbers_made_by_every_path):
    """On SQLite timestamps are text compared as text: a second form (the raw SQL's "+00:00")
    breaks keyset pages and every range filter. Checks every DateTimeField of every model."""
    mismatched = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateTimeField):
                continue
            table, column = model._meta.db_table, field.column
            as_stored = f"CAST({column} AS TEXT)" if connection.vendor == "sqlite" else column  # not parsed
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {model._meta.pk.column}, {as_stored} FROM {table} WHERE {column} IS NOT NULL")
                stored = dict(cursor.fetchall())
            written = {
                pk: connection.ops.adapt_datetimefield_value(value)
                for pk, value in model.objects.exclude(**{field.name: None}).values_list("pk", field.name)
            }
            if stored != written:
                mismatched[f"{table}.{column}"] = next(
                    (stored[pk], written[pk]) for pk in stored if stored[pk] != written.get(pk))
    assert BlacklistedNumber.objects.count() > 300
    assert mismatched == {}


def _stored(column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CAST({column} AS TEXT) FROM blacklist_blacklistednumber ORDER BY phone")
        return [value for (value,) in cursor.fetchall()]


def test_migration_0005_rewrites_what_the_raw_sql_stored_and_keeps_the_triggers(transactional_db):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL stores timestamptz, not text: 0005 has nothing to rewrite there")
    reason, internal = default_reason_id(), internal_list_id()
    with connection.cursor() as cursor:  # as add_numbers wrote them before: sqlite3's own adapter, "+00:00"
        cursor.executemany(
            "INSERT INTO blacklist_blacklistednumber (phone, status, added_at, status_changed_at, reason_id, channel,"
            " received_at, deadline, note, dnc_list_id) VALUES (%s, %s, %s, %s, %s, 'other', %s, '2026-12-04', '', %s)",
            [(f"+1212555{i:04d}", Status.PERMANENT if i == 0 else Status.REVIEW, "2026-11-20 10:00:00.123456+00:00",
              "2026-11-21 10:00:00+00:00", reason, "2026-11-20 10:00:00.123456", internal) for i in range(5)],
        )
    BlacklistedNumber.objects.create(phone="+13125550000", status=Status.REVIEW)  # the ORM's form already

    with connection.schema_editor() as editor:
        rewrite(None, editor)

    assert _stored("added_at")[:5] == ["2026-11-20 10:00:00.123456"] * 5
    assert _stored("status_changed_at")[:5] == ["2026-11-21 10:00:00"] * 5
    orm_row = BlacklistedNumber.objects.get(phone="+13125550000")
    assert _stored("added_at")[5] == connection.ops.adapt_datetimefield_value(orm_row.added_at)
    seen, cursor = [], ""
    while page := keyset_page(BlacklistedNumber.objects.all(), "-added_at", 2, after=cursor):
        seen += [row.phone for row in page.rows]
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == sorted(BlacklistedNumber.objects.values_list("phone", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'blacklist_blacklistednumber'")
        assert {name for (name,) in cursor.fetchall()} == {"blacklist_permanent_no_update", "blacklist_permanent_no_delete"}
    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.filter(phone="+12125550000").update(status=Status.REVIEW)
