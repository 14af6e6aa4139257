"""Benchmark of the national registry's loads (issue 18) against raw COPY floors measured in the
same run, and its disk use at 100M numbers, on PostgreSQL.

    .venv/bin/python bench/bench_registry.py                     # 10M full list, 1M change list, 100M registry
    .venv/bin/python bench/bench_registry.py --full-rows 1000000 --runs 1

Builds (once) the database `blacklist_bench_registry` on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), migrated, holding a registry of --registry-rows numbers
(100M) over BUILD_AREA_CODES (5M each: the even numbers of the first half of each area code's
span): per area code its bitmap made in numpy and stored as a load stores one (1,000 exchanges'
rows), and its AreaCode row. The build's time is recorded in bench_registry_build and printed
with the registry's size (table + primary key, vacuumed first).

Then each run times, on that database (its file of --full-rows numbers: LOAD_AREA_CODE's
numbers from its first one on, sorted, one a line, as stored by the upload):
  floor      a raw COPY of the file's bytes into an empty table (committed), and that table's
             primary key built after it (the second floor: the same numbers, as findable as ours)
  first      the load of the file as a full list of an area code never loaded
             (registry.loads.load, task start → succeeded)
  reload     the same file loaded again (every number unchanged: each exchange compared, none
             written)
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

import numpy as np

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
MB = 2**20


def build_registry(rows: int) -> None:
    """The registry of `rows` numbers over BUILD_AREA_CODES, built once: each area code missing
    gets rows / len(BUILD_AREA_CODES) numbers (even ones from its first), its bitmap made and
    stored as a load stores one (registry.bitmaps)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from registry import bitmaps
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
        bits = bitmaps.empty()
        bitmaps.set_bits(bits, np.arange(0, 2 * per_code, 2, dtype=np.int64))
        with transaction.atomic():
            bitmaps.store(code, bitmaps.stored(code), bits)
            AreaCode.objects.update_or_create(code=code, defaults={
                "state": state_of(code), "data_date": timezone.localdate(), "loaded_at": timezone.now(),
                "numbers": per_code})
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_registry_build VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE"
                           " SET numbers = EXCLUDED.numbers, seconds = EXCLUDED.seconds",
                           [code, per_code, time.perf_counter() - started])


def registry_size() -> tuple[int, int, int, int, float]:
    """(numbers, exchanges' rows, table bytes, index bytes) of the registry as built (vacuumed
    first: the change lists of an earlier run leave dead rows), and the build's seconds."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) registry_exchange")
        cursor.execute("SELECT coalesce(sum(seconds), 0), coalesce(sum(numbers), 0) FROM bench_registry_build")
        seconds, numbers = cursor.fetchone()
        cursor.execute("SELECT count(*), pg_relation_size('registry_exchange')"
                       " + coalesce(pg_relation_size(reltoastrelid), 0), pg_indexes_size('registry_exchange')"
                       " FROM registry_exchange, pg_class WHERE pg_class.oid = 'registry_exchange'::regclass"
                       " GROUP BY reltoastrelid")
        exchanges, heap, indexes = (int(value or 0) for value in cursor.fetchone())
    return int(numbers), exchanges, heap, indexes, float(seconds)


def full_list(rows: int) -> bytes:
    """LOAD_AREA_CODE's first `rows` numbers, sorted, one a line."""
    low = LOAD_AREA_CODE * SPAN
    assert rows <= SPAN, "one area code holds at most 10M numbers"
    return ("\n".join(map(str, range(low, low + rows))) + "\n").encode()


def change_list(rows: int, inverse: bool = False) -> bytes:
    """`rows` records on BUILD_AREA_CODES[0], spread over its span, interleaved: adds of numbers the
    build did not list (odd ones), deletes of numbers it did (even ones); `inverse` swaps them."""
    low, half = BUILD_AREA_CODES[0] * SPAN, rows // 2
    step = SPAN // 2 // half
    add, delete = ("D", "A") if inverse else ("A", "D")
    return "".join(f"{low + 2 * k * step + 1},{add},2026-11-01\n{low + 2 * k * step + step},{delete},2026-11-01\n"
                   for k in range(half)).encode()


