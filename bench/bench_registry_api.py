"""Benchmark of check and scrub with the national registry (`registry=1`) beside the same calls without it.

    .venv/bin/python bench/bench_registry_api.py                               # 100M registry numbers (~3 min to build)
    .venv/bin/python bench/bench_registry_api.py --registry-rows 5000000 --database blacklist_bench_registry_api_5m

Builds (once, then reuses) the PostgreSQL database BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/blacklist_bench_registry_api): the registry laid out as
registry.loads lays it out (a bitmap per exchange, registry.bitmaps; an AreaCode row with its data
date), every US area code loaded, `--registry-rows` numbers in all: a million (every other number
of exchanges 200–399) in each of the first area codes, 1,000 in the others; each area code's bitmap
made in numpy and stored directly, for the benchmark only (a load is registry.loads' business and
bench of its own). Our own lists: BLACKLIST_ROWS numbers of the big area codes (exchanges 200–299,
one in five), approved.

Then gunicorn (bench_api's server, DEBUG off) and, one request at a time on loopback sockets:
  - check of the same numbers with and without `registry=1`, alternately (numbers of exchanges
    200–599: 1 in 20 on our list, 1 in 4 on the registry): p50/p99 and the difference (issue 18:
    p50 within 0.2 ms);
  - in process, check's one PREPAREd query (api.services.authenticate) with and without the registry;
  - scrub of 10,000 numbers with `registry=1`, without it, and the raw `= ANY` lookup of the same
    numbers and their prefixes in our lists (bench_api's floor; issue 18: ≤ 2× raw); and with
    `registry=1`, 10,000 numbers spread over every area code.
"""

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import (  # noqa: E402
    free_port,
    http_get,
    http_post_json,
    percentile,
    scrub_beside_raw,
    send,
    start_gunicorn,
    timed_ms,
)
from bench.database import ensure_database  # noqa: E402

BIG_AREA_CODE_ROWS = 1_000_000  # every other number of exchanges 200–399
SMALL_AREA_CODE_ROWS = 1_000
BLACKLIST_ROWS = 800_000  # shared by the big area codes (200,000 each of 4 at 5M; 8,000 each of 100 at 100M)
DATA_DATE = "2026-11-20"


