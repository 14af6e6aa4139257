"""Benchmark: the audited bulk approve of 1M numbers against the same approve without audit,
measured in the same run, on PostgreSQL.

    .venv/bin/python bench/bench_audit.py               # 1M numbers, 3 rounds
    .venv/bin/python bench/bench_audit.py --rounds 5

Builds (once, then reuses) the database `blacklist_bench_audit` on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), migrated, with --rows numbers for review inserted by one
INSERT … SELECT generate_series. Each round times, in alternating order:
  without audit  the statement approve ran before the audit trail: one QuerySet.update()
  with audit     services.approve(), as the "all matching" bulk task runs it: the same UPDATE
                 in a CTE whose RETURNING feeds INSERT INTO audit_event … SELECT (one statement)
each inside a transaction rolled back afterwards (then VACUUM), so every round starts from the
same rows. Target: with audit ≤ 2× without, comparing the medians.

Then, with those 1M events written (again in a transaction rolled back at the end), it times
the Activity page (first page and the 30-day chart over them) and a number's history, through
Django's test client (server time, median of 5).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "blacklist_bench_audit"

from bench.database import setup_django  # noqa: E402


def fill(rows: int) -> None:
    from django.db import connection

    from blacklist.models import default_reason_id

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM blacklist_blacklistednumber WHERE status = 1")
        if cursor.fetchone()[0] == rows:
            return
        print(f"Filling {rows:,} numbers for review (once; reused by later runs)…", flush=True)
        started = time.perf_counter()
        cursor.execute("TRUNCATE blacklist_blacklistednumber")
        cursor.execute(  # received when added; deadline ~ 10 business days later
            "INSERT INTO blacklist_blacklistednumber (dnc_list_id, phone, status, added_at, status_changed_at,"
            " reason_id, channel, received_at, deadline, note)"
            " SELECT (SELECT id FROM blacklist_dnclist WHERE kind = 'internal'),"
            " '+1' || (2000000000 + i)::text, 1, now() - i * interval '1 second',"
            "        now() - i * interval '1 second', %s, 'other', now() - i * interval '1 second',"
            "        (now() - i * interval '1 second')::date + 14, ''"
            " FROM generate_series(0, %s - 1) AS i",
            [default_reason_id(), rows],
        )
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
        print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)


def rolled_back_seconds(action) -> tuple[float, int]:
    """(seconds, rows changed) of `action` in a transaction that is then rolled back."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:  # the previous round's dead rows
        cursor.execute("VACUUM blacklist_blacklistednumber")
        cursor.execute("VACUUM audit_event")
    with transaction.atomic():
        started = time.perf_counter()
        changed = action()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, changed


def activity_pages(user, write_events) -> dict[str, float]:
    """Server time of the Activity page and a history page over 1M events of today."""
    from django.conf import settings
    from django.db import transaction
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(user)
    timings = {}
    with transaction.atomic():
        write_events()
        for name, url in [("Activity page with 1M events today", "/activity/"),
                          ("Activity filtered by action", "/activity/?action=approved"),
                          ("a number's history", "/activity/history/?phone=%2B12000123456")]:
            times = []
            for _ in range(6):
                started = time.perf_counter()
                assert client.get(url).status_code == 200
                times.append((time.perf_counter() - started) * 1000)
            timings[name] = statistics.median(times[1:])
        transaction.set_rollback(True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(NAME)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from audit.events import Source
    from audit.models import Event
    from blacklist import services
    from blacklist.filters import matching_numbers
    from blacklist.models import Status

    fill(args.rows)
    user, _ = get_user_model().objects.get_or_create(username="bench")

    def without_audit():
        numbers = matching_numbers("review", "")
        return numbers.changeable().filter(status=Status.REVIEW).update(
            status=Status.APPROVED, status_changed_at=timezone.now(), status_changed_by=user
        )

    def with_audit():
        outcome = services.approve(matching_numbers("review", ""), user, Source(Event.Via.BULK_TASK))
        assert Event.objects.filter(action=Event.Action.APPROVED).count() == outcome.changed
        return outcome.changed

    plain, audited = [], []
    for round_ in range(args.rounds):
        order = [("without", without_audit, plain), ("with", with_audit, audited)]
        for label, action, times in order if round_ % 2 == 0 else reversed(order):
            seconds, changed = rolled_back_seconds(action)
            assert changed == args.rows, (label, changed)
            times.append(seconds)
            print(f"  round {round_ + 1}: {label} audit {seconds * 1000:,.0f} ms", flush=True)

    pages = activity_pages(user, with_audit)
    ratio = statistics.median(audited) / statistics.median(plain)
    print(f"\nBulk approve of {args.rows:,} numbers, PostgreSQL, {args.rounds} rounds (ms):")
    print(f"  {'':16} {'best':>8} {'median':>8}")
    print(f"  {'without audit':16} {min(plain) * 1000:8,.0f} {statistics.median(plain) * 1000:8,.0f}")
    print(f"  {'with audit':16} {min(audited) * 1000:8,.0f} {statistics.median(audited) * 1000:8,.0f}")
    print(f"  with / without: {ratio:.2f}× median, {min(audited) / min(plain):.2f}× best"
          f"  (target ≤ 2×: {'met' if ratio <= 2 else 'NOT met'})")
    for name, ms in pages.items():
        print(f"  {name}: {ms:,.0f} ms (median of 5)")
    if args.json:
        from bench.results import Result, write_json

        write_json(args.json, [
            Result(f"bulk approve of {args.rows:,} rows with audit events", statistics.median(audited) * 1000,
                   statistics.median(plain) * 1000, "the same approve without audit", "≤ 2× without", ratio <= 2),
            *(Result(f"  {name}", ms, None, "", "", None) for name, ms in pages.items()),
        ], benchmark="audit", rows=args.rows, rounds=args.rounds)
    sys.exit(0 if ratio <= 2 else 1)


if __name__ == "__main__":
    main()
