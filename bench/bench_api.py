"""Benchmark of the dialer API under gunicorn, against baselines measured in the same run.

    .venv/bin/python bench/bench_api.py                          # 10 million numbers
    .venv/bin/python bench/bench_api.py --workers 4 --seconds 8   # more gunicorn workers, longer runs

Builds (once, then reuses) the PostgreSQL database BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/blacklist_bench_api), filled by set-based SQL with 10 million
valid US numbers: +1 <area code> 2XX-XXXX for ten area codes; 30% for review, 60% approved, 10%
permanently approved. Numbers with exchanges 300–999 are valid but not listed.

Then it starts gunicorn (DEBUG off, the project's own settings and middleware) on a free loopback
port, with one extra URL, /bench/noop: a do-nothing Django JSON view with the same decorators as
the API's, the framework's own ceiling. Clients are plain sockets in this process (latency, one
request at a time) and in --clients processes (throughput). It prints:
  - check: p50/p99 latency, throughput, and its ratio to the do-nothing view in the same server;
  - a raw psycopg2 indexed lookup (plain and PREPAREd), the ORM's .exists(), and what a last-use
    write on every request would cost;
  - scrub of 1,000 and 10,000 numbers end to end (fresh numbers each time), beside the in-process
    cost of normalizing them, the one lookup query, and encoding the answer.
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
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AREA_CODES = ["206", "212", "305", "312", "415", "503", "617", "702", "808", "917"]
ROWS = 10_000_000  # one million per area code: exchanges 200–299, lines 0000–9999
TARGETS = {"check p50": 1.5, "check p99": 5.0, "ratio": 0.60, "scrub 1,000": 30.0, "scrub 10,000": 150.0}


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

    global urlpatterns
    urlpatterns = [path("bench/noop", noop), path("", include("blacklist_admin.urls"))]
    settings.ROOT_URLCONF = __name__
    return WSGIHandler()


# ---- the benchmark's side --------------------------------------------------------------------


def prepare_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(parts._replace(path="/postgres").geturl())
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def fill() -> None:
    """10 million numbers by INSERT … SELECT generate_series, one statement per area code, if not there yet."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM blacklist_blacklistednumber LIMIT %s) AS capped", [ROWS])
        if cursor.fetchone()[0] >= ROWS:
            return
        print(f"Filling {ROWS:,} numbers (once; later runs reuse them)…", flush=True)
        started = time.perf_counter()
        cursor.execute("TRUNCATE blacklist_blacklistednumber")
        cursor.execute("SET synchronous_commit = off")
        for area_code in AREA_CODES:
            cursor.execute(
                """
                INSERT INTO blacklist_blacklistednumber (phone, status, added_at, status_changed_at)
                SELECT '+1' || %s || i::text,
                       CASE WHEN i %% 10 < 3 THEN 1 WHEN i %% 10 < 9 THEN 2 ELSE 3 END,
                       now() - (i - 2000000) * interval '60 seconds',
                       now() - (i - 2000000) * interval '30 seconds'
                FROM generate_series(2000000, 2999999) AS i
                """,
                [area_code],
            )
            print(f"  +1 {area_code}: {time.perf_counter() - started:.0f} s", flush=True)
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
        print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)


def listed(rng: random.Random) -> str:
    return f"+1{rng.choice(AREA_CODES)}{rng.randint(2_000_000, 2_999_999)}"


def unlisted(rng: random.Random) -> str:
    return f"+1{rng.choice(AREA_CODES)}{rng.randint(3_000_000, 9_999_999)}"


def half_listed(rng: random.Random, count: int) -> list[str]:
    return [listed(rng) if i % 2 else unlisted(rng) for i in range(count)]


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


def _hammer(port: int, requests: list[bytes], seconds: float) -> tuple[int, float]:
    """A throughput client process: requests back to back for `seconds`; returns (count, elapsed)."""
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        send(port, requests[count % len(requests)])
        count += 1
    return count, time.perf_counter() - started


def throughput(port: int, requests: list[bytes], clients: int, seconds: float) -> float:
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.starmap(_hammer, [(port, requests, seconds)] * clients)
    return sum(count / elapsed for count, elapsed in results)


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


