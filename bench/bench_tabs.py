"""Benchmark of the Blacklists Management tabs at scale, against raw SQL measured in the same run.

    .venv/bin/python bench/bench_tabs.py                 # 10 million numbers
    .venv/bin/python bench/bench_tabs.py --rows 1000000  # 1 million
    .venv/bin/python bench/bench_tabs.py --rows 2000000 --database bench_export_2000000 --export-only

Builds (once, then reuses) a PostgreSQL database `blacklist_bench_<rows>` on BENCH_POSTGRES
(default postgres://postgres@127.0.0.1:5432) filled by set-based SQL:
  +12000xxxxxx  1M numbers for review  (the "approve all matching" slice)
  +12001xxxxxx  1M approved numbers    (the "delete all matching" slice)
  the rest      30% review, 60% approved, 10% permanently approved, added over ~2 years.
Each number carries its request (issue 14): a reason (half *Consumer request*, the rest spread),
a channel, received 0–19 days before it was added (so about a third of the newest numbers for
review are already overdue, and all old ones are), its business-day deadline, and a note on one
in fifty. Issue 15: the numbers are spread over 20 lists (LIST_SHARES: Internal 40%, then named
lists of 10% down to 1%, interleaved in time), plus PREFIXES (100,000) prefix entries
"+1201000*" … "+1300999*" spread the same way, added over the same two years. The secondary
indexes are dropped for the fill and built after it (the whole build: under 2 minutes here).

Pages, timed through Django's test client (server time: middleware, queries, template), of one
list (Internal, a 10% list, a 1% list) and of "All lists" (for information): both tabs, the first
page and a deep cursor page (page 10,001, or half-way into a smaller list) in every sort the tab
offers, the number-prefix filter, and the review tab's Overdue and Due soon filters; beside each,
the page's own rows query (captured, run raw), the index of the numbers its plan reads (EXPLAIN),
and the time the request spent in the database. The bulk actions run through the same service
the Celery task runs, each inside a transaction that is rolled back afterwards, as is its raw
SQL baseline, so the database is reused as is.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import ensure_database  # noqa: E402

# Each list's share of the numbers, in percent: Internal (first) the biggest, then 19 named lists.
LIST_SHARES = [40, 10, 8, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
PREFIXES = 100_000  # prefix entries "+1201000*" … "+1300999*", spread over the lists like the numbers


def bench_lists() -> list[int]:
    """The ids of the benchmark's 20 lists, Internal first (the named ones made if missing)."""
    from blacklist.models import DncList, internal_list_id

    named = [DncList.objects.get_or_create(name=f"Bench list {k:02}", defaults={"description": "bench_tabs"})[0].pk
             for k in range(2, len(LIST_SHARES) + 1)]
    return [internal_list_id(), *named]


TEN_MILLION = 10_000_000
STEP_ROWS = 10_000_000  # numbers inserted a statement: one step of the fill, printed and resumable


