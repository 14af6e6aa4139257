"""The registry's numbers move from a row per number (registry_number, on PostgreSQL partitioned by
area code) to a bitmap per exchange (registry_exchange, models.RegistryExchange): the numbers
already loaded are carried over, each area code's in one pass, and back again when unapplied."""

import numpy as np
from django.db import migrations, models

AREA_SPAN, EXCHANGE_SPAN, EXCHANGES = 10**7, 10**4, 1000
NUMBERS = "registry_number"
READ = 1_000_000  # numbers fetched at a time
CREATE_NUMBERS = {  # as 0001 made it
    "postgresql": f"CREATE TABLE {NUMBERS} (number bigint NOT NULL PRIMARY KEY) PARTITION BY RANGE (number)",
    "sqlite": f"CREATE TABLE {NUMBERS} (number integer NOT NULL PRIMARY KEY)",
}


def _loaded_codes(apps) -> list[int]:
    return list(apps.get_model("registry", "AreaCode").objects.order_by("code").values_list("code", flat=True))


def numbers_to_exchanges(apps, schema_editor):
    """Each loaded area code's numbers into bitmaps: a row per exchange that lists one."""
    with schema_editor.connection.cursor() as cursor:
        for code in _loaded_codes(apps):
            bits = np.zeros(AREA_SPAN, bool)
            cursor.execute(f"SELECT number FROM {NUMBERS} WHERE number >= %s AND number < %s",
                           [code * AREA_SPAN, (code + 1) * AREA_SPAN])
            while rows := cursor.fetchmany(READ):
                bits[np.array(rows, np.int64).ravel() - code * AREA_SPAN] = True
            exchanges = np.packbits(bits, bitorder="little").reshape(EXCHANGES, EXCHANGE_SPAN // 8)
            listing = np.flatnonzero(exchanges.any(axis=1))
            cursor.executemany("INSERT INTO registry_exchange (exchange, bits) VALUES (%s, %s)",
                               [(code * EXCHANGES + int(i), exchanges[i].tobytes()) for i in listing])


def exchanges_to_numbers(apps, schema_editor):
    """Back: each exchange's set bits as numbers (PostgreSQL: into a partition per area code)."""
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            for code in _loaded_codes(apps):
                cursor.execute(f"CREATE TABLE {NUMBERS}_{code} PARTITION OF {NUMBERS}"
                               f" FOR VALUES FROM ({code * AREA_SPAN}) TO ({(code + 1) * AREA_SPAN})")
        cursor.execute(f"WITH RECURSIVE line(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM line WHERE n < {EXCHANGE_SPAN - 1})"
                       f" INSERT INTO {NUMBERS} (number) SELECT CAST(e.exchange AS bigint) * {EXCHANGE_SPAN} + line.n"
                       " FROM registry_exchange e CROSS JOIN line WHERE get_bit(e.bits, line.n) = 1")


def drop_numbers_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {NUMBERS}")  # on PostgreSQL, its partitions with it


def create_numbers_table(apps, schema_editor):
    schema_editor.execute(CREATE_NUMBERS[schema_editor.connection.vendor])


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_load_registry_permission'),
    ]

    operations = [
        migrations.CreateModel(
            name='RegistryExchange',
            fields=[
                ('exchange', models.PositiveIntegerField(help_text='the first 6 digits: area code and exchange', primary_key=True, serialize=False)),
                ('bits', models.BinaryField(help_text="1,250 bytes: bit n is whether the registry lists the exchange's number n")),
            ],
            options={
                'db_table': 'registry_exchange',
            },
        ),
        migrations.RunPython(numbers_to_exchanges, exchanges_to_numbers),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='RegistryNumber')],
            database_operations=[migrations.RunPython(drop_numbers_table, create_numbers_table)],
        ),
    ]
