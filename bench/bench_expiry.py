"""Benchmark: 1M numbers expiring in one run of the expiry task, against a raw floor measured in
the same run, on PostgreSQL.

    .venv/bin/python bench/bench_expiry.py               # 1M expiring among 2M, 1 round
    .venv/bin/python bench/bench_expiry.py --rounds 3

Builds (once) the database `blacklist_bench_expiry` on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), migrated. Before each timing the table is refilled by one
INSERT … SELECT generate_series: --rows numbers on the Internal list that expired a minute ago
(reason Wrong number), and the same numbers on a named list, never expiring (issue 15: expiry is
per entry, so those must all stay), and the events emptied. Each round times, in alternating order:
  ours   services.remove_expired(), as the beat task runs it: batches of EXPIRY_BATCH numbers,
         one transaction each (its rows locked in phone order, deleted, an `expired` event each)
  floor  one statement: DELETE … RETURNING the same rows feeding INSERT INTO audit_event (the
         same event columns), in one transaction that holds every row lock to the end
Printed: both totals, and ours' longest single transaction (how long a writer may wait on a
row it locks). Targets: longest transaction ≤ 1 s; total ≤ 2× the floor (medians).
"""

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "blacklist_bench_expiry"
LONGEST_MS = 1_000
RATIO = 2

from bench.database import setup_django  # noqa: E402


def campaign_list():
    """The named list whose entries never expire."""
    from blacklist.models import DncList

    return DncList.objects.get_or_create(name="Bench: campaign", defaults={"description": "bench_expiry"})[0]


def refill(rows: int) -> None:
    """`rows` expired entries on Internal, and the same numbers on the campaign list, never
    expiring; no events. The truncate guards are
    lifted for the emptying only, as the tests' clean-up does (conftest.py)."""
    from django.db import connection

    from blacklist.models import Reason, default_reason_id, internal_list_id

    guards = [importlib.import_module("blacklist.migrations.0006_permanent_numbers_truncate_guard"),
              importlib.import_module("audit.migrations.0002_truncate_guard")]
    default_reason_id()
    wrong = Reason.objects.get(slug="wrong_number").pk
    with connection.schema_editor() as editor:
        for guard in guards:
            guard.drop_guard(None, editor)
        editor.execute("TRUNCATE blacklist_blacklistednumber, audit_event")
        for guard in guards:
            guard.create_guard(None, editor)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO blacklist_blacklistednumber (phone, dnc_list_id, status, added_at, status_changed_at,"
            " reason_id, channel, received_at, deadline, note, expires_at)"
            " SELECT '+1' || (2000000000 + i / 2)::text, CASE WHEN i %% 2 = 0 THEN %s ELSE %s END, 2, now(), now(),"
            "        %s, 'other', now(), current_date + 14, '',"
            "        CASE WHEN i %% 2 = 0 THEN now() - interval '1 minute' END"
            " FROM generate_series(0, 2 * %s - 1) AS i",
            [internal_list_id(), campaign_list().pk, wrong, rows],
        )
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
        cursor.execute("VACUUM ANALYZE audit_event")


def ours(batches: list[float]) -> int:
    from blacklist import services

    one_batch = services._remove_expired_batch

    def timed(*args):
        started = time.perf_counter()
        done = one_batch(*args)
        batches.append(time.perf_counter() - started)
        return done

    services._remove_expired_batch = timed
    try:
        return services.remove_expired()
    finally:
        services._remove_expired_batch = one_batch


def floor() -> int:
    """The same removal and events in one statement (and one transaction)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from audit import events
    from audit.events import Change, Source
    from audit.models import Event

    columns, params = Change(Event.Action.EXPIRED, None, timezone.now(), None, Source(Event.Via.OTHER)).select_list()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "WITH n AS (DELETE FROM blacklist_blacklistednumber WHERE expires_at <= now() AND status <> 3"  # noqa: S608 — names ours, values bound
            " RETURNING phone, dnc_list_id, status, reason_id, channel, received_at, deadline)"
            f" {events.INSERT_EVENTS} SELECT {events.number_facts()}, {columns} FROM n",
            ["", *params],
        )
        return cursor.rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(NAME)

    from audit.models import Event
    from blacklist.models import BlacklistedNumber, internal_list_id
    from blacklist.services import EXPIRY_BATCH

    totals: dict[str, list[float]] = {"ours": [], "floor": []}
    longest: list[float] = []
    for round_ in range(args.rounds):
        order = ["ours", "floor"] if round_ % 2 == 0 else ["floor", "ours"]
        for label in order:
            print(f"  round {round_ + 1}: refilling {2 * args.rows:,} numbers…", flush=True)
            refill(args.rows)
            batches: list[float] = []
            started = time.perf_counter()
            removed = ours(batches) if label == "ours" else floor()
            seconds = time.perf_counter() - started
            assert removed == args.rows, (label, removed)
            assert Event.objects.filter(action=Event.Action.EXPIRED, dnc_list=internal_list_id()).count() == args.rows
            assert BlacklistedNumber.objects.in_list(campaign_list()).count() == BlacklistedNumber.objects.count() \
                == args.rows  # the other list's entries of the same numbers stay
            totals[label].append(seconds)
            if batches:
                longest.append(max(batches))
            extra = f", {len(batches)} transactions, longest {max(batches) * 1000:,.0f} ms" if batches else ""
            print(f"  round {round_ + 1}: {label} {seconds * 1000:,.0f} ms{extra}", flush=True)

    ours_ms, floor_ms = statistics.median(totals["ours"]) * 1000, statistics.median(totals["floor"]) * 1000
    longest_ms = max(longest) * 1000
    ratio = ours_ms / floor_ms
    print(f"\nExpiry of {args.rows:,} numbers (of {2 * args.rows:,}), PostgreSQL, {args.rounds} round(s),"
          f" batches of {EXPIRY_BATCH:,}:")
    print(f"  ours (batched)          {ours_ms:10,.0f} ms total; longest transaction {longest_ms:,.0f} ms"
          f" (target ≤ {LONGEST_MS:,} ms: {'met' if longest_ms <= LONGEST_MS else 'NOT met'})")
    print(f"  floor (one statement)   {floor_ms:10,.0f} ms total, all of it one transaction holding every lock")
    print(f"  ours / floor: {ratio:.2f}× (target ≤ {RATIO}×: {'met' if ratio <= RATIO else 'NOT met'})")
    met = longest_ms <= LONGEST_MS and ratio <= RATIO
    if args.json:
        from bench.results import Result, write_json

        write_json(args.json, [
            Result(f"expiry of {args.rows:,} numbers, batched", ours_ms, floor_ms,
                   "one DELETE … RETURNING → INSERT events", f"≤ {RATIO}× floor", ratio <= RATIO),
            Result("  its longest transaction (lock hold)", longest_ms, floor_ms, "the floor's one transaction",
                   f"≤ {LONGEST_MS:,} ms", longest_ms <= LONGEST_MS),
        ], benchmark="expiry", rows=args.rows, rounds=args.rounds)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