def fill(rows: int, build: bool = True) -> None:
    """Insert the benchmark entries with set-based SQL (INSERT … SELECT generate_series), if not
    there yet: `rows` numbers and PREFIXES prefix entries over 20 lists. A database filled before
    the named lists (one list, no prefixes) is filled again. Above 10M the numbers are valid US
    numbers and the prefixes bench_api's, so that one database serves this benchmark and the API's
    (bench_api.py --rows). Each step (10M numbers, the prefixes, an index) commits with its time in
    bench_fill_step: an interrupted fill resumes at the step it was in. `build=False`: refuse to
    fill (a measuring run that must not start an hour-long build)."""
    from django.conf import settings
    from django.db import connection, transaction

    from bench.bench_api import area_codes
    from blacklist.deadlines import honour_by_day

    lists = bench_lists()
    codes = area_codes(rows) if rows > TEN_MILLION else None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_fill_step') IS NOT NULL")
        steps = set()
        if cursor.fetchone()[0]:
            cursor.execute("SELECT step FROM bench_fill_step")
            steps = {step for (step,) in cursor.fetchall()}
        if "analyzed" in steps:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM blacklist_blacklistednumber)")
            if cursor.fetchone()[0]:
                return
            cursor.execute("DELETE FROM bench_fill_step")  # an UNLOGGED table a crash emptied: again
            steps = set()
        if not steps:  # filled by an earlier version of this fill, in one go?
            cursor.execute("SELECT count(*) FROM (SELECT 1 FROM blacklist_blacklistednumber LIMIT %s) AS capped",
                           [rows])
            full = cursor.fetchone()[0] >= rows
            last = f"SELECT phone FROM ({_prefixes(codes)}) AS p"  # noqa: S608 — the fill's last row
            cursor.execute(f"SELECT dnc_list_id FROM blacklist_blacklistednumber WHERE phone = ({last})",  # noqa: S608
                           {"codes": codes, "first": PREFIXES - 1, "last": PREFIXES - 1})
            if full and cursor.fetchone() == (lists[_list_slot(PREFIXES - 1)],):
                return
        if not build:
            raise SystemExit(f"The {rows:,}-number database is not built: run without --measure-only first.")
        print(f"Filling {rows:,} numbers and {PREFIXES:,} prefix entries over {len(lists)} lists"
              f" (once; reused by later runs{'; resuming' if steps else ''})…", flush=True)
        started = time.perf_counter()
        # The bench's own rows, right by construction: no guard (TRUNCATE), foreign-key or permanence
        # triggers while they are replaced.
        if not steps:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_fill_step"
                           " (step text PRIMARY KEY, seconds float NOT NULL, sql text NOT NULL DEFAULT '')")
            # The bench's own rows, right by construction: no guard (TRUNCATE) trigger.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("TRUNCATE blacklist_blacklistednumber")
            cursor.execute("SET session_replication_role = DEFAULT")
            # Faster to build the secondary indexes once at the end than to keep them up to date row by
            # row; their definitions are kept as steps, to be built at the end (of this run or a resumed one).
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'blacklist_blacklistednumber'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint"
                "                       WHERE conrelid = 'blacklist_blacklistednumber'::regclass)"
            )
            for name, definition in cursor.fetchall():
                with transaction.atomic():
                    cursor.execute(f'DROP INDEX "{name}"')
                    _done(cursor, f"index {name} dropped", 0, definition)
        cursor.execute("SELECT slug, id FROM blacklist_reason")
        reason = dict(cursor.fetchall())
        # 10 slots: half consumer requests, then revocations, litigators, complaints, wrong numbers
        reasons = [reason[slug] for slug in ["consumer_request"] * 5 + ["consent_revoked"] * 2
                   + ["litigator", "complaint", "wrong_number"]]
        # Each day's deadline (received + 10 business days, holidays skipped), computed once per day;
        # tables, not temporary ones, for every connection of the fill to read.
        today = date.today()
        days = [today - timedelta(days=n) for n in range(max(rows * 6, PREFIXES * 600) // 86_400 + 25)]
        cursor.execute("DROP TABLE IF EXISTS bench_deadline_of, bench_list_of")
        cursor.execute("CREATE TABLE bench_deadline_of (day date PRIMARY KEY, deadline date NOT NULL)")
        cursor.executemany("INSERT INTO bench_deadline_of VALUES (%s, %s)",
                           [(day, honour_by_day(day)) for day in days])
        # Which list each slot of 100 goes to, by LIST_SHARES.
        cursor.execute("CREATE TABLE bench_list_of (slot int PRIMARY KEY, list_id bigint NOT NULL)")
        cursor.executemany("INSERT INTO bench_list_of VALUES (%s, %s)",
                           [(slot, lists[_list_slot(slot * 10)]) for slot in range(100)])
        if codes:  # 100M: no WAL for 30 GB of rows and indexes (the benchmark reads; emptied by a crash)
            cursor.execute("ALTER TABLE blacklist_blacklistednumber SET UNLOGGED")
        inserts = [(f"numbers {first:,}–{min(first + STEP_ROWS, rows) - 1:,}", _numbers(codes), first,
                    min(first + STEP_ROWS, rows) - 1) for first in range(0, rows, STEP_ROWS)]
        row_steps = [
            (step, f"""
                INSERT INTO blacklist_blacklistednumber (phone, dnc_list_id, status, added_at, status_changed_at,
                                                         reason_id, channel, received_at, deadline, note)
                SELECT n.phone, l.list_id, n.status, n.added_at, n.added_at, n.reason_id, n.channel,
                       n.received_at, d.deadline, n.note
                FROM (
                    SELECT s.i, s.phone, s.status, s.added_at,
                           (%(reasons)s::bigint[])[1 + (s.i / 3) %% 10] AS reason_id,
                           (ARRAY['phone', 'sms', 'email', 'web', 'letter', 'api', 'upload', 'other'])
                               [1 + (s.i / 7) %% 8] AS channel,
                           s.added_at - ((s.i::bigint * 7919) %% 20) * interval '1 day'
                               - (s.i %% 7) * interval '1 hour' AS received_at,
                           CASE WHEN s.i %% 50 = 0 THEN 'Asked again on the phone; see the call recording'
                                ELSE '' END AS note
                    FROM ({source}) AS s
                ) AS n
                JOIN bench_list_of l ON l.slot = (n.i / 10) %% 100  -- hashed: rows keep their order
                JOIN bench_deadline_of d ON d.day = (n.received_at AT TIME ZONE %(zone)s)::date
                """,  # noqa: S608 — the two sources below, every value bound
             {"reasons": reasons, "first": first, "last": last, "codes": codes, "zone": settings.TIME_ZONE})
            for step, source, first, last in [*inserts, ("prefixes", _prefixes(codes), 0, PREFIXES - 1)]
        ]
        # 100M on two loaded cores: two connections at once, each inserting its steps (then building
        # its indexes), finish in about half the time of one.
        parallel = 2 if codes else 1
        _run_steps([step for step in row_steps if step[0] not in steps], parallel, started)
        cursor.execute("SELECT replace(step, ' dropped', ' built'), sql, NULL FROM bench_fill_step"
                       " WHERE step LIKE 'index %% dropped'")
        _run_steps([step for step in cursor.fetchall() if step[0] not in steps], parallel, started)
        cursor.execute("DROP TABLE bench_deadline_of, bench_list_of")
        step_started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
        _done(cursor, "analyzed", time.perf_counter() - step_started)
        print(f"  filled in {_minutes(started)}", flush=True)


def _run_steps(steps: list[tuple[str, str, dict | None]], connections: int, started: float) -> None:
    """Run each (step, SQL, parameters) and record it done in the same transaction, on
    `connections` connections at once (Django's: one a thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, transaction

    def run(step: str, sql: str, params: dict | None) -> None:
        try:
            with connection.cursor() as cursor:
                # Nor foreign-key or permanence triggers for the bench's own rows.
                cursor.execute("SET session_replication_role = replica")
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET maintenance_work_mem = '512MB'")
                step_started = time.perf_counter()
                with transaction.atomic():
                    cursor.execute(sql, params)
                    _done(cursor, step, time.perf_counter() - step_started)
            print(f"  {step}: {time.perf_counter() - step_started:.0f} s (elapsed {_minutes(started)})", flush=True)
        finally:
            connection.close()

    with ThreadPoolExecutor(connections) as pool:
        for future in [pool.submit(run, *step) for step in steps]:
            future.result()


def _numbers(codes: list[str] | None) -> str:
    """The numbers i = first … last, one every 6 seconds back from now (about two years for 10M):
    +1 200 000 0000 + i; or, given area codes, +1 <codes[i / 1M]> 2XX XXXX (valid US numbers)."""
    phone = ("'+1' || (%(codes)s::text[])[1 + i / 1000000] || (2000000 + i %% 1000000)::text" if codes
             else "'+1' || (2000000000 + i)::text")
    return f"""SELECT i, {phone} AS phone, now() - (i * interval '6 seconds') AS added_at,
                      CASE WHEN i < 1000000 THEN 1 WHEN i < 2000000 THEN 2
                           WHEN i %% 10 < 3 THEN 1 WHEN i %% 10 < 9 THEN 2 ELSE 3 END AS status
               FROM generate_series(%(first)s::bigint, %(last)s) AS i"""  # noqa: S608 — our constants


def _prefixes(codes: list[str] | None) -> str:
    """The prefix entries j = first … last (of 0 … 99,999), one every 10 minutes over two years:
    "+1201000*" … "+1300999*"; or, given area codes, bench_api's +1 <codes[j / 10,000]> 3XX XX*."""
    phone = ("'+1' || (%(codes)s::text[])[1 + i / 10000] || (30000 + i %% 10000)::text || '*'" if codes
             else "'+1' || (201 + i / 1000)::text || lpad((i %% 1000)::text, 3, '0') || '*'")
    return f"""SELECT i, {phone} AS phone, now() - (i * interval '600 seconds') AS added_at,
                      CASE WHEN i %% 10 < 3 THEN 1 WHEN i %% 10 < 9 THEN 2 ELSE 3 END AS status
               FROM generate_series(%(first)s::bigint, %(last)s) AS i"""  # noqa: S608 — our constants


def _done(cursor, step: str, seconds: float, sql: str = "") -> None:
    cursor.execute("INSERT INTO bench_fill_step VALUES (%s, %s, %s)", [step, seconds, sql])


def _minutes(started: float) -> str:
    elapsed = time.perf_counter() - started
    return f"{elapsed // 60:.0f} min {elapsed % 60:02.0f} s"


def _list_slot(i: int) -> int:
    """The index (0: Internal) in LIST_SHARES of the list entry `i` goes to; as `list_of` in fill."""
    slot, bound = (i // 10) % 100, 0
    for index, share in enumerate(LIST_SHARES):
        bound += share
        if slot < bound:
            return index
    raise AssertionError("LIST_SHARES add up to 100")


EMPTY_PAGE_URL = "/bench/empty-page"


def median_ms(action, repeat: int = 15) -> float:
    action()  # warm up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def raw_ms(sql: str, params=(), repeat: int = 15) -> float:
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return median_ms(run, repeat)


def rolled_back_seconds(action) -> float:
    """Time `action` inside a transaction, then undo it, so the next measurement sees the same rows."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("VACUUM blacklist_blacklistednumber, audit_event")  # the previous run's dead rows
    with transaction.atomic():
        started = time.perf_counter()
        action()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def deep_cursor(numbers, sort: str, depth: int):
    """(row, keyset cursor) of the row `depth` rows into `numbers` in `sort` order (found once with
    OFFSET, not timed)."""
    from blacklist.paging import _encode

    row = numbers.order_by(sort, "-id" if sort.startswith("-") else "id")[depth - 1]
    return row, _encode(sort, row, sort.lstrip("-"))


SORTS = {  # each sort a tab offers (blacklist.paging.SORT_FIELDS), both ways, the default first
    "review": ["-added_at", "added_at", "-status_changed_at", "status_changed_at", "deadline", "-deadline",
               "phone", "-phone"],
    "approved": ["-added_at", "added_at", "-status_changed_at", "status_changed_at", "phone", "-phone"],
}
ALL_LISTS_SORTS = {"review": ["-added_at", "deadline"], "approved": ["-added_at"]}  # the global indexes
DEPTH = 250_000  # rows before the deep page: page 10,001 of 25


def number_prefix(rows: int) -> str:
    """What the pages' number-prefix filter is given: the start of 1,000 numbers as fill writes them."""
    from bench.bench_api import AREA_CODES

    return f"{AREA_CODES[0]}2001" if rows > TEN_MILLION else "2001234"


def tab_pages(list_param: str, list_id: int | None, prefix: str):
    """(operation, url, query) of every page timed in one list (None: all lists): on
    both tabs, the first page and a deep cursor page in each sort, the number-prefix filter, and
    the review tab's Overdue and Due soon filters (by deadline, their default) and Overdue newest first."""
    from blacklist.models import BlacklistedNumber

    scope = {"list": list_param} if list_param else {}
    for tab, sorts in SORTS.items():
        numbers = BlacklistedNumber.objects.for_tab(tab).in_list(list_id)
        # All lists: the sorts its indexes serve (newest first, by deadline), and one that none
        # does (a sort of every row of the tab, seconds at 10M), first page only.
        for sort in sorts if list_id is not None else [*ALL_LISTS_SORTS[tab], "-status_changed_at"]:
            query = {**scope, "sort": sort}
            yield f"{tab}, sorted {sort}, first page", f"/blacklist/{tab}/", query
            if list_id is None and sort not in ALL_LISTS_SORTS[tab]:
                continue
            depth = min(DEPTH, max(numbers[:2 * DEPTH].count() // 2, 1))  # not timed
            _, cursor = deep_cursor(numbers, sort, depth)
            yield (f"{tab}, sorted {sort}, page {depth // 25 + 1:,} (cursor)", f"/blacklist/{tab}/",
                   {**query, "after": cursor, "page": depth // 25 + 1})
        yield f"{tab}, filtered by number prefix {prefix}", f"/blacklist/{tab}/", {**scope, "phone": prefix}
    review = BlacklistedNumber.objects.for_review().in_list(list_id)
    for label, due, chosen in (("Overdue", "overdue", review.overdue()), ("Due soon", "due_soon", review.due_soon())):
        query = {**scope, "due": due}
        size = chosen[:2 * DEPTH].count()  # not timed
        yield f"review, {label} ({size:,}{'+' if size == 2 * DEPTH else ''} rows), first page", "/blacklist/review/", \
            query
        depth = min(DEPTH, max(size // 2, 1))
        _, cursor = deep_cursor(chosen, "deadline", depth)
        yield (f"review, {label}, page {depth // 25 + 1:,} (cursor)", "/blacklist/review/",
               {**query, "after": cursor, "page": depth // 25 + 1})
    yield ("review, Overdue sorted newest added first", "/blacklist/review/",
           {**scope, "due": "overdue", "sort": "-added_at"})


def rows_query(client, url: str, query: dict) -> str:
    """The SQL (parameters in) the page ran for its rows: the one with the page's LIMIT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    found = [q["sql"] for q in queries if "LIMIT 26" in q["sql"] and '"blacklist_blacklistednumber"' in q["sql"]]
    assert len(found) == 1, [q["sql"] for q in queries]
    return found[0]


def database_share(client, url: str, query: dict, repeat: int = 5) -> tuple[float, int]:
    """(median ms of a request spent in the database, queries a request): the rest of the server
    time is Django's (middleware, forms, the table and its template)."""
    from django.db import connection

    spent: list[float] = []
    count = [0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[-1] += (time.perf_counter() - started) * 1000
            count[0] += 1

    with connection.execute_wrapper(timed):
        for _ in range(repeat):
            spent.append(0.0)
            assert client.get(url, query).status_code == 200
    return statistics.median(spent), count[0] // repeat


def indexes_used(sql: str) -> list[str]:
    """The indexes PostgreSQL's plan of `sql` reads (EXPLAIN, not run)."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'blacklist_blacklistednumber'")
        ours = {name for (name,) in cursor.fetchall()}
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    names: list[str] = []

    def walk(node):  # the numbers' table only (the joined users, reasons and uploads are tiny)
        name = node.get("Index Name")  # a bitmap's index is on its child node, without the table's name
        if name in ours or (name is None and node.get("Node Type") == "Seq Scan"
                            and node.get("Relation Name") == "blacklist_blacklistednumber"):
            name = name or "Seq Scan"
            if name not in names:
                names.append(name)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    parser.add_argument("--database", help="the database's name (default: blacklist_bench_<rows>)")
    parser.add_argument("--fill-only", action="store_true", help="build the database (if needed) and stop")
    parser.add_argument("--measure-only", action="store_true",
                        help="refuse to build the database: measure one built before, or stop")
    parser.add_argument("--pages-only", action="store_true", help="time the pages only, not bulk actions and export")
    parser.add_argument("--bulk-only", action="store_true",
                        help="time the bulk actions only, against their floors that write the same events")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the bulk actions, ours and floor alternated")
    parser.add_argument("--actions", nargs="+", choices=BULK_ACTIONS, default=BULK_ACTIONS,
                        help="with --bulk-only: time these bulk actions only (default: both)")
    parser.add_argument("--export-only", action="store_true", help="time the 1M-row export only (needs 2M rows)")
    parser.add_argument("--export-peak-rss", action="store_true", help=argparse.SUPPRESS)  # the export's subprocess
    parser.add_argument("--lists", nargs="*", help="time these lists' pages only (Internal, 'Bench list 02',"
                        " 'Bench list 20', 'All lists')")
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    os.environ["DATABASE_URL"] = ensure_database(f"{server}/{args.database or f'blacklist_bench_{args.rows}'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blacklist_admin.settings")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a JSON line per request measured

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.shortcuts import render
    from django.test import Client
    from django.urls import include, path
    from django.utils import timezone

    from bench.results import Result, table, write_json

    call_command("migrate", verbosity=0)
    fill(args.rows, build=not args.measure_only)
    if args.fill_only:
        return
    if not args.export_peak_rss:
        from bench.database import warm_cache

        print(warm_cache(), flush=True)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host name
    settings.DEBUG = False
    global urlpatterns  # the project's URLs, and before them a logged-in page rendering base.html with no
    urlpatterns = [  # content: its time is the floor every page of the app stands on
        path(EMPTY_PAGE_URL.lstrip("/"), lambda request: render(request, "base.html")),
        path("", include("blacklist_admin.urls")),
    ]
    settings.ROOT_URLCONF = __name__
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    if args.export_peak_rss:
        print(export_peak_rss_mb(client))
        return
    results = []

    def page(url, params=None):
        def get():
            response = client.get(url, params or {})
            assert response.status_code == 200, response.status_code
        return get

    page_target_ms = 15 if args.rows <= TEN_MILLION else 20  # issue 17: ≤ 20 ms at 100M
    if not args.bulk_only and not args.export_only:
        results.append(Result("a page with nothing on it (base.html, logged in): any page's floor",
                              median_ms(page(EMPTY_PAGE_URL), 50), None,
                              "the same middleware, session, user and menu as the tabs", "", None))
        print(table(results[-1:]).split("\n", 1)[1], flush=True)
    lists = bench_lists()
    scopes = [  # (label, ?list=, list id or None, requests timed a page)
        ("Internal", "", lists[0], 15),  # the default of the picker: the biggest list, 40%
        ("Bench list 02", str(lists[1]), lists[1], 15),  # 10%
        ("Bench list 20", str(lists[-1]), lists[-1], 15),  # 1%
        ("All lists", "all", None, 3),  # for information: no target
    ]
    if args.lists or args.export_only:
        scopes = [scope for scope in scopes if scope[0] in (args.lists or [])]
    for label, list_param, list_id, repeat in [] if args.bulk_only else scopes:
        for operation, url, query in tab_pages(list_param, list_id, number_prefix(args.rows)):
            ours = median_ms(page(url, query), repeat)
            sql = rows_query(client, url, query)
            index = indexes_used(sql)
            raw = raw_ms(sql, None, repeat=repeat)  # None: the SQL as run, parameters in
            one_list = list_id is not None
            uses_list_index = any(name.startswith("list_") for name in index)
            target = f"≤ {page_target_ms} ms" if one_list else "(information)"
            database, queries = database_share(client, url, query)
            plan = f"rows query reads {', '.join(index)}; database {database:.1f} ms in {queries} queries"
            if one_list and not uses_list_index:
                plan += " (no list_ index)"
            results.append(Result(f"{label}: {operation}", ours, raw, plan, target,
                                  ours <= page_target_ms if one_list else None))
            print(table(results[-1:]).split("\n", 1)[1], flush=True)  # as it goes: a run takes minutes
    if args.export_only:
        export(client, args, results)
        print(table(results))
        return
    today = timezone.localdate()
    if not args.bulk_only:  # the tabs' two counts
        overdue_label_ms = raw_ms("SELECT count(*) FROM (SELECT id FROM blacklist_blacklistednumber"
                                  " WHERE dnc_list_id = %s AND status = 1 AND deadline < %s LIMIT 1001) AS capped",
                                  [lists[0], today])
        results.append(Result("  Internal's overdue count in the tab label", overdue_label_ms, None,
                              "", "(bounded: 1,001 rows)", None))
        count_ms = raw_ms("SELECT count(*) FROM blacklist_blacklistednumber WHERE dnc_list_id = %s AND status = 1",
                          [lists[0]], repeat=3)
        results.append(Result("Internal review tab, COUNT(*) a counting paginator adds", count_ms, None, "",
                              "(not done)", None))
    if args.bulk_only:
        bulk_actions(user, results, args.rounds, args.actions)
    elif not args.pages_only:
        bulk_start_and_actions(client, user, results, args.rounds)
        export(client, args, results)
    print(f"\nBlacklists Management tabs, {args.rows:,} numbers, PostgreSQL; pages: median server time")
    print(table(results))
    if args.json:
        write_json(args.json, results, benchmark="tabs", rows=args.rows)


def bulk_start_and_actions(client, user, results, rounds: int) -> None:
    """The request that starts a bulk action and the bulk actions over 1M rows."""
    from bench.results import Result
    from blacklist_admin.celery import app
    from tasks_logs.models import TaskLog

    def start_bulk():
        response = client.post("/blacklist/review/bulk/", {"action": "approve", "scope": "all",
                                                          "query": "list=all&phone=2000", "confirmed": "on"})
        assert response.status_code == 302 and response["Location"] == "/tasks/", response
    start_ms = median_ms(start_bulk, repeat=5)
    results.append(Result("request that starts approve-all-matching (1M)", start_ms, None, "", "< 100 ms",
                          start_ms < 100))
    TaskLog.objects.filter(created_by=user).delete()
    app.control.purge()  # nothing consumes these here

    bulk_actions(user, results, rounds)


# The floors of the bulk actions: the same change and the same events (columns and values) as
# the rule writes, over the same rows, in one statement that neither locks the rows in phone
# order first nor counts what it skips.
DELETE_FLOOR = """
    WITH gone AS (
        DELETE FROM blacklist_blacklistednumber
        WHERE status >= 2 AND phone LIKE '+12001%%' AND status <> 3
          AND NOT (reason_id IN (SELECT id FROM blacklist_reason WHERE retained) AND received_at > %(cutoff)s)
        RETURNING phone, dnc_list_id, status, reason_id, channel, received_at, deadline)
    INSERT INTO audit_event (phone, dnc_list_id, from_status, reason, channel, received_at, deadline, note, line,
                             to_status, action, at, actor, user_id, api_key_id, via, task_id)
    SELECT phone, dnc_list_id, status, (SELECT name FROM blacklist_reason r WHERE r.id = gone.reason_id), channel,
           received_at, deadline, '', NULL, NULL, 'removed', %(now)s, %(actor)s, %(user)s, NULL, 'bulk_task', NULL
    FROM gone"""
APPROVE_FLOOR = """
    WITH changed AS (
        UPDATE blacklist_blacklistednumber SET status = 2, status_changed_at = %(now)s, status_changed_by_id = %(user)s
        WHERE status = 1 AND phone LIKE '+12000%%'
        RETURNING phone, dnc_list_id, reason_id, channel, received_at, deadline)
    INSERT INTO audit_event (phone, dnc_list_id, from_status, reason, channel, received_at, deadline, note, line,
                             to_status, action, at, actor, user_id, api_key_id, via, task_id)
    SELECT phone, dnc_list_id, 1, (SELECT name FROM blacklist_reason r WHERE r.id = changed.reason_id), channel,
           received_at, deadline, '', NULL, 2, 'approved', %(now)s, %(actor)s, %(user)s, NULL, 'bulk_task', NULL
    FROM changed"""


BULK_ACTIONS = ["delete", "approve"]


def bulk_actions(user, results, rounds: int, which: list[str] = BULK_ACTIONS) -> None:
    """Approve and delete all matching (1M numbers each) through the Celery task's service, each
    beside its floor that writes the same events: alternated (which goes first swaps each round),
    each rolled back; medians. The changed counts must agree."""
    from django.db import connection
    from django.utils import timezone

    from bench.results import Result
    from blacklist import services
    from blacklist.deadlines import retention_cutoff
    from blacklist.filters import matching_numbers
    from tasks_logs.models import TaskLog

    assert matching_numbers("review", "list=all&phone=2000").count() == 1_000_000
    assert matching_numbers("approved", "list=all&phone=2001").count() == 1_000_000
    actions = [  # (label, kind, params, floor)
        ("delete all matching, 1M numbers", TaskLog.Kind.BULK_REMOVE,
         {"tab": "approved", "action": "remove", "query": "list=all&phone=2001", "list": None}, DELETE_FLOOR),
        ("approve all matching, 1M numbers", TaskLog.Kind.BULK_APPROVE,
         {"tab": "review", "action": "approve", "query": "list=all&phone=2000", "list": None}, APPROVE_FLOOR),
    ]
    for label, kind, params, floor in actions:
        if label.split()[0] not in which:
            continue
        ours_s, floor_s, counts = [], [], set()

        def run_ours(kind=kind, params=params, counts=counts):
            task_log = TaskLog.objects.create(kind=kind, created_by=user, params=params)
            services.run_bulk_action(task_log)
            task_log.refresh_from_db()
            counts.add(("ours", task_log.changed))

        def run_floor(floor=floor, counts=counts):
            now = timezone.now()
            services.give_bulk_statements_memory()  # the work_mem the bulk task runs with, for the floor too
            with connection.cursor() as cursor:
                cursor.execute(floor, {"now": now, "cutoff": retention_cutoff(now), "user": user.pk,
                                       "actor": user.get_username()})
                counts.add(("floor", cursor.rowcount))

        for round_ in range(rounds):
            for run, times in [(run_ours, ours_s), (run_floor, floor_s)][:: 1 if round_ % 2 else -1]:
                times.append(rolled_back_seconds(run))
        assert len({changed for _, changed in counts}) == 1, counts
        ours, raw = statistics.median(ours_s) * 1000, statistics.median(floor_s) * 1000
        results.append(Result(label, ours, raw, f"one statement writing the same events; {rounds} rounds, medians",
                              "≤ 1.2× the floor", ours <= 1.2 * raw))
        print(f"{label}: ours {[round(t, 2) for t in ours_s]} s, floor {[round(t, 2) for t in floor_s]} s, "
              f"changed {counts}", flush=True)


EXPORT_URL = "/blacklist/approved/export.csv"
EXPORT_QUERY = {"list": "all", "phone": "2001"}  # the 1M approved numbers +12001xxxxxx, every list's


def export(client, args, results, rounds: int = 3) -> None:
    """The 1M-row export through the test client, drained, against a raw COPY of the same rows (the
    same query, its plain columns: no formatting) to a file that discards them, alternated in
    `rounds`; then a fresh web process's peak resident memory after streaming it."""
    import subprocess

    from bench.results import Result
    from blacklist.filters import matching_numbers

    numbers = matching_numbers("approved", "list=all&phone=2001").order_by("-added_at", "-id")
    rows = numbers.count()
    plain = numbers.values_list("phone", "status", "added_at", "added_by__username", "source_task__file_name",
                                "status_changed_at", "dnc_list__name")
    sql, params = plain.query.sql_with_params()
    floor = f"COPY ({sql}) TO STDOUT WITH CSV"

    def ours():
        response = client.get(EXPORT_URL, EXPORT_QUERY)
        assert response.status_code == 200, response.status_code
        for _ in response.streaming_content:
            pass

    ours_times, floor_times = [], []
    for _ in range(rounds):
        ours_times.append(_seconds(ours) * 1000)
        floor_times.append(_seconds(lambda: _copy_out(floor, params)) * 1000)
    ours_ms, floor_ms = statistics.median(ours_times), statistics.median(floor_times)
    results.append(Result(f"export CSV of {rows:,} rows (streamed), median of {rounds}", ours_ms, floor_ms,
                          "raw COPY … TO STDOUT of the same rows", "≤ 2× raw", ours_ms <= 2 * floor_ms))
    command = [sys.executable, __file__, "--rows", str(args.rows), "--export-peak-rss"]
    if args.database:
        command += ["--database", args.database]
    before_mb, peak_mb = map(float, subprocess.run(command, check=True, capture_output=True,
                                                   text=True).stdout.split()[-2:])
    results.append(Result(f"  web process peak RSS after it: {peak_mb:.0f} MB", 0, None,
                          f"VmHWM of a fresh process ({before_mb:.0f} MB before it)", "< 150 MB", peak_mb < 150))


def export_peak_rss_mb(client) -> str:
    """This process's peak resident memory (VmHWM, MB) before and after streaming the 1M-row export."""
    before = _peak_rss_mb()
    response = client.get(EXPORT_URL, EXPORT_QUERY)
    for _ in response.streaming_content:
        pass
    return f"{before:.0f} {_peak_rss_mb():.1f}"


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _copy_out(sql: str, params=()) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.copy_expert(cursor.mogrify(sql, params), _Discard())


class _Discard:
    """A file that forgets what is written to it: the baseline pays for producing rows only."""

    def write(self, data) -> int:
        return len(data)


def _execute(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


if __name__ == "__main__":
    main()