def start_gunicorn(port: int, workers: int, env: dict) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "bench.bench_api:server()", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--log-level", "warning", "--chdir", str(ROOT),
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            send(port, http_get("/bench/noop"))
            return process
        except (ConnectionRefusedError, RuntimeError):
            if process.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=None, help="throughput client processes (default: workers)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--requests", type=int, default=3000, help="sequential requests for latency")
    args = parser.parse_args()
    clients = args.clients or args.workers

    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blacklist_bench_api")
    var_dir = tempfile.mkdtemp(prefix="bench-api-")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "benchmark-only-not-secret",
           "ALLOWED_HOSTS": "127.0.0.1", "VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings"}
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    prepare_database(url)

    import django

    django.setup()
    import psycopg2
    from django.core.management import call_command
    from django.db import connection

    from api import services
    from api.models import ApiKey
    from blacklist.models import BlacklistedNumber
    from blacklist.phones import normalize_phone

    call_command("migrate", verbosity=0)
    fill()
    key, secret = services.create_key("benchmark", can_check=True, can_add=False, can_approve=False, expires_at=None)
    rng = random.Random(5)
    check_requests = [
        http_get(f"/api/v1/blacklist/check?phone={quote(phone)}", secret) for phone in half_listed(rng, args.requests)
    ]
    noop_requests = [http_get("/bench/noop")]
    port = free_port()
    gunicorn = start_gunicorn(port, args.workers, env)
    try:
        listed_answer = body(send(port, http_get(f"/api/v1/blacklist/check?phone={quote(listed(rng))}", secret))[1])
        assert listed_answer["blocked"] is True and listed_answer["status"] is not None, listed_answer
        assert body(send(port, http_get(f"/api/v1/blacklist/check?phone={quote(unlisted(rng))}", secret))[1])[
            "status"] is None
        latencies_ms(port, check_requests[:300] + noop_requests * 300)  # warm up every worker

        check_ms = latencies_ms(port, check_requests)
        noop_ms = latencies_ms(port, noop_requests * args.requests)
        rounds = []
        for _ in range(2):
            rounds.append((throughput(port, noop_requests, clients, args.seconds),
                           throughput(port, check_requests, clients, args.seconds)))

        scrubs = {}
        for count, repeat in ((1_000, 20), (10_000, 6)):
            requests = [http_post_json("/api/v1/blacklist/scrub", secret, half_listed(rng, count)) for _ in range(repeat)]
            send(port, requests[0])  # warm up
            times = [send(port, request)[0] * 1000 for request in requests]
            answer = body(send(port, requests[-1])[1])
            assert answer["count"] == count and answer["invalid"] == 0, {k: answer[k] for k in ("count", "invalid")}
            scrubs[count] = times
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)

    # Baselines in this process: raw psycopg2, the ORM, the in-process parts of a scrub.
    phones = half_listed(rng, args.requests)
    raw = psycopg2.connect(url)
    raw.autocommit = True
    with raw.cursor() as cursor:
        select = "SELECT status, status_changed_at FROM blacklist_blacklistednumber WHERE phone = %s"

        def raw_lookup(phone):
            cursor.execute(select, [phone])
            cursor.fetchall()

        raw_lookup(phones[0])
        raw_ms = [timed_ms(lambda p=phone: raw_lookup(p), 1)[0] for phone in phones]
        cursor.execute(f"PREPARE check_phone(varchar) AS {select.replace('%s', '$1')}")

        def prepared_lookup(phone):
            cursor.execute("EXECUTE check_phone(%s)", [phone])
            cursor.fetchall()

        prepared_ms = [timed_ms(lambda p=phone: prepared_lookup(p), 1)[0] for phone in phones]
        write_ms = timed_ms(lambda: cursor.execute(
            "UPDATE api_apikey SET last_used_at = now() WHERE id = %s", [key.pk]), 300)
    raw.close()
    orm_ms = [timed_ms(lambda p=phone: BlacklistedNumber.objects.filter(phone=p).exists(), 1)[0] for phone in phones]
    lookup_ms = [timed_ms(lambda p=phone: services.lookup([p]), 1)[0] for phone in phones]

    fresh = half_listed(rng, 10_000)
    normalize_ms = min(timed_ms(lambda: [normalize_phone(phone) for phone in fresh], 3))
    batch_ms = min(timed_ms(lambda: services.lookup(set(fresh)), 3))
    listings = services.lookup(set(fresh))
    from django.http import JsonResponse

    encode_ms = min(timed_ms(lambda: JsonResponse({"results": [
        {"input": phone, "valid": True, "reason": None, **services.verdict(phone, listings.get(phone))}
        for phone in fresh]}), 3))
    ApiKey.objects.filter(pk=key.pk).delete()
    connection.close()

    report(args, clients, check_ms, noop_ms, rounds, scrubs, raw_ms, prepared_ms, orm_ms, lookup_ms, write_ms,
           normalize_ms, batch_ms, encode_ms)