def floors(content: bytes) -> tuple[float, float]:
    """(a raw COPY of `content` into an empty table, committed; the same + its primary key built)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute("CREATE TABLE bench_copy_floor (number bigint NOT NULL)")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert("COPY bench_copy_floor FROM STDIN", io.BytesIO(content))
    copied = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE bench_copy_floor ADD PRIMARY KEY (number)")
    keyed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_floor")
    return copied, copied + keyed


def timed_load(content: bytes, name: str, **options) -> tuple[float, object, list[tuple[float, str]]]:
    """(seconds task start → succeeded, the TaskLog, its statements over 50 ms: where the time goes;
    COPY is not among them, since copy_expert bypasses execute_wrapper)."""
    from django.db import connection

    from registry import loads

    task_log = loads.save_file(name, content, **options)
    steps: list[tuple[float, str]] = []

    def timed_query(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if (seconds := time.perf_counter() - started) > 0.05:
                steps.append((seconds, " ".join(sql.split())[:70]))

    with connection.execute_wrapper(timed_query):
        started = time.perf_counter()
        task_log = loads.load(task_log)
        elapsed = time.perf_counter() - started
    assert task_log.state == task_log.State.SUCCEEDED, task_log.message
    return elapsed, task_log, steps


def drop_loaded_area_code(task_logs) -> None:
    """Put the database back as built: the loaded area code's exchanges and row gone, its jobs too."""
    from registry.models import AreaCode, RegistryExchange
    from tasks_logs.models import TaskLog

    RegistryExchange.objects.of_area_code(LOAD_AREA_CODE).delete()
    AreaCode.objects.filter(code=LOAD_AREA_CODE).delete()
    TaskLog.objects.filter(pk__in=[task_log.pk for task_log in task_logs]).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=NAME, help=f"the database's name (default: {NAME})")
    parser.add_argument("--registry-rows", type=int, default=100_000_000)
    parser.add_argument("--full-rows", type=int, default=10_000_000)
    parser.add_argument("--change-rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-only", action="store_true", help="build the registry (if needed) and stop")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(args.database)
    build_registry(args.registry_rows)
    numbers, exchanges, heap, indexes, build_seconds = registry_size()
    per_100m = 100_000_000 / numbers
    print(f"registry: {numbers:,} numbers over {len(BUILD_AREA_CODES)} area codes, built in {build_seconds:.1f} s"
          f" (steps summed); {exchanges:,} exchanges' rows: table {heap / MB:.1f} MB + primary key"
          f" {indexes / MB:.1f} MB. Disk grows with the exchanges that list a number (≤ 1,000 an area code,"
          f" ≈ 1.3 kB each), not with the numbers: the whole registry's ~390 area codes take ≤"
          f" {390 * 1000 * (heap + indexes) / max(exchanges, 1) / GB:.2f} GB at any count")
    if args.build_only:
        return

    from registry import loads

    content = full_list(args.full_rows)
    print(f"\nfull list: {args.full_rows:,} numbers of area code {LOAD_AREA_CODE}, {len(content) / 2**20:.0f} MB;"
          f" {args.runs} runs")
    print(f"{'run':>3}  {'COPY':>7}  {'+ PK':>7}  {'first':>7}  {'ratio':>5}  {'reload':>7}  {'ratio':>5}")
    runs = []
    for run in range(1, args.runs + 1):
        drop_loaded_area_code([])
        copied, keyed = floors(content)
        first, first_log, first_steps = timed_load(content, f"{LOAD_AREA_CODE}-full.txt", changes=False)
        reload, reload_log, reload_steps = timed_load(content, f"{LOAD_AREA_CODE}-full-again.txt", changes=False)
        assert (first_log.new, first_log.unchanged) == (args.full_rows, 0), loads.summary(first_log)
        assert (reload_log.new, reload_log.unchanged) == (0, args.full_rows), loads.summary(reload_log)
        runs.append((copied, keyed, first, reload))
        print(f"{run:>3}  {copied:6.2f}s  {keyed:6.2f}s  {first:6.2f}s  {first / copied:4.1f}×  {reload:6.2f}s"
              f"  {reload / copied:4.1f}×", flush=True)
        for label, steps in (("first", first_steps), ("reload", reload_steps)):
            print(f"     {label}'s statements over 50 ms: "
                  + "; ".join(f"{seconds:.2f}s {sql}" for seconds, sql in steps), flush=True)
        drop_loaded_area_code([first_log, reload_log])
    copied, keyed, first, reload = (statistics.median(values) for values in zip(*runs, strict=True))

    changes, changes_log, changes_steps = timed_load(change_list(args.change_rows), "changes.txt", changes=True)
    half = args.change_rows // 2
    assert (changes_log.new, changes_log.deleted, changes_log.unchanged) == (half, half, 0), loads.summary(changes_log)
    inverse, inverse_log, _ = timed_load(change_list(args.change_rows, inverse=True), "inverse.txt", changes=True)
    assert (inverse_log.new, inverse_log.deleted) == (half, half), loads.summary(inverse_log)
    drop_loaded_area_code([changes_log, inverse_log])
    print(f"\nchange list of {args.change_rows:,} records ({half:,} adds + {half:,} deletes): {changes:.2f}s;"
          f" its inverse {inverse:.2f}s; statements over 50 ms: "
          + "; ".join(f"{seconds:.2f}s {sql}" for seconds, sql in changes_steps))

    rows = f"{args.full_rows / 1e6:g}M"
    results = [
        Result(f"registry full list of {rows}, first load", first * 1000, copied * 1000,
               "raw COPY into an empty table", f"≤ {FULL_RATIO:g}× raw", first / copied <= FULL_RATIO),
        Result("  the same ÷ COPY + its primary key", first * 1000, keyed * 1000,
               "raw COPY, then ADD PRIMARY KEY", "", None),
        Result(f"registry full list of {rows}, reload (all unchanged)", reload * 1000, copied * 1000,
               "raw COPY into an empty table", f"≤ {FULL_RATIO:g}× raw", reload / copied <= FULL_RATIO),
        Result("  the same ÷ COPY + its primary key", reload * 1000, keyed * 1000,
               "raw COPY, then ADD PRIMARY KEY", "", None),
        Result(f"registry change list of {args.change_rows / 1e6:g}M (adds + deletes)", changes * 1000, None,
               "", f"≤ {CHANGES_SECONDS:,} s", changes <= CHANGES_SECONDS),
        Result(f"  its inverse (puts {BUILD_AREA_CODES[0]} back)", inverse * 1000, None, "", "", None),
        Result(f"registry build: {numbers / 1e6:g}M numbers, bitmaps stored", build_seconds * 1000, None,
               f"bench_registry_build, {len(BUILD_AREA_CODES)} area codes' steps summed", "(once)", None),
        Result(f"  disk per 100M: table {heap * per_100m / MB:.1f} MB + primary key {indexes * per_100m / MB:.1f} MB",
               0, None, f"{exchanges:,} exchanges' rows (pg_relation_size + TOAST, pg_indexes_size)",
               "(information)", None),
    ]
    print()
    print(table(results))
    if args.json:
        write_json(args.json, results, benchmark="registry", database=args.database, registry_rows=args.registry_rows,
                   full_rows=args.full_rows, change_rows=args.change_rows, runs=runs)


if __name__ == "__main__":
    main()
