"""Migration 0003 carries the numbers loaded as a row each (registry_number) over to a bitmap per
exchange (registry_exchange), and back when unapplied, on both databases."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from registry import loads
from registry.models import AreaCode, RegistryExchange

from .files import flat, numbers

ROWS = [("registry", "0002_load_registry_permission")]


@pytest.mark.django_db(transaction=True)
def test_the_numbers_move_to_bitmaps_and_back_unchanged():
    loaded = numbers(201, 1200) + numbers(212, 30, start=9_990) + [2125559999, 9075550000]
    assert loads.load(loads.save_file("full.txt", flat(loaded))).new == len(loaded)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(ROWS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT number FROM registry_number ORDER BY number")
            assert [number for (number,) in cursor.fetchall()] == sorted(loaded)
            cursor.execute("DELETE FROM registry_number WHERE number = %s", [loaded[0]])
            cursor.execute("INSERT INTO registry_number (number) VALUES (%s)", [2012000000 + 5_000_000])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    assert RegistryExchange.objects.numbers() == sorted([*loaded[1:], 2017000000])
    assert sorted(AreaCode.objects.values_list("code", flat=True)) == [201, 212, 907]
    assert RegistryExchange.objects.of_area_code(212).count() == 3  # 212-200, 212-201 and 212-555
