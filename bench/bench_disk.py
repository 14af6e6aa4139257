"""Disk use and build time of a benchmark database (issue 17: the 100M-number one).

    .venv/bin/python bench/bench_disk.py --database blacklist_bench_100000000

Prints the database's size (pg_database_size), the numbers' table and each of its indexes
(pg_relation_size, and its depth: the levels of the B-tree a lookup descends, from pageinspect's
bt_metap, installed in the benchmark's database), and the build time bench_tabs.fill recorded
step by step in bench_fill_step.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from bench.results import Result, table, write_json  # noqa: E402

GB = 2**30


def disk_and_build(url: str) -> list[Result]:
    """Rows for information (no targets): the build's time, then the sizes, biggest first."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sum(seconds), sum(seconds) FILTER (WHERE step LIKE 'numbers %%' OR step = 'prefixes'),"
                       " sum(seconds) FILTER (WHERE step LIKE 'index %%'), count(*) FROM bench_fill_step")
        total, rows, indexes, steps = cursor.fetchone()
        cursor.execute("SELECT pg_database_size(current_database()), pg_relation_size('blacklist_blacklistednumber'),"
                       " pg_total_relation_size('blacklist_blacklistednumber')")
        database, heap, with_indexes = cursor.fetchone()
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        cursor.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid),"
                       " (SELECT level + 1 FROM bt_metap(indexrelid::regclass::text)) FROM pg_index"
                       " WHERE indrelid = 'blacklist_blacklistednumber'::regclass ORDER BY 2 DESC")
        index_sizes = cursor.fetchall()
    results = [
        Result(f"build: {total / 60:.0f} min of steps (rows {rows / 60:.0f}, indexes {indexes / 60:.0f}, rest vacuum)",
               total * 1000, None, f"bench_tabs.fill's {steps} steps' times summed (at 100M two ran at once)",
               "(once)", None),
        Result(f"disk: database {database / GB:.1f} GB", 0, None, "pg_database_size", "(information)", None),
        Result(f"  numbers' table {heap / GB:.1f} GB, with indexes {with_indexes / GB:.1f} GB", 0, None,
               "pg_relation_size, pg_total_relation_size", "(information)", None),
    ]
    results += [Result(f"  index {name}: {size / GB:.2f} GB, {levels} levels", 0, None,
                       "pg_relation_size, bt_metap", "(information)", None) for name, size, levels in index_sizes]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True, help="the database's name on BENCH_POSTGRES")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    results = disk_and_build(f"{server}/{args.database}")
    print(f"\nDisk use and build time of {args.database}")
    print(table(results))
    if args.json:
        write_json(args.json, results, benchmark="disk", database=args.database)


if __name__ == "__main__":
    main()
