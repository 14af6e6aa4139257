"""Benchmark: the Reasons page and a number's evidence record on a large blacklist, against
the raw statements they stand for, measured in the same run, on PostgreSQL.

    .venv/bin/python bench/bench_evidence.py                 # 10M numbers
    .venv/bin/python bench/bench_evidence.py --rows 2000000

Builds (once, then reuses) the database `blacklist_bench_evidence` on BENCH_POSTGRES (default
postgres://postgres@127.0.0.1:5432), migrated, with --rows numbers by one INSERT … SELECT
generate_series: 90% *Consumer request*, 5% *Consent revoked*, 4% *Complaint*, 1% *Wrong
number*, the other reasons unused; 3 events for one number, 200 for another. Times (median of 5, after
one warm-up), through Django's test client:
  Reasons page         vs  SELECT reason_id, count(*) … GROUP BY reason_id (the exact count it avoids)
  evidence record page vs  the number's row and its events, two indexed SELECTs (raw SQL)
  its JSON, its CSV    vs  the same two SELECTs
Targets: the Reasons page ≤ 50 ms and under a tenth of the exact count; the evidence record of
a number with 3 events and its downloads ≤ 50 ms (one of 200 events: a figure for scale).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "blacklist_bench_evidence"
PHONE = "+12000000007"  # one of the numbers, given 200 events
EVENTS = 200
TYPICAL = "+12000000008"  # and one given 3 (added, approved, unapproved)

from bench.database import setup_django  # noqa: E402


def fill(rows: int) -> None:
    from django.db import connection

    from blacklist.models import Reason

    ids = {slug: pk for slug, pk in Reason.objects.values_list("slug", "pk")}
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'blacklist_blacklistednumber'")
        if abs(cursor.fetchone()[0] - rows) >= rows * 0.01:
            fill_numbers(cursor, rows, ids)
        for phone, count in [(PHONE, EVENTS), (TYPICAL, 3)]:  # events are append-only: made once
            cursor.execute("SELECT count(*) FROM audit_event WHERE phone = %s", [phone])
            if cursor.fetchone()[0]:
                continue
            cursor.execute(
                "INSERT INTO audit_event (phone, dnc_list_id, action, from_status, to_status, at, actor, via,"
                " reason, channel, received_at, deadline, note)"
                " SELECT %s, (SELECT id FROM blacklist_dnclist WHERE kind = 'internal'),"
                " CASE WHEN i %% 2 = 0 THEN 'approved' ELSE 'unapproved' END, 1 + (i + 1) %% 2,"
                "  1 + i %% 2, now() - (200 - i) * interval '1 hour', 'bench', 'row', 'Consumer request', 'other',"
                "  now() - interval '30 days', (now() - interval '16 days')::date, 'note <b>' || i"
                " FROM generate_series(0, %s - 1) AS i",
                [phone, count],
            )


def fill_numbers(cursor, rows: int, ids: dict) -> None:
    """--rows numbers, half for review, half approved, by reason as the module says."""
    print(f"Filling {rows:,} numbers (once; reused by later runs)…", flush=True)
    started = time.perf_counter()
    cursor.execute("TRUNCATE blacklist_blacklistednumber")
    cursor.execute(
        "INSERT INTO blacklist_blacklistednumber (dnc_list_id, phone, status, added_at, status_changed_at,"
        " reason_id, channel, received_at, deadline, note)"
        " SELECT (SELECT id FROM blacklist_dnclist WHERE kind = 'internal'),"
        " '+1' || (2000000000 + i)::text, 1 + (i %% 2), now() - i * interval '1 second',"
        "        now() - i * interval '1 second',"
        "        CASE WHEN i %% 100 < 90 THEN %s WHEN i %% 100 < 95 THEN %s WHEN i %% 100 < 99 THEN %s ELSE %s END,"
        "        'other', now() - i * interval '1 second', (now() - i * interval '1 second')::date + 14, ''"
        " FROM generate_series(0, %s - 1) AS i",
        [ids["consumer_request"], ids["consent_revoked"], ids["complaint"], ids["wrong_number"], rows],
    )
    cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
    print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)


def median_ms(action, runs: int = 5) -> float:
    action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(NAME)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.results import Result, write_json

    fill(args.rows)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            b"".join(response.streaming_content) if response.streaming else response.content
        return run

    def raw(sql, params=()):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()
        return run

    group_by = median_ms(raw("SELECT reason_id, count(*) FROM blacklist_blacklistednumber GROUP BY reason_id"), 3)
    def two_selects(phone):
        return median_ms(lambda: (
            raw("SELECT * FROM blacklist_blacklistednumber WHERE phone = %s", [phone])(),
            raw("SELECT * FROM audit_event WHERE phone = %s ORDER BY at, id", [phone])()))

    reasons = median_ms(get("/blacklist/reasons/"))
    typical, long = f"?phone=%2B{TYPICAL[1:]}", f"?phone=%2B{PHONE[1:]}"
    raw_typical, raw_long = two_selects(TYPICAL), two_selects(PHONE)
    record = median_ms(get(f"/activity/history/{typical}"))
    as_json = median_ms(get(f"/activity/history/evidence.json{typical}"))
    as_csv = median_ms(get(f"/activity/history/evidence.csv{typical}"))
    record_long = median_ms(get(f"/activity/history/{long}"))

    rows = f"{args.rows:,}"
    results = [
        Result(f"Reasons page, {rows} numbers", reasons, group_by, "exact GROUP BY reason_id count",
               "≤ 50 ms, < 0.1× count", reasons <= 50 and reasons < group_by / 10),
        Result("evidence record page, 3 events", record, raw_typical, "two indexed SELECTs (raw)", "≤ 50 ms",
               record <= 50),
        Result("  its JSON download", as_json, raw_typical, "two indexed SELECTs (raw)", "≤ 50 ms", as_json <= 50),
        Result("  its CSV download", as_csv, raw_typical, "two indexed SELECTs (raw)", "≤ 50 ms", as_csv <= 50),
        Result(f"evidence record page, {EVENTS} events", record_long, raw_long, "two indexed SELECTs (raw)", "",
               None),
    ]
    from bench.results import table

    print(table(results))
    if args.json:
        write_json(args.json, results, benchmark="evidence", rows=args.rows)
    sys.exit(0 if all(r.met for r in results) else 1)


if __name__ == "__main__":
    main()