def report(args, clients, check_ms, noop_ms, rounds, scrubs, raw_ms, prepared_ms, orm_ms, lookup_ms, write_ms,
           normalize_ms, batch_ms, encode_ms) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    p50, p99 = percentile(check_ms, 0.50), percentile(check_ms, 0.99)
    noop_rps, check_rps = max(r[0] for r in rounds), max(r[1] for r in rounds)
    ratio = check_rps / noop_rps
    print(f"\nDialer API under gunicorn ({args.workers} sync workers), PostgreSQL with {ROWS:,} numbers, loopback,"
          f" {os.cpu_count()} cores shared by server, clients and database")
    print("\nLatency, one request at a time (a new connection each)        p50 ms    p99 ms")
    print(f"  GET /api/v1/blacklist/check (half listed)              {p50:8.2f}  {p99:8.2f}"
          f"   target ≤ {TARGETS['check p50']} / ≤ {TARGETS['check p99']}: {verdict(p50 <= 1.5 and p99 <= 5)}")
    print(f"  GET /bench/noop (do-nothing Django JSON view)          {percentile(noop_ms, .5):8.2f}"
          f"  {percentile(noop_ms, .99):8.2f}")
    print(f"  raw psycopg2 indexed lookup (in process)               {percentile(raw_ms, .5):8.3f}"
          f"  {percentile(raw_ms, .99):8.3f}")
    print(f"  same, PREPAREd statement                               {percentile(prepared_ms, .5):8.3f}"
          f"  {percentile(prepared_ms, .99):8.3f}")
    print(f"  api.services.lookup() on Django's connection           {percentile(lookup_ms, .5):8.3f}"
          f"  {percentile(lookup_ms, .99):8.3f}")
    print(f"  ORM .filter(phone=…).exists()                          {percentile(orm_ms, .5):8.3f}"
          f"  {percentile(orm_ms, .99):8.3f}")
    print(f"  last-use UPDATE + commit (if written every request)    {percentile(write_ms, .5):8.3f}"
          f"  {percentile(write_ms, .99):8.3f}")
    print(f"\nThroughput, {clients} client processes × {args.seconds:g} s, best of {len(rounds)}"
          f" (each round: {', '.join(f'{n:,.0f} / {c:,.0f}' for n, c in rounds)} req/s noop / check)")
    print(f"  do-nothing view   {noop_rps:8,.0f} req/s")
    print(f"  check             {check_rps:8,.0f} req/s   {ratio:.0%} of the do-nothing view;"
          f" target ≥ {TARGETS['ratio']:.0%}: {verdict(ratio >= TARGETS['ratio'])}")
    print(f"  raw psycopg2      {1000 / statistics.mean(raw_ms):8,.0f} lookups/s on one connection, no HTTP")
    print("\nScrub, end to end (fresh numbers, half listed)     p50 ms   best ms")
    for count, times in scrubs.items():
        target = TARGETS[f"scrub {count:,}"]
        print(f"  {count:>6,} numbers                              {statistics.median(times):8.1f}  {min(times):8.1f}"
              f"   target ≤ {target:g}: {verdict(statistics.median(times) <= target)}")
    print(f"  in process, 10,000 numbers: normalize_phone {normalize_ms:.0f} ms"
          f" ({normalize_ms / 10:.0f} µs a number), the one lookup query {batch_ms:.0f} ms,"
          f" JSON answer {encode_ms:.0f} ms")


if __name__ == "__main__":
    main()
