"""Benchmark of the dialer API under gunicorn, against baselines measured in the same run.

    .venv/bin/python bench/bench_api.py                          # 10 million numbers
    .venv/bin/python bench/bench_api.py --workers 4 --seconds 8   # other gunicorn workers, longer runs
    .venv/bin/python bench/bench_api.py --without-health-checks   # what-if: Django's CONN_HEALTH_CHECKS off

Builds (once, then reuses) the PostgreSQL database BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/blacklist_bench_api), filled by set-based SQL with 10 million
valid US numbers over 20 lists (Internal and 19 named ones): +1 <area code> 2XX-XXXX for ten area
codes; 30% for review, 60% approved, 10% permanently approved; and 100,000 prefix entries
+1 <area code> 3XX XX*, which block every number of exchanges 300–399. Numbers with exchanges
400–999 are valid but not listed. Requests ask a third each: listed, under a prefix, not listed.

Then it starts gunicorn (DEBUG off, the project's own settings and middleware) on a free loopback
port, with two extra URLs: /bench/noop, a do-nothing Django JSON view with the same decorators as
the API's, the framework's own ceiling; and /bench/lookup, the same view plus one PREPAREd `= ANY`
of the number and its prefixes, the floor of any check that asks the database on each request.
Clients are plain sockets in this process (latency, one request at a time) and in --clients
processes (throughput). It prints:
  - check: p50/p99 latency (also with `lists=`), and throughput as a share of the do-nothing
    view's, beside the one-lookup floor's, the three measured side by side in each of three rounds;
  - in process: a raw psycopg2 indexed lookup (plain and PREPAREd), check's query through Django,
    the ORM's .exists(), Django's health-check ping, and what a last-use write on every request
    would cost;
  - scrub of 1,000 and 10,000 fresh numbers end to end, against a raw `= ANY` lookup of the same
    numbers and each of their prefixes (issue 15: ≤ 2×), by workers that have met the area codes
    and by fresh ones (a gunicorn of one worker recycled after every scrub, whose one request
    before it is a check of a number of another area code), and in process the parts of a 10,000 one:
    normalizing (normalize_phone itself, and the phone cache the API uses, cold and warm), the
    one lookup query, building the JSON answer.
"""

import argparse
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import ensure_database  # noqa: E402

AREA_CODES = ["206", "212", "305", "312", "415", "503", "617", "702", "808", "917"]
ROWS = 10_000_000  # one million per area code: exchanges 200–299, lines 0000–9999
LISTS = 20  # Internal and 19 named lists; number i is on list i % 20
PREFIXES = 100_000  # +1 <area> 3XX XX*: ten thousand per area code
# Issue 17's; scrub's also on a fresh worker (one that has met none of the numbers' area codes).
TARGETS = {"check p50": 1.0, "check p99": 4.0, "ratio": 0.70, "scrub 1,000": 15.0, "scrub 10,000 ÷ raw": 2.0}
FRESH_AREA_CODE_CHECK = "+19075550123"  # a fresh worker's first request: connects, meets no bench area code


