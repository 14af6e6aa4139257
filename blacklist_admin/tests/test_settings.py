"""Settings come from environment variables; junk values stop the app with a clear message."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from blacklist_admin.env import (
    celery_broker,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    make_var_dir,
    secret_key,
    write_secret_key,
)


def load_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter, as `manage.py` would, with `env` set."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings", "VAR_DIR": str(tmp_path), **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("Yes", True), ("on", True),
                                             ("0", False), ("false", False), ("NO", False), ("", False)])
def test_booleans_read_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("FLAG", value)
    assert env_bool("FLAG", not expected) is expected


def test_junk_boolean_is_refused(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", True)


def test_unset_values_take_their_defaults(monkeypatch):
    monkeypatch.delenv("NOT_SET", raising=False)
    assert env_bool("NOT_SET", True) is True
    assert env_int("NOT_SET", 7) == 7
    assert env_list("NOT_SET", ["a"]) == ["a"]


def test_integers_are_checked(monkeypatch):
    monkeypatch.setenv("SIZE", "12")
    assert env_int("SIZE", 1) == 12
    monkeypatch.setenv("SIZE", "12MB")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("SIZE", 1)
    monkeypatch.setenv("SIZE", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("SIZE", 1)


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_no_database_url_means_a_sqlite_file_in_wal_mode(tmp_path):
    database = database_from_url(None, tmp_path)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == tmp_path / "db.sqlite3"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_a_sqlite_url_gets_the_same_connection_options_as_the_default(tmp_path):
    """The tests hand their SQLite file to worker processes as sqlite:///…: the worker must wait
    its turn for the write lock like the web process, not fail at once."""
    database = database_from_url(f"sqlite:///{tmp_path}/shared.sqlite3", tmp_path)
    assert database["OPTIONS"] == database_from_url(None, tmp_path)["OPTIONS"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url_means_postgresql(tmp_path):
    database = database_from_url("postgres://app:secret@db.internal:6432/dnc", tmp_path)
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "django.db.backends.postgresql", "db.internal", 6432, "dnc")


@pytest.mark.parametrize("url, message", [
    ("mysql://root@localhost/dnc", "must start with postgres://"),
    ("localhost:5432", "must start with postgres://"),
    ("postgres://postgres@localhost:5432", "names no database"),
])
def test_junk_database_urls_are_refused(tmp_path, url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url, tmp_path)


def test_no_redis_url_means_the_embedded_filesystem_broker(tmp_path):
    broker, options, results = celery_broker(None, tmp_path)
    assert broker == "embeddedfs://"  # kombu's filesystem transport, messages written whole (broker.py)
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "queue")
    assert not (tmp_path / "broker").exists()  # made when Celery starts, not when the settings are read
    make_var_dir(tmp_path, embedded_broker=True)
    assert (tmp_path / "broker" / "queue").is_dir()
    assert results == f"file://{tmp_path / 'results'}"


def test_redis_url_is_broker_and_result_backend(tmp_path):
    assert celery_broker("redis://cache:6379/2", tmp_path)[::2] == ("redis://cache:6379/2", "redis://cache:6379/2")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must start with redis://"):
        celery_broker("amqp://guest@localhost//", tmp_path)


def test_secret_key_is_generated_once_in_debug(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    write_secret_key(tmp_path)  # what `make run` does first (manage.py ensure_var_dir)
    first = secret_key(True, tmp_path)
    assert len(first) >= 50
    write_secret_key(tmp_path)
    assert secret_key(True, tmp_path) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_before_the_key_file_exists_debug_uses_a_key_of_its_own_and_writes_none(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key = secret_key(True, tmp_path)
    assert len(key) >= 50 and secret_key(True, tmp_path) == key
    assert list(tmp_path.iterdir()) == []


def test_secret_key_is_required_without_debug(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set when DEBUG is off"):
        secret_key(False, tmp_path)


def test_the_app_starts_with_nothing_set(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_reading_the_settings_writes_nothing_to_disk(tmp_path):
    result = load_settings(tmp_path / "var")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


def test_ensure_var_dir_makes_the_folders_and_the_debug_key_once(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    ensure = [sys.executable, "manage.py", "ensure_var_dir"]
    subprocess.run(ensure, env={**env, "VAR_DIR": str(var)}, cwd=settings.BASE_DIR, check=True)
    key = (var / "secret_key").read_text()
    subprocess.run(ensure, env={**env, "VAR_DIR": str(var)}, cwd=settings.BASE_DIR, check=True)

    assert (var / "secret_key").read_text() == key and len(key) >= 50
    assert oct((var / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert all((var / folder).is_dir() for folder in ("static", "broker/queue", "broker/processed", "results"))


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "perhaps"}, "DEBUG='perhaps' is not a boolean"),
    ({"DEBUG": "0"}, "SECRET_KEY must be set when DEBUG is off"),
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with postgres://"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with redis://"),
    ({"DEFAULT_PHONE_REGION": "XX"}, "DEFAULT_PHONE_REGION='XX' is not a two-letter region"),
    ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE='Mars/Olympus' is not an IANA time zone"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not one of DEBUG"),
])
def test_junk_settings_stop_the_app_with_a_clear_message(tmp_path, env, message):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_region_and_time_zone_are_taken_from_the_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEFAULT_PHONE_REGION, settings.TIME_ZONE)"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings", "VAR_DIR": str(tmp_path),
             "DEFAULT_PHONE_REGION": "gb", "TIME_ZONE": "Europe/London"},
        cwd=settings.BASE_DIR, capture_output=True, text=True,
    )
    assert result.stdout.split() == ["GB", "Europe/London"], result.stderr
