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