def area_codes(rows: int) -> list[str]:
    """The area codes of `rows` numbers, a million each (exchanges 200–299): AREA_CODES, then the
    next valid US ones in order (bench_tabs.fill's numbers above 10M), never the fresh check's."""
    import phonenumbers

    def valid(code: int) -> bool:
        numbers = [phonenumbers.parse(f"+1{code}{line}") for line in ("2000000", "2999999", "9999999")]
        return all(phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == "US"
                   for n in numbers)

    more = (str(code) for code in range(201, 1000)
            if str(code) not in AREA_CODES and str(code) != FRESH_AREA_CODE_CHECK[2:5] and valid(code))
    codes = [*AREA_CODES, *more][:-(-rows // 1_000_000)]
    assert len(codes) * 1_000_000 >= rows, rows
    return codes
SOME_LISTS = "Internal,Bench list 02,Bench list 03"  # check's `lists=` (a name any case or id works alike)


# ---- gunicorn's side: imported by the server processes as bench.bench_api:server() -----------


def server():
    """The project's WSGI application with /bench/noop added in front of its own URLs."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.decorators import login_not_required
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import JsonResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_GET

    @csrf_exempt
    @login_not_required
    @require_GET
    def noop(request):
        return JsonResponse({"ok": True})

    @csrf_exempt
    @login_not_required
    @require_GET
    def lookup(request):
        """The floor of any check that asks the database: the do-nothing view plus one PREPAREd
        `= ANY` of the number (E.164 already) and its prefixes; no key, no normalizing."""
        return JsonResponse({"listed": bool(_floor_lookup(request.GET["phone"]))})

    if os.environ.get("BENCH_WITHOUT_HEALTH_CHECKS"):  # --without-health-checks: a what-if, not the product
        settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    global urlpatterns
    urlpatterns = [path("bench/noop", noop), path("bench/lookup", lookup), path("", include("blacklist_admin.urls"))]
    settings.ROOT_URLCONF = __name__
    return WSGIHandler()


_PREPARED_FLOOR = weakref.WeakSet()  # the connections on which the floor's lookup is PREPAREd


def _floor_lookup(phone: str) -> list[tuple]:
    from django.db import connection

    from blacklist.phones import lookup_candidates

    connection.health_check_done = connection.connection is not None  # one round trip, as check's (no ping)
    with connection.cursor() as cursor:
        if connection.connection not in _PREPARED_FLOOR:
            cursor.execute("PREPARE floor_lookup (varchar[]) AS SELECT phone, dnc_list_id, status"
                           " FROM blacklist_blacklistednumber WHERE phone = ANY($1)")
            _PREPARED_FLOOR.add(connection.connection)
        cursor.execute("EXECUTE floor_lookup (%s)", [lookup_candidates(phone)])
        return cursor.fetchall()


# ---- the benchmark's side --------------------------------------------------------------------


def fill(build: bool = True) -> None:
    """10 million numbers over LISTS lists and PREFIXES prefix entries, by INSERT … SELECT
    generate_series (one statement per area code), if not there yet. The secondary indexes are
    dropped during the load and built again after it: much faster than updating them row by row.
    `build=False`: refuse to fill."""
    from django.db import connection

    from blacklist.models import DncList, default_reason_id, internal_list_id

    reason = default_reason_id()
    internal_list_id()
    for number in range(2, LISTS + 1):
        DncList.objects.get_or_create(name=f"Bench list {number:02}")
    list_ids = list(DncList.objects.order_by("pk").values_list("pk", flat=True)[:LISTS])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM blacklist_blacklistednumber LIMIT %s) AS capped",
                       [ROWS + PREFIXES])
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM blacklist_blacklistednumber WHERE phone LIKE '%%*'")
        if total >= ROWS + PREFIXES and cursor.fetchone()[0] == PREFIXES:
            return
        if not build:
            raise SystemExit("The API's database is not built: run without --measure-only first.")
        print(f"Filling {ROWS:,} numbers over {LISTS} lists and {PREFIXES:,} prefix entries (once; later runs"
              " reuse them)…", flush=True)
        started = time.perf_counter()
        cursor.execute("TRUNCATE blacklist_blacklistednumber")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'blacklist_blacklistednumber'"
                       " AND indexname NOT IN (SELECT conname FROM pg_constraint)")
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        columns = ("phone, dnc_list_id, status, added_at, status_changed_at, reason_id, channel, received_at,"
                   " deadline, note")
        # Numbers +1 <area> 2XX-XXXX, each on one list (i % LISTS), statuses 30/60/10 %.
        for area_code in AREA_CODES:
            cursor.execute(
                f"""
                INSERT INTO blacklist_blacklistednumber ({columns})
                SELECT '+1' || %s || i::text, (%s::int[])[1 + i %% {LISTS}],
                       CASE WHEN i %% 10 < 3 THEN 1 WHEN i %% 10 < 9 THEN 2 ELSE 3 END,
                       now() - (i - 2000000) * interval '60 seconds',
                       now() - (i - 2000000) * interval '30 seconds',
                       %s, 'api', now() - (i - 2000000) * interval '60 seconds',
                       (now() - (i - 2000000) * interval '60 seconds')::date + 14, ''
                FROM generate_series(2000000, 2999999) AS i
                """,  # noqa: S608 — our constants
                [area_code, list_ids, reason],
            )
            print(f"  +1 {area_code}: {time.perf_counter() - started:.0f} s", flush=True)
        # Prefix entries +1 <area> 3XX XX* (exchange 300–399 and two line digits): every number of
        # those exchanges is blocked by one; spread over the lists like the numbers.
        cursor.execute(
            f"""
            INSERT INTO blacklist_blacklistednumber ({columns})
            SELECT '+1' || a.code || (30000 + i)::text || '*', (%s::int[])[1 + i %% {LISTS}],
                   CASE WHEN i %% 10 < 3 THEN 1 WHEN i %% 10 < 9 THEN 2 ELSE 3 END,
                   now(), now(), %s, 'other', now(), current_date + 14, ''
            FROM unnest(%s::text[]) AS a(code), generate_series(0, {PREFIXES // len(AREA_CODES) - 1}) AS i
            """,  # noqa: S608 — our constants
            [list_ids, reason, AREA_CODES],
        )
        print(f"  {PREFIXES:,} prefixes: {time.perf_counter() - started:.0f} s", flush=True)
        for name, definition in indexes:
            cursor.execute(definition)
            print(f"  index {name}: {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
        print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)


listed_area_codes = AREA_CODES  # main() widens it to area_codes(--rows) above 10M


def listed(rng: random.Random) -> str:
    return f"+1{rng.choice(listed_area_codes)}{rng.randint(2_000_000, 2_999_999)}"


def under_prefix(rng: random.Random) -> str:
    return f"+1{rng.choice(AREA_CODES)}{rng.randint(3_000_000, 3_999_999)}"


def unlisted(rng: random.Random) -> str:  # exchanges 3XX are the prefix entries'
    return f"+1{rng.choice(AREA_CODES)}{rng.randint(4_000_000, 9_999_999)}"


def mixed(rng: random.Random, count: int) -> list[str]:
    """A third each: listed, under a prefix entry, not listed."""
    return [(listed, under_prefix, unlisted)[i % 3](rng) for i in range(count)]


def http_get(path: str, key: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n".encode()


def http_post_json(path: str, key: str, body) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload


def send(port: int, request: bytes) -> tuple[float, bytes]:
    """One request on a new connection (gunicorn's sync workers close it after each answer)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(262_144):
            chunks.append(chunk)
    elapsed = time.perf_counter() - started
    response = b"".join(chunks)
    if not response.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected answer: {response[:300]!r}")
    return elapsed, response


def body(response: bytes):
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _hammer(port: int, requests: list[bytes], seconds: float) -> tuple[int, int, float]:
    """A throughput client process: requests back to back for `seconds`; returns (answered,
    failed, elapsed). A failure (e.g. a connection reset while gunicorn recycles a worker after
    its max_requests) is counted, not fatal."""
    answered = failed = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            send(port, requests[(answered + failed) % len(requests)])
            answered += 1
        except (OSError, RuntimeError):
            failed += 1
    return answered, failed, time.perf_counter() - started


def throughput(port: int, requests: list[bytes], clients: int, seconds: float) -> tuple[float, int]:
    """(answered requests a second, failed requests) for `clients` processes hammering at once."""
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.starmap(_hammer, [(port, requests, seconds)] * clients)
    return sum(answered / elapsed for answered, _, elapsed in results), sum(failed for _, failed, _ in results)


def latencies_ms(port: int, requests: list[bytes]) -> list[float]:
    return [send(port, request)[0] * 1000 for request in requests]


def timed_ms(action, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, env: dict, *options: str) -> subprocess.Popen:
    """gunicorn with the production settings (gunicorn.conf.py) and `options`, in its own process
    group; what it prints goes to a file."""
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), "bench.bench_api:server()",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--chdir", str(ROOT), *options,
    ]
    log_path = Path(env["VAR_DIR"]) / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            send(port, http_get("/bench/noop"))
            return process
        except (ConnectionRefusedError, RuntimeError):
            if process.poll() is not None:
                break
            time.sleep(0.2)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit(f"gunicorn did not start; its output:\n{log_path.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's, 2 × CPUs + 1)")
    parser.add_argument("--clients", type=int, default=None, help="throughput client processes (default: workers)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--requests", type=int, default=3000, help="sequential requests for latency")
    parser.add_argument("--without-health-checks", action="store_true",
                        help="what-if: serve with Django's CONN_HEALTH_CHECKS off (one SELECT 1 less a request)")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    parser.add_argument("--rows", type=int, default=ROWS,
                        help="numbers; above 10M, bench_tabs.py's database of as many (built by either)")
    parser.add_argument("--database", help="the database's name (default: blacklist_bench_api at 10M, else"
                        " blacklist_bench_<rows>)")
    parser.add_argument("--fill-only", action="store_true", help="build the database (if needed) and stop")
    parser.add_argument("--measure-only", action="store_true",
                        help="refuse to build the database: measure one built before, or stop")
    parser.add_argument("--scrub-only", action="store_true",
                        help="time scrub only (end to end beside its raw lookups, and its parts in process)")
    parser.add_argument("--scrub-batches", type=int, default=SCRUB_REPEATS[10_000],
                        help="scrubs of 10,000 numbers timed (each beside its raw lookup)")
    args = parser.parse_args()
    if args.scrub_only and args.json:
        parser.error("--json records every figure: run without --scrub-only")
    args.workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
    args.clients = args.clients or args.workers

    global listed_area_codes
    listed_area_codes = area_codes(args.rows)
    if args.rows > ROWS:
        TARGETS["check p50"] = 1.2  # issue 17's at 100M
    name = args.database or ("blacklist_bench_api" if args.rows == ROWS else f"blacklist_bench_{args.rows}")
    url = os.environ.get("BENCH_DATABASE_URL") or (
        os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432") + "/" + name
    )
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "benchmark-only-not-secret",
           "ALLOWED_HOSTS": "127.0.0.1", "VAR_DIR": tempfile.mkdtemp(prefix="bench-api-"),
           "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings",
           "LOG_LEVEL": "WARNING"}  # no JSON line per request: the same fixed cost on both views would flatter
    env.pop("REDIS_URL", None)  # the embedded broker: nothing here sends tasks
    if args.without_health_checks:
        env["BENCH_WITHOUT_HEALTH_CHECKS"] = "1"
    os.environ.update(env)
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from api import services
    from api.models import ApiKey

    call_command("migrate", verbosity=0)
    if args.rows == ROWS:
        fill(build=not args.measure_only)
    else:
        from bench.bench_tabs import fill as fill_as_tabs

        fill_as_tabs(args.rows, build=not args.measure_only)
    if args.fill_only:
        return
    from django.contrib.auth import get_user_model

    from bench.database import warm_cache

    print(warm_cache(), flush=True)
    owner, _ = get_user_model().objects.get_or_create(username="benchmark", defaults={"is_superuser": True})
    key, secret = services.create_key("benchmark", can_check=True, can_add=False, can_approve=False, expires_at=None,
                                      user=owner)  # a key with no creator is refused
    try:
        rng = random.Random(5)
        repeats = {**SCRUB_REPEATS, 10_000: args.scrub_batches}
        scrub_batches = {count: [mixed(rng, count) for _ in range(repeat)] for count, repeat in repeats.items()}
        results = served(args, env, secret, rng, scrub_batches)
        if not args.scrub_only:
            results.update(in_process(url, key, secret, rng, args.requests))
        results.update(scrub_parts(rng))
    finally:
        ApiKey.objects.filter(pk=key.pk).delete()
    if not args.scrub_only:
        report(args, results)
    report_scrub(results)
    if args.json:
        from bench.results import write_json

        write_json(args.json, summary(results, args.rows), benchmark="api", rows=args.rows, workers=args.workers)


SCRUB_REPEATS = {1_000: 20, 10_000: 6}  # scrubs of each size timed


def served(args, env: dict, secret: str, rng: random.Random, scrub_batches: dict) -> dict:
    """Latency, throughput and scrub times through gunicorn, over loopback sockets."""
    check_requests = [
        http_get(f"/api/v1/blacklist/check?phone={quote(phone)}", secret) for phone in mixed(rng, args.requests)
    ]
    lists_requests = [http_get(f"/api/v1/blacklist/check?phone={quote(phone)}&lists={quote(SOME_LISTS)}", secret)
                      for phone in mixed(rng, args.requests // 3)]
    noop_requests = [http_get("/bench/noop")]
    floor_requests = [http_get(f"/bench/lookup?phone={quote(phone)}") for phone in mixed(rng, args.requests)]
    port = free_port()
    gunicorn = start_gunicorn(port, args.workers, env)
    try:
        results = {} if args.scrub_only else check_served(args, port, secret, rng, check_requests, lists_requests,
                                                          noop_requests, floor_requests)
        for count in SCRUB_REPEATS:
            warm_up = [http_post_json("/api/v1/blacklist/scrub", secret, mixed(rng, count))
                       for _ in range(2 * args.workers)]  # so that every worker has met these area codes
            for request in warm_up:
                answer = body(send(port, request)[1])
                assert answer["count"] == count and answer["invalid"] == 0, (answer["count"], answer["invalid"])
            results[f"scrub {count:,}"], results[f"raw lookup {count:,}"] = scrub_beside_raw(
                port, secret, env["DATABASE_URL"], scrub_batches[count])
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
    results.update(scrub_fresh(env, secret, scrub_batches))
    return results


def scrub_fresh(env: dict, secret: str, scrub_batches: dict) -> dict:
    """Scrubs each served by a fresh worker: one gunicorn worker, recycled after two requests (a
    check of another area code's number, which connects to the database, then the scrub timed)."""
    port = free_port()
    gunicorn = start_gunicorn(port, 1, env, "--max-requests", "2", "--max-requests-jitter", "0")
    first = http_get(f"/api/v1/blacklist/check?phone={quote(FRESH_AREA_CODE_CHECK)}", secret)
    results = {}
    try:
        send(port, first)  # start_gunicorn's noop was the first worker's first request: one more
        for count in SCRUB_REPEATS:
            results[f"fresh scrub {count:,}"], results[f"fresh raw lookup {count:,}"] = scrub_beside_raw(
                port, secret, env["DATABASE_URL"], scrub_batches[count], before=first)
        return results
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def check_served(args, port: int, secret: str, rng: random.Random, check_requests: list[bytes],
                 lists_requests: list[bytes], noop_requests: list[bytes], floor_requests: list[bytes]) -> dict:
    """check's latency (also with `lists=`) and throughput beside the do-nothing view's and the
    one-lookup floor's (/bench/lookup: the do-nothing view plus the one query any check needs)."""
    answer = body(send(port, http_get(f"/api/v1/blacklist/check?phone={quote(listed(rng))}", secret))[1])
    assert answer["blocked"] is True and answer["status"] is not None, answer
    answer = body(send(port, http_get(f"/api/v1/blacklist/check?phone={quote(unlisted(rng))}", secret))[1])
    assert answer["blocked"] is False and answer["status"] is None, answer
    answer = body(send(port, http_get(f"/api/v1/blacklist/check?phone={quote(under_prefix(rng))}", secret))[1])
    assert answer["status"] is not None and answer["blocked_by"][-1]["prefix"], answer
    assert body(send(port, http_get(f"/bench/lookup?phone={quote(under_prefix(rng))}"))[1]) == {"listed": True}
    assert body(send(port, http_get(f"/bench/lookup?phone={quote(unlisted(rng))}"))[1]) == {"listed": False}
    latencies_ms(port, check_requests[:300] + floor_requests[:300] + noop_requests * 300)  # warm up every worker

    results = {
        "check": latencies_ms(port, check_requests),
        "check lists": latencies_ms(port, lists_requests),
        "noop": latencies_ms(port, noop_requests * args.requests),
        "floor": latencies_ms(port, floor_requests),
        "rounds": [],  # (noop, floor, check) req/s, measured side by side so that all meet the same neighbours
        "failed": 0,
    }
    views = [("noop", noop_requests), ("floor", floor_requests), ("check", check_requests)]
    for round_number in range(3):
        order = views[round_number:] + views[:round_number]  # each view first once
        measured = {name: throughput(port, requests, args.clients, args.seconds) for name, requests in order}
        results["rounds"].append(tuple(measured[name][0] for name, _ in views))
        results["failed"] += sum(failed for _, failed in measured.values())
    return results


def scrub_beside_raw(port: int, secret: str, url: str, batches: list[list[str]], before: bytes | None = None,
                     registry: bool = False) -> tuple[list[float], list[float]]:
    """Each batch scrubbed end to end and looked up raw, `= ANY(…)` of its distinct candidates
    (each number and its prefixes, as the API asks), alternately, after one raw lookup that
    brings its pages into memory: both meet the same cache and the same neighbours. `before`: a
    request sent, untimed, before each scrub. `registry`: scrubbed with registry=1, and the raw
    lookup also tests each number's bit in its exchange's row (a plain join of the numbers and
    registry_exchange): bench_registry_api's floor."""
    import psycopg2

    from api.services import registry_number
    from blacklist.phones import lookup_candidates
    select = ("SELECT phone, dnc_list_id, status, status_changed_at FROM blacklist_blacklistednumber"
              " WHERE phone = ANY(%s)")
    path = "/api/v1/blacklist/scrub?registry=1" if registry else "/api/v1/blacklist/scrub"
    scrubbed, raw_ms = [], []
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        def raw(candidates: list[str], registry_numbers: list[int]) -> None:
            cursor.execute(select, [candidates])
            cursor.fetchall()
            if registry_numbers:
                cursor.execute("SELECT n FROM unnest(%s::bigint[]) n JOIN registry_exchange e ON e.exchange = n / 10000"
                               " WHERE get_bit(e.bits, (n %% 10000)::int) = 1", [registry_numbers])
                cursor.fetchall()

        for i, batch in enumerate(batches):
            # Each distinct candidate once, as the API asks: with the duplicates (every number's "+12*",
            # …), PostgreSQL's planner takes 100,000 candidates for a parallel scan of the table.
            candidates = sorted({candidate for phone in batch for candidate in lookup_candidates(phone)})
            registry_numbers = [number for number in map(registry_number, batch) if number] if registry else []
            request = http_post_json(path, secret, batch)
            raw(candidates, registry_numbers)  # into memory, untimed
            for which in ("raw", "scrub")[:: 1 if i % 2 else -1]:
                if which == "raw":
                    started = time.perf_counter()
                    raw(candidates, registry_numbers)
                    raw_ms.append((time.perf_counter() - started) * 1000)
                else:
                    if before:
                        send(port, before)
                    scrubbed.append(send(port, request)[0] * 1000)
    connection.close()
    return scrubbed, raw_ms


def in_process(url: str, key, secret: str, rng: random.Random, count: int) -> dict:
    """Baselines and parts, without HTTP: raw psycopg2 (plain and PREPAREd) lookups of a number
    and its prefixes, the ORM, check's query through Django, a health-check ping, a last-use
    write (scrub_parts: the parts of a 10,000 scrub)."""
    import psycopg2

    from api import services
    from blacklist.models import BlacklistedNumber
    from blacklist.phones import lookup_candidates

    phones = mixed(rng, count)
    raw = psycopg2.connect(url)
    raw.autocommit = True
    select = ("SELECT phone, dnc_list_id, status, status_changed_at FROM blacklist_blacklistednumber"
              " WHERE phone = ANY(%s)")  # a number's (or a batch's) numbers and prefixes
    with raw.cursor() as cursor:
        cursor.execute(f"PREPARE check_phone (varchar[]) AS {select % '$1'}")
        results = {
            "raw": [timed_ms(lambda p=phone: (cursor.execute(select, [lookup_candidates(p)]), cursor.fetchall()),
                             1)[0] for phone in phones],
            "prepared": [timed_ms(lambda p=phone: (cursor.execute("EXECUTE check_phone (%s)", [lookup_candidates(p)]),
                                                   cursor.fetchall()), 1)[0] for phone in phones],
            "ping": timed_ms(lambda: cursor.execute("SELECT 1"), 1000),
            "write": timed_ms(lambda: cursor.execute("UPDATE api_apikey SET last_used_at = now() WHERE id = %s",
                                                     [key.pk]), 300),
        }
    results.update(check_query_before_and_after(raw, secret, phones))
    raw.close()
    results["orm"] = [timed_ms(lambda p=phone: BlacklistedNumber.objects.filter(
        phone__in=lookup_candidates(p)).exists(), 1)[0] for phone in phones]
    results["check query"] = [timed_ms(lambda p=phone: services.authenticate(f"Bearer {secret}", p), 1)[0]
                              for phone in phones]
    return results


def scrub_parts(rng: random.Random) -> dict:
    """The parts of a scrub of 10,000 fresh numbers, in process: normalizing (normalize_phone, and
    the phone cache the API uses, cold and warm), the one lookup, writing the JSON answer."""
    from api import services
    from blacklist import phone_cache
    from blacklist.phones import normalize_phone

    results = {}
    fresh = mixed(rng, 10_000)
    listings = services.lookup(set(fresh))
    results["normalize 10,000"] = min(timed_ms(lambda: [normalize_phone(phone) for phone in fresh], 3))
    phone_cache.clear()
    results["cache cold 10,000"] = timed_ms(lambda: [phone_cache.normalized(phone) for phone in fresh], 1)[0]
    again = mixed(rng, 10_000)
    results["cache warm 10,000"] = timed_ms(lambda: [phone_cache.normalized(phone) for phone in again], 1)[0]
    results["lookup 10,000"] = min(timed_ms(lambda: services.lookup(set(fresh)), 3))
    answers = [(phone, "") for phone in fresh]
    results["encode 10,000"] = min(timed_ms(lambda: services.scrub_json(fresh, answers, listings).encode(), 3))
    return results


def check_query_before_and_after(raw, secret: str, phones: list[str]) -> dict:
    """check's one query as it was before issue 15 (one number, one list), as it is now (the
    number and its prefixes on every list, the key's lists, one row per entry), and the same with
    the entries aggregated by json_agg in a sub-select instead (one row always): all PREPAREd on
    one connection and timed alternately, number by number, so all meet the same neighbours."""
    from django.utils import timezone

    from api import services
    from blacklist.phones import lookup_candidates

    key_columns = ", ".join("k." + column for column in services._KEY_COLUMNS if column != "all_lists")
    before = (
        f"SELECT {key_columns}, u.is_active, {services._creator_scopes()},"  # noqa: S608 — names ours
        " n.status, n.status_changed_at, r.slug, r.name, n.received_at FROM api_apikey k"
        " LEFT JOIN auth_user u ON u.id = k.created_by_id"
        f" LEFT JOIN blacklist_blacklistednumber n ON n.phone = $1 AND {services._not_expired('$2')}"
        " LEFT JOIN blacklist_reason r ON r.id = n.reason_id WHERE k.key_hash = $3"
    )
    now_sql = services._check_sql("postgresql", 0)
    head = now_sql.split(f" {services._LISTING_COLUMNS}")[0]
    aggregated = (
        f"{head} (SELECT json_agg(json_build_array({services._LISTING_COLUMNS}))"  # noqa: S608 — names ours
        f" FROM blacklist_blacklistednumber n{services._LISTING_JOINS}"
        f" WHERE n.phone = ANY($1) AND {services._not_expired('$2')})"
        " FROM api_apikey k LEFT JOIN auth_user u ON u.id = k.created_by_id WHERE k.key_hash = $3"
    )
    key_hash, now = services.hash_key(secret), timezone.now()
    names = ["check query before", "check query now", "check query json_agg"]
    samples: dict[str, list[float]] = {name: [] for name in names}
    with raw.cursor() as cursor:
        cursor.execute(f"PREPARE check_before (varchar, timestamptz, varchar) AS {before}")
        cursor.execute(f"PREPARE check_now (varchar[], timestamptz, varchar, boolean) AS {now_sql}")
        cursor.execute(f"PREPARE check_json (varchar[], timestamptz, varchar, boolean) AS {aggregated}")
        runs = {
            "check query before": lambda p: (cursor.execute("EXECUTE check_before (%s, %s, %s)", [p, now, key_hash]),
                                             cursor.fetchall()),
            "check query now": lambda p: (cursor.execute("EXECUTE check_now (%s, %s, %s, false)",
                                                         [lookup_candidates(p), now, key_hash]), cursor.fetchall()),
            "check query json_agg": lambda p: (cursor.execute("EXECUTE check_json (%s, %s, %s, false)",
                                                              [lookup_candidates(p), now, key_hash]),
                                               cursor.fetchall()),
        }
        for i, phone in enumerate(phones * 2):
            for name in names[i % 3:] + names[:i % 3]:
                samples[name].append(timed_ms(lambda run=runs[name], p=phone: run(p), 1)[0])
    return samples


def summary(results: dict, rows: int) -> list:
    """The figures that have targets, as `make bench` tabulates them beside the other benchmarks."""
    from bench.results import Result

    p50, p99 = percentile(results["check"], .5), percentile(results["check"], .99)
    ratio = statistics.median([check / noop for noop, _, check in results["rounds"]])
    floor_ratio = statistics.median([floor / noop for noop, floor, _ in results["rounds"]])
    noop_rps = statistics.median([noop for noop, _, _ in results["rounds"]])
    scrub = {name: statistics.median(results[name]) for name in ("scrub 1,000", "scrub 10,000")}
    scrub_ratio = scrub["scrub 10,000"] / statistics.median(results["raw lookup 10,000"])
    fresh = {name: statistics.median(results[f"fresh {name}"]) for name in ("scrub 1,000", "scrub 10,000")}
    fresh_ratio = fresh["scrub 10,000"] / statistics.median(results["fresh raw lookup 10,000"])
    lists_p50 = percentile(results["check lists"], .5)
    return [
        Result(f"API check, p50 (gunicorn, {rows / 1e6:g}M numbers, 20 lists, 100K prefixes)", p50,
               percentile(results["raw"], .5), "raw psycopg2 = ANY(number and prefixes)",
               f"≤ {TARGETS['check p50']:g} ms", p50 <= TARGETS["check p50"]),
        Result("API check, p99", p99, percentile(results["raw"], .99), "raw psycopg2 = ANY(number and prefixes)",
               f"≤ {TARGETS['check p99']:g} ms", p99 <= TARGETS["check p99"]),
        Result("  one-lookup floor view, p50", percentile(results["floor"], .5), percentile(results["noop"], .5),
               "do-nothing Django view, same gunicorn", "(the floor of any check)", None),
        Result("API check with lists=, p50", lists_p50, percentile(results["raw"], .5),
               "raw psycopg2 = ANY(number and prefixes)", f"≤ {TARGETS['check p50']:g} ms",
               lists_p50 <= TARGETS["check p50"]),
        Result(f"API check throughput: {ratio:.0%} of the do-nothing view", 1000 / (noop_rps * ratio),
               1000 / noop_rps, "do-nothing Django view, same gunicorn (ms/request at full load)",
               f"≥ {TARGETS['ratio']:.0%} of its throughput", ratio >= TARGETS["ratio"]),
        Result(f"  one-lookup floor view: {floor_ratio:.0%} of the do-nothing view", 1000 / (noop_rps * floor_ratio),
               1000 / noop_rps, "do-nothing Django view, same gunicorn (ms/request at full load)",
               "(the floor of any check)", None),
        Result("API scrub of 1,000 numbers, p50", scrub["scrub 1,000"],
               statistics.median(results["raw lookup 1,000"]), "raw psycopg2 = ANY(numbers and prefixes)",
               f"≤ {TARGETS['scrub 1,000']:g} ms", scrub["scrub 1,000"] <= TARGETS["scrub 1,000"]),
        Result("API scrub of 10,000 numbers, p50", scrub["scrub 10,000"],
               statistics.median(results["raw lookup 10,000"]), "raw psycopg2 = ANY(numbers and prefixes)",
               f"≤ {TARGETS['scrub 10,000 ÷ raw']:g}× raw", scrub_ratio <= TARGETS["scrub 10,000 ÷ raw"]),
        Result("API scrub of 1,000 numbers, fresh worker, p50", fresh["scrub 1,000"],
               statistics.median(results["fresh raw lookup 1,000"]), "raw psycopg2 = ANY(numbers and prefixes)",
               f"≤ {TARGETS['scrub 1,000']:g} ms", fresh["scrub 1,000"] <= TARGETS["scrub 1,000"]),
        Result("API scrub of 10,000 numbers, fresh worker, p50", fresh["scrub 10,000"],
               statistics.median(results["fresh raw lookup 10,000"]), "raw psycopg2 = ANY(numbers and prefixes)",
               f"≤ {TARGETS['scrub 10,000 ÷ raw']:g}× raw", fresh_ratio <= TARGETS["scrub 10,000 ÷ raw"]),
    ]


def report(args, results: dict) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    def row(label: str, samples: list[float], digits: int = 3, note: str = "") -> None:
        print(f"  {label:60} {percentile(samples, .5):7.{digits}f} {percentile(samples, .99):8.{digits}f}{note}")

    p50, p99 = percentile(results["check"], .5), percentile(results["check"], .99)
    lists_p50, lists_p99 = percentile(results["check lists"], .5), percentile(results["check lists"], .99)
    rounds = results["rounds"]
    ratios = [check / noop for noop, _, check in rounds]
    ratio = statistics.median(ratios)
    floor_ratio = statistics.median([floor / noop for noop, floor, _ in rounds])
    print(f"\nDialer API under gunicorn ({args.workers} sync workers), PostgreSQL with {args.rows:,} numbers over"
          f" {LISTS} lists and {PREFIXES:,} prefix entries, loopback; {os.cpu_count()} cores shared by server, clients"
          f" and database{'; WHAT-IF: CONN_HEALTH_CHECKS off' if args.without_health_checks else ''}")
    print(f"\nLatency, one request at a time, a new connection each {'p50 ms':>14} {'p99 ms':>8}")
    target = f"target ≤ {TARGETS['check p50']:g} / ≤ {TARGETS['check p99']:g}"
    row("GET /api/v1/blacklist/check (⅓ listed, ⅓ under a prefix)", results["check"], 2,
        f"   {target}: {verdict(p50 <= TARGETS['check p50'] and p99 <= TARGETS['check p99'])}")
    row(f"  the same with lists={SOME_LISTS}", results["check lists"], 2,
        f"   {target}: {verdict(lists_p50 <= TARGETS['check p50'] and lists_p99 <= TARGETS['check p99'])}")
    row("GET /bench/noop (do-nothing Django JSON view)", results["noop"], 2)
    row("GET /bench/lookup (+ one PREPAREd = ANY: check's floor)", results["floor"], 2)
    print("In process, no HTTP:")
    row("raw psycopg2 = ANY(the number and its prefixes)", results["raw"])
    row("raw psycopg2 = ANY(the number and its prefixes), PREPAREd", results["prepared"])
    row("check's one query (key + entries) through Django", results["check query"])
    before, now = percentile(results["check query before"], .5), percentile(results["check query now"], .5)
    aggregated = percentile(results["check query json_agg"], .5)
    row("check's query before issue 15, PREPAREd (one number, one list)", results["check query before"])
    row("check's query now, PREPAREd (prefixes, lists; a row per entry)", results["check query now"],
        note=f"   ×{now / before:.2f}")
    row("  the same with the entries json_agg'd in a sub-select", results["check query json_agg"],
        note=f"   ×{aggregated / before:.2f}")
    row("ORM BlacklistedNumber.objects.filter(phone__in=…).exists()", results["orm"])
    row("SELECT 1 (Django's CONN_HEALTH_CHECKS: once a request)", results["ping"])
    row("last-use UPDATE + commit, were it written every request", results["write"])
    print(f"\nThroughput: {args.clients} client processes × {args.seconds:g} s; {len(rounds)} rounds, each"
          f" measuring the three side by side")
    for number, (noop, floor, check) in enumerate(rounds, 1):
        print(f"  round {number}: do-nothing view {noop:6,.0f} req/s, one-lookup floor {floor:6,.0f}"
              f" ({floor / noop:.0%}), check {check:6,.0f} req/s: {check / noop:.0%}")
    if results["failed"]:
        print(f"  ({results['failed']} requests failed, e.g. reset while gunicorn recycled a worker; not counted)")
    print(f"  check's throughput is {ratio:.0%} of the do-nothing view's (median of the rounds);"
          f" target ≥ {TARGETS['ratio']:.0%}: {verdict(ratio >= TARGETS['ratio'])}")
    print(f"  the one-lookup floor's is {floor_ratio:.0%}: no check that asks the database per request does"
          f" better; check's is {ratio / floor_ratio:.0%} of the floor's")
    print(f"  raw psycopg2     {1000 / statistics.mean(results['raw']):8,.0f} lookups/s, one connection, no HTTP")


def report_scrub(results: dict) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    print(f"\nScrub end to end, fresh numbers (⅓ listed, ⅓ under a prefix) {'p50 ms':>10} {'best ms':>8}")
    for name in ("scrub 1,000", "scrub 10,000", "fresh scrub 1,000", "fresh scrub 10,000"):
        fresh = name.startswith("fresh ")
        times, raw = results[name], results[f"{'fresh ' if fresh else ''}raw lookup {name.split()[-1]}"]
        name = name.removeprefix("fresh ")
        share = statistics.median(times) / statistics.median(raw)
        if name in TARGETS:
            goal = f"target ≤ {TARGETS[name]:g} ms: {verdict(statistics.median(times) <= TARGETS[name])}"
        else:
            most = TARGETS[f"{name} ÷ raw"]
            goal = f"{share:.2f}× raw, target ≤ {most:g}×: {verdict(share <= most)}"
        print(f"  POST /api/v1/blacklist/scrub, {name[6:]:>6} numbers, {'fresh' if fresh else 'warm '} worker"
              f" {statistics.median(times):14.1f}"
              f" {min(times):8.1f}   {goal}")
        print(f"  raw psycopg2 = ANY(the same numbers and prefixes), in process {statistics.median(raw):13.1f}"
              f" {min(raw):8.1f}")
    print(f"  in process, 10,000 fresh numbers: normalize_phone {results['normalize 10,000']:.0f} ms; through"
          f" blacklist.phone_cache (what the API uses) {results['cache cold 10,000']:.0f} ms on a fresh process,"
          f"\n  {results['cache warm 10,000']:.0f} ms once it has met these area codes; the one lookup query"
          f" {results['lookup 10,000']:.0f} ms; building the JSON answer {results['encode 10,000']:.0f} ms")


if __name__ == "__main__":
    main()
