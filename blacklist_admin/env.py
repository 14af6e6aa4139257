"""Reading the environment for blacklist_admin/settings.py: each helper turns a variable into a
setting or raises ImproperlyConfigured with a message for people. Nothing here runs on import;
the folders and the DEBUG key file under VAR_DIR are made by make_var_dir and write_secret_key."""

import functools
import ipaddress
import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list:
    """Comma-separated addresses or networks (`10.0.0.5`, `10.0.0.0/24`, `::1`)."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)."
            ) from None
    return networks


# Every SQLite connection (web, worker, tests' worker processes): WAL, so the worker writes while
# pages read; IMMEDIATE, so a writer takes the one write lock when its transaction starts and waits
# its turn (up to `timeout` seconds) instead of failing at once to upgrade a read lock; recursive
# triggers, so `INSERT OR REPLACE` / `UPDATE OR REPLACE` fire the delete triggers that guard
# permanent numbers and audit events (blacklist 0002, audit 0001) instead of silently replacing the row.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;",
}


def database_from_url(url: str | None, var_dir: Path) -> dict:
    """DATABASE_URL unset → a SQLite file in var/."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": var_dir / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
            "TEST": {"NAME": var_dir / "test.sqlite3"},  # a file, so a worker process can share it
        }
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// (or sqlite:///); got {scheme or url!r}."
        )
    try:
        database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if database["ENGINE"] == "django.db.backends.postgresql":
            database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)  # fail fast, not hang
        else:  # sqlite:/// (e.g. the tests' worker processes): the same connection settings
            database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL could not be read: {error}") from None
    if database["ENGINE"] == "django.db.backends.postgresql" and not database.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database (postgres://user@host:5432/NAME).")
    return database  # type: ignore[return-value]  # a DBConfig is that dict


def secret_key(debug: bool, var_dir: Path) -> str:
    """SECRET_KEY from the environment; in DEBUG only, the key write_secret_key keeps in
    var/secret_key, or, before it has been written, one made for this process alone."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not debug:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return _process_key()


@functools.cache
def _process_key() -> str:
    return get_random_secret_key()


def write_secret_key(var_dir: Path) -> None:
    """Generate DEBUG's key into var/secret_key (owner-only) unless it is there already."""
    try:
        descriptor = os.open(var_dir / "secret_key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(get_random_secret_key())


def phone_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"DEFAULT_PHONE_REGION={value!r} is not a two-letter region phonenumbers knows (e.g. US, GB)."
        )
    return region


def time_zone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(f"TIME_ZONE={value!r} is not an IANA time zone (e.g. UTC, America/New_York).")
    return value


def holiday_calendar(value: str) -> str:
    """A country code, or country-subdivision ("US-CA"), whose public holidays `holidays` knows."""
    import holidays

    country, _, subdivision = value.strip().upper().partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        raise ImproperlyConfigured(
            f"HOLIDAY_CALENDAR={value!r} is not a country (or country-subdivision, e.g. US-CA) "
            "that the holidays package knows."
        ) from None
    return value.strip().upper()


def celery_broker(redis_url: str | None, var_dir: Path) -> tuple[str, dict, str]:
    """REDIS_URL unset → kombu's filesystem transport under var/broker: no server to run (its
    folders are made by make_var_dir, when Celery starts)."""
    if redis_url:
        if urlsplit(redis_url).scheme not in {"redis", "rediss"}:
            raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://; got {redis_url!r}.")
        return redis_url, {"visibility_timeout": 3600}, redis_url
    queue, processed, control, results = _broker_folders(var_dir)
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),  # the same folder: producers and workers meet there
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    from . import broker  # registers its transport

    return f"{broker.SCHEME}://", options, f"file://{results}"


def _broker_folders(var_dir: Path) -> list[Path]:
    """The filesystem broker's queue, processed and control folders, and the results folder."""
    return [var_dir / "broker" / "queue", var_dir / "broker" / "processed", var_dir / "broker" / "control",
            var_dir / "results"]


def make_var_dir(var_dir: Path, embedded_broker: bool) -> None:
    """Create VAR_DIR and the folders this machine uses in it: static files and, with REDIS_URL
    unset, the embedded broker's. Called where they are first needed (`manage.py ensure_var_dir`,
    Celery's start, the tests' start), never on import of the settings."""
    folders = [var_dir, var_dir / "static", *(_broker_folders(var_dir) if embedded_broker else [])]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
