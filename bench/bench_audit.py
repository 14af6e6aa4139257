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
both with the bulk task's work_mem (services.give_bulk_statements_memory, BULK_WORK_MEM_MB),
each inside a transaction rolled back afterwards (then VACUUM), so every round starts from the
same rows. Target: with audit ≤ 2× without, comparing the medians.

Then, with those 1M events written (again in a transaction rolled back at the end; the trigger
of audit migration 0007 adds them to the per-day counts in the same statement), it times the
Activity page (first page and the chart from the first event's day to today) and a number's
history, through Django's test client (server time). The Activity pages alternate, round by
round, with the same page before issue 17 (the chart counting the events, chart.day_counts
off), the baseline; medians over --page-rounds. Target: the unfiltered page ≤ 50 ms.

    .venv/bin/python bench/bench_audit.py --database bench_activity_audit   # another database
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


ACTIVITY_TARGET_MS = 50


def activity_pages(user, write_events, rounds: int) -> dict[str, tuple[float, float | None]]:
    """Server time of the Activity page and a history page over 1M events of today: name →
    (ours, the page counting events instead, or None), medians of `rounds` alternated rounds."""
    from django.conf import settings
    from django.db import transaction
    from django.test import Client

    from audit import chart

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(user)
    day_counts = chart.day_counts

    def counting_events(filterset):
        return None

    def served(url: str, counts) -> float:
        chart.day_counts = counts
        try:
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            return (time.perf_counter() - started) * 1000
        finally:
            chart.day_counts = day_counts

    timings: dict[str, tuple[float, float | None]] = {}
    with transaction.atomic():
        write_events()
        for name, url in [("Activity page with 1M events today", "/activity/"),
                          ("Activity filtered by action", "/activity/?action=approved")]:
            ours, before = [], []
            for counts in (day_counts, counting_events):  # warm-up
                served(url, counts)
            for round_ in range(rounds):
                order = [(day_counts, ours), (counting_events, before)]
                for counts, times in order if round_ % 2 == 0 else reversed(order):
                    times.append(served(url, counts))
            timings[name] = statistics.median(ours), statistics.median(before)
        history = "/activity/history/?phone=%2B12000123456"
        served(history, day_counts)
        timings["a number's history"] = statistics.median(served(history, day_counts) for _ in range(5)), None
        transaction.set_rollback(True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page-rounds", type=int, default=9)
    parser.add_argument("--database", default=NAME)
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(args.database)
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
        services.give_bulk_statements_memory()  # both as the bulk task runs them (BULK_WORK_MEM_MB)
        numbers = matching_numbers("review", "")
        return numbers.changeable().filter(status=Status.REVIEW).update(
            status=Status.APPROVED, status_changed_at=timezone.now(), status_changed_by=user
        )

    def with_audit():
        services.give_bulk_statements_memory()
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

    pages = activity_pages(user, with_audit, args.page_rounds)
    ratio = statistics.median(audited) / statistics.median(plain)
    print(f"\nBulk approve of {args.rows:,} numbers, PostgreSQL, {args.rounds} rounds (ms):")
    print(f"  {'':16} {'best':>8} {'median':>8}")
    print(f"  {'without audit':16} {min(plain) * 1000:8,.0f} {statistics.median(plain) * 1000:8,.0f}")
    print(f"  {'with audit':16} {min(audited) * 1000:8,.0f} {statistics.median(audited) * 1000:8,.0f}")
    print(f"  with / without: {ratio:.2f}× median, {min(audited) / min(plain):.2f}× best"
          f"  (target ≤ 2×: {'met' if ratio <= 2 else 'NOT met'})")
    print(f"\nPages over those {args.rows:,} events of today, server time, median of {args.page_rounds}"
          " alternated rounds (ms):")
    for name, (ms, before) in pages.items():
        beside = f", counting events (before issue 17) {before:,.1f} ms, {ms / before:.2f}×" if before else ""
        print(f"  {name}: {ms:,.1f} ms{beside}")
    activity, activity_before = pages["Activity page with 1M events today"]
    activity_met = activity <= ACTIVITY_TARGET_MS
    print(f"  Activity page: {activity:,.1f} ms"
          f" (target ≤ {ACTIVITY_TARGET_MS} ms: {'met' if activity_met else 'NOT met'})")
    if args.json:
        from bench.results import Result, write_json

        write_json(args.json, [
            Result(f"bulk approve of {args.rows:,} rows with audit events", statistics.median(audited) * 1000,
                   statistics.median(plain) * 1000, "the same approve without audit", "≤ 2× without", ratio <= 2),
            Result("  Activity page with 1M events today", activity, activity_before,
                   "the page counting events (before issue 17)", f"≤ {ACTIVITY_TARGET_MS} ms", activity_met),
            *(Result(f"  {name}", ms, before, "the page counting events" if before else "", "", None)
              for name, (ms, before) in pages.items() if name != "Activity page with 1M events today"),
        ], benchmark="audit", rows=args.rows, rounds=args.rounds)
    sys.exit(0 if ratio <= 2 and activity_met else 1)


if __name__ == "__main__":
    main()
