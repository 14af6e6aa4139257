"""Benchmark of the national registry's loads (issue 18) against raw COPY floors measured in the
same run, and its disk use at 100M numbers, on PostgreSQL.

    .venv/bin/python bench/bench_registry.py                     # 10M full list, 1M change list, 100M registry
    .venv/bin/python bench/bench_registry.py --full-rows 1000000 --runs 1

Builds (once) the database `blacklist_bench_registry` on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), migrated, holding a registry of --registry-rows numbers
(100M) over BUILD_AREA_CODES (5M each: the even numbers of each area code's span), set-based:
per area code one INSERT … SELECT generate_series into a new table, its primary key, VACUUM
ANALYZE, ATTACH PARTITION; its AreaCode row. The build's time is recorded in
bench_registry_build and printed with the registry's size (table + indexes, per 100M numbers).

Then each run times, on that database (its file of --full-rows numbers: LOAD_AREA_CODE's
numbers from its first one on, sorted, one a line, as stored by the upload):
  floor      a raw COPY of the file's bytes into an empty table (committed), and that table's
             primary key built after it (the second floor: the same numbers, as findable as ours)
  first      the load of the file as a full list of an area code never loaded
             (registry.loads.load, task start → succeeded)
  reload     the same file loaded again (every number unchanged: the full count of the old
             partition against the new one)
  changes    a change list of --change-rows records on BUILD_AREA_CODES[0], half adds of
             numbers not listed, half deletes of listed ones, interleaved; then its inverse
             (untimed row), which puts the registry back as it was
The loaded area code is dropped at the end, so the database keeps its --registry-rows numbers.
Targets (issue 18): full list ≤ 2× the raw COPY; change list of 1M ≤ 30 s.
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import setup_django  # noqa: E402
from bench.results import Result, table, write_json  # noqa: E402

NAME = "blacklist_bench_registry"
BUILD_AREA_CODES = [201, 202, 203, 205, 206, 207, 208, 209, 210, 213,
                    214, 215, 216, 217, 218, 219, 220, 223, 224, 225]
LOAD_AREA_CODE = 212  # not among BUILD_AREA_CODES: its first load is a first one
SPAN = 10**7
FULL_RATIO = 2.0
CHANGES_SECONDS = 30
GB = 2**30


def build_registry(rows: int) -> None:
    """The registry of `rows` numbers over BUILD_AREA_CODES, built once: each area code missing
    gets rows / len(BUILD_AREA_CODES) numbers (even ones from its first), as its partition."""
    from django.db import connection, transaction
    from django.utils import timezone

    from registry.formats import state_of
    from registry.models import AreaCode

    per_code = rows // len(BUILD_AREA_CODES)
    assert per_code * 2 <= SPAN, "at most half an area code's span each (the change list adds odd numbers)"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_registry_build (code integer PRIMARY KEY,"
                       " numbers bigint NOT NULL, seconds double precision NOT NULL)")
    done = {area.code: area.numbers for area in AreaCode.objects.filter(code__in=BUILD_AREA_CODES)}
    for code in BUILD_AREA_CODES:
        if done.get(code) == per_code:
            continue
        print(f"Building area code {code}: {per_code:,} numbers…", flush=True)
        started = time.perf_counter()
        low, table_name = code * SPAN, f"registry_number_{code}"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table_name}")
            cursor.execute(f"CREATE TABLE {table_name} (number bigint NOT NULL)")
            cursor.execute(f"INSERT INTO {table_name} SELECT {low} + 2 * i FROM generate_series(0, %s) AS i",
                           [per_code - 1])
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(f"ALTER TABLE {table_name} ADD CONSTRAINT {table_name}_pkey PRIMARY KEY (number)")
            cursor.execute(f"ALTER TABLE {table_name} ADD CONSTRAINT {table_name}_range"
                           f" CHECK (number >= {low} AND number < {low + SPAN})")
            cursor.execute(f"ALTER TABLE registry_number ATTACH PARTITION {table_name}"
                           f" FOR VALUES FROM ({low}) TO ({low + SPAN})")
            cursor.execute(f"ALTER TABLE {table_name} DROP CONSTRAINT {table_name}_range")
            AreaCode.objects.update_or_create(code=code, defaults={
                "state": state_of(code), "data_date": timezone.localdate(), "loaded_at": timezone.now(),
                "numbers": per_code})
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (FREEZE, ANALYZE) {table_name}")  # as a load's COPY FREEZE leaves it
            cursor.execute("INSERT INTO bench_registry_build VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE"
                           " SET numbers = EXCLUDED.numbers, seconds = EXCLUDED.seconds",
                           [code, per_code, time.perf_counter() - started])


def registry_size() -> tuple[int, int, int, float]:
    """(numbers, table bytes, index bytes, build seconds) of the built area codes' partitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(numbers), 0), coalesce(sum(seconds), 0) FROM bench_registry_build")
        numbers, seconds = cursor.fetchone()
        cursor.execute("SELECT sum(pg_relation_size(relid)), sum(pg_indexes_size(relid))"
                       " FROM pg_partition_tree('registry_number') WHERE isleaf"
                       " AND relid::text = ANY(%s)", [[f"registry_number_{code}" for code in BUILD_AREA_CODES]])
        heap, indexes = cursor.fetchone()
    return numbers, heap, indexes, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=NAME, help=f"the database's name (default: {NAME})")
    parser.add_argument("--registry-rows", type=int, default=100_000_000)
    parser.add_argument("--build-only", action="store_true", help="build the registry (if needed) and stop")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(args.database)
    build_registry(args.registry_rows)
    numbers, heap, indexes, seconds = registry_size()
    print(f"registry: {numbers:,} numbers, table {heap / GB:.2f} GB + indexes {indexes / GB:.2f} GB,"
          f" built in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