def fill(registry_rows: int) -> tuple[list[int], int]:
    """The registry (every US area code, about `registry_rows` numbers) and our list, if not there
    yet; returns the big area codes (those holding a million numbers each) and the numbers in all."""
    from django.db import connection

    from blacklist.models import default_reason_id, internal_list_id
    from registry import bitmaps
    from registry.formats import area_code_exists, state_of
    from registry.models import AreaCode

    codes = [code for code in range(200, 1000) if area_code_exists(code)]
    big = codes[:max(1, (registry_rows - SMALL_AREA_CODE_ROWS * len(codes)) // BIG_AREA_CODE_ROWS)]
    wanted = len(big) * BIG_AREA_CODE_ROWS + (len(codes) - len(big)) * SMALL_AREA_CODE_ROWS
    if sum(AreaCode.objects.values_list("numbers", flat=True)) == wanted:
        return big, wanted
    print(f"Filling the registry: {wanted:,} numbers over {len(codes)} area codes, our list:"
          f" {BLACKLIST_ROWS:,} numbers (once; later runs reuse them)…", flush=True)
    reason, internal = default_reason_id(), internal_list_id()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        for code in codes:
            rows = BIG_AREA_CODE_ROWS if code in big else SMALL_AREA_CODE_ROWS
            bits = bitmaps.empty()
            bitmaps.set_bits(bits, 2_000_000 + 2 * np.arange(rows, dtype=np.int64))
            bitmaps.store(code, bitmaps.stored(code), bits)
            AreaCode.objects.update_or_create(code=code, defaults={"state": state_of(code), "data_date": DATA_DATE,
                                                                   "numbers": rows})
        cursor.execute("TRUNCATE blacklist_blacklistednumber")
        cursor.execute(
            "INSERT INTO blacklist_blacklistednumber (phone, dnc_list_id, status, added_at, status_changed_at,"
            " reason_id, channel, received_at, deadline, note) SELECT '+1' || a.code || (2000000 + 5 * i)::text,"
            " %s, 2, now(), now(), %s, 'api', now(), current_date + 14, ''"
            " FROM unnest(%s::int[]) AS a(code), generate_series(0, %s) AS i",
            [internal, reason, big, BLACKLIST_ROWS // len(big) - 1])
        cursor.execute("VACUUM ANALYZE registry_exchange")
        cursor.execute("VACUUM ANALYZE blacklist_blacklistednumber")
    return big, wanted


def numbers(rng: random.Random, big: list[int], count: int) -> list[str]:
    """Numbers of the big area codes, exchanges 200–599: one in five of 200–299 on our list, one in
    two of 200–399 on the registry."""
    return [f"+1{rng.choice(big)}{rng.randint(2_000_000, 5_999_999)}" for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--registry-rows", type=int, default=100_000_000)  # issue 18's scale point
    parser.add_argument("--database", default="blacklist_bench_registry_api")
    parser.add_argument("--requests", type=int, default=2000, help="checks timed each way")
    parser.add_argument("--scrubs", type=int, default=6, help="scrubs of 10,000 numbers timed each way")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or (
        os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432") + "/" + args.database)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "benchmark-only-not-secret",
           "ALLOWED_HOSTS": "127.0.0.1", "VAR_DIR": tempfile.mkdtemp(prefix="bench-registry-api-"),
           "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    ensure_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from api import services
    from api.models import ApiKey

    call_command("migrate", verbosity=0)
    big, args.registry_numbers = fill(args.registry_rows)
    owner, _ = get_user_model().objects.get_or_create(username="benchmark", defaults={"is_superuser": True})
    key, secret = services.create_key("benchmark", can_check=True, can_add=False, can_approve=False, expires_at=None,
                                      user=owner)
    rng = random.Random(18)
    try:
        results = served(env, secret, rng, big, args)
        results.update(in_process(secret, rng, big, args.requests))
    finally:
        ApiKey.objects.filter(pk=key.pk).delete()
    report(args, results)
    if args.json:
        from bench.results import write_json

        write_json(args.json, summary(results), benchmark="registry api", registry_numbers=args.registry_numbers)


def summary(results: dict) -> list:
    """The figures issue 18 sets targets for, as `make bench` tabulates them."""
    from bench.results import Result

    check, check_registry = percentile(results["check"], .5), percentile(results["check registry"], .5)
    scrub, raw = statistics.median(results["scrub registry"]), statistics.median(results["raw registry"])
    return [
        Result("API check with registry=1, p50", check_registry, check, "the same check without registry=1",
               "≤ +0.2 ms", check_registry - check <= 0.2),
        Result("API scrub of 10,000 with registry=1, p50", scrub, raw,
               "raw = ANY in our lists + a raw join on the exchanges' rows", "≤ 2× raw", scrub <= 2 * raw),
        Result("  the same, batches met for the first time", statistics.median(results["scrub registry first"]), None,
               "the registry's pages read from the disk cache", "(information)", None),
        Result("API scrub of 10,000 without registry=1, p50", statistics.median(results["scrub"]), raw,
               "raw psycopg2 = ANY(numbers and prefixes)", "(for scale)", None),
    ]


def served(env: dict, secret: str, rng: random.Random, big: list[int], args) -> dict:
    from registry.models import AreaCode

    phones = numbers(rng, big, args.requests)
    plain = [http_get(f"/api/v1/blacklist/check?phone={quote(phone)}", secret) for phone in phones]
    registry = [http_get(f"/api/v1/blacklist/check?phone={quote(phone)}&registry=1", secret) for phone in phones]
    port = free_port()
    gunicorn = start_gunicorn(port, 2, env)
    results: dict[str, list[float]] = {"check": [], "check registry": [], "scrub": [], "scrub registry first": [],
                                       "scrub registry spread": []}
    try:
        for request in (plain + registry)[:: max(1, len(phones) // 200)]:  # warm up both workers, both statements
            send(port, request)
        for i, (without, with_registry) in enumerate(zip(plain, registry, strict=True)):
            for name, request in [("check", without), ("check registry", with_registry)][:: 1 if i % 2 else -1]:
                results[name].append(send(port, request)[0] * 1000)
        batches = [numbers(rng, big, 10_000) for _ in range(args.scrubs)]
        for batch in batches[:2]:
            send(port, http_post_json("/api/v1/blacklist/scrub?registry=1", secret, batch))
        # The raw floor (bench_api's: the numbers and their prefixes in our lists, `= ANY`) beside each.
        results["scrub"], results["raw"] = scrub_beside_raw(port, secret, env["DATABASE_URL"], batches)
        for batch in batches:  # first met: these numbers' exchanges' rows read from the disk cache
            request = http_post_json("/api/v1/blacklist/scrub?registry=1", secret, batch)
            results["scrub registry first"].append(send(port, request)[0] * 1000)
        results["scrub registry"], results["raw registry"] = scrub_beside_raw(
            port, secret, env["DATABASE_URL"], [numbers(rng, big, 10_000) for _ in range(args.scrubs)], registry=True)
        every_code = list(AreaCode.objects.values_list("code", flat=True))
        for batch in [numbers(rng, every_code, 10_000) for _ in range(args.scrubs + 1)]:
            request = http_post_json("/api/v1/blacklist/scrub?registry=1", secret, batch)
            results["scrub registry spread"].append(send(port, request)[0] * 1000)
        results["scrub registry spread"].pop(0)  # the first met these area codes' numbers: normalizing
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
    return results


def in_process(secret: str, rng: random.Random, big: list[int], count: int) -> dict:
    from api import services

    phones = numbers(rng, big, count)
    results: dict[str, list[float]] = {"query": [], "query registry": []}
    authorization = f"Bearer {secret}"
    for i, phone in enumerate(phones):
        number = services.registry_number(phone)
        runs = [("query", None), ("query registry", number)][:: 1 if i % 2 else -1]
        for name, registry_number in runs:
            results[name].append(timed_ms(lambda p=phone, n=registry_number: services.authenticate(
                authorization, p, registry_number=n), 1)[0])
    return results


def report(args, results: dict) -> None:
    def row(label: str, samples: list[float], note: str = "") -> None:
        print(f"  {label:64} {percentile(samples, .5):8.3f} {percentile(samples, .99):8.3f}{note}")

    print(f"\ncheck and scrub with the national registry: {args.registry_numbers:,} registry numbers (a bitmap per"
          f" exchange), gunicorn 2 sync workers, loopback, one request at a time; {os.cpu_count()} cores shared")
    print(f"{'':66} {'p50 ms':>8} {'p99 ms':>8}")
    gap = percentile(results["check registry"], .5) - percentile(results["check"], .5)
    row("GET check", results["check"])
    row("GET check&registry=1", results["check registry"],
        f"   +{gap:.3f} ms; target within 0.2: {'met' if gap <= 0.2 else 'NOT MET'}")
    query_gap = percentile(results["query registry"], .5) - percentile(results["query"], .5)
    row("in process: check's one PREPAREd query (authenticate)", results["query"])
    row("in process: the same with the registry's columns", results["query registry"], f"   +{query_gap:.3f} ms")
    raw, raw_registry = statistics.median(results["raw"]), statistics.median(results["raw registry"])
    with_registry = statistics.median(results["scrub registry"])
    print(f"\n  scrub of 10,000 (median ms): without the registry {statistics.median(results['scrub']):.1f}"
          f" (raw `= ANY` in our lists {raw:.1f}); with registry=1 {with_registry:.1f}, raw floor {raw_registry:.1f}"
          f" (our lists' `= ANY` + a raw join on the exchanges' rows): {with_registry / raw_registry:.2f}× raw,"
          f" target ≤ 2×: {'met' if with_registry <= 2 * raw_registry else 'NOT MET'}")
    print(f"  with registry=1, batches met for the first time (their exchanges' rows from the disk cache,"
          f" not yet in shared_buffers): {statistics.median(results['scrub registry first']):.1f}")
    print(f"  the same with registry=1, numbers spread over every area code:"
          f" {statistics.median(results['scrub registry spread']):.1f}")


if __name__ == "__main__":
    main()
