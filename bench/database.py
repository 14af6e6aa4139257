"""What every benchmark does first: make sure its PostgreSQL database exists (and, for most,
point Django at it)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2


def ensure_database(url: str) -> str:
    """Create the database `url` names, through the server's `postgres` database, if missing."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = psycopg2.connect(parts._replace(path="/postgres").geturl())
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    server.close()
    return url


def setup_django(name: str) -> None:
    """Django set up on the benchmark's database `name` on BENCH_POSTGRES (made if missing), migrated."""
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    os.environ["DATABASE_URL"] = ensure_database(f"{server}/{name}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a JSON line per request measured
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blacklist_admin.settings")
    os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "bench"))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def warm_cache(table: str = "blacklist_blacklistednumber") -> str:
    """Read `table` and its indexes once (pg_prewarm's `read` mode: into the operating system's
    cache), so a benchmark measures the warm state a server holding its numbers in RAM is in,
    not what an earlier build or another database evicted. Skipped when they would take more than
    half the machine's memory (the 100M scale point: its figures are the cache misses' ones).
    Returns what it did, for the output."""
    from django.db import connection

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s)", [table])
        (size,) = cursor.fetchone()
        if size > memory / 2:
            return f"cache not warmed: {table} and its indexes are {size / 2**30:.1f} GB, over half the RAM"
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cursor.execute("SELECT sum(pg_prewarm(oid::regclass, 'read')) FROM pg_class WHERE oid = %s::regclass"
                       " OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)", [table, table])
    return f"cache warmed: {table} and its indexes read once ({size / 2**30:.1f} GB)"
