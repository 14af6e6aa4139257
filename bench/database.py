"""What every benchmark does first: make sure its PostgreSQL database exists."""

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
