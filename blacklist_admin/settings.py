"""The one settings module. Environments differ only by environment variables, each with a
safe default for `make run` on a laptop: SQLite and an embedded Celery broker under var/."""

import ipaddress
import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

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
    """SECRET_KEY from the environment; in DEBUG only, generated once into var/secret_key."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not debug:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


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


def celery_broker(redis_url: str | None, var_dir: Path) -> tuple[str, dict, str]:
    """REDIS_URL unset → kombu's filesystem transport under var/broker: no server to run."""
    if redis_url:
        if urlsplit(redis_url).scheme not in {"redis", "rediss"}:
            raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://; got {redis_url!r}.")
        return redis_url, {"visibility_timeout": 3600}, redis_url
    queue = var_dir / "broker" / "queue"
    for folder in (queue, var_dir / "broker" / "processed", var_dir / "broker" / "control", var_dir / "results"):
        folder.mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),  # the same folder: producers and workers meet there
        "processed_folder": str(var_dir / "broker" / "processed"),
        "control_folder": str(var_dir / "broker" / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    return "filesystem://", options, f"file://{var_dir / 'results'}"


# var/ holds what one machine keeps locally: the SQLite file, the embedded broker, the dev key.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = secret_key(DEBUG, VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS: on by default once DEBUG is off and the site answers for hosts other than this machine;
# `make serve` (localhost only) stays plain http. HTTPS=1/0 decides explicitly. TLS is expected to
# end at a proxy that sets X-Forwarded-Proto (trusted only while HTTPS is on, or per env).
HTTPS = env_bool("HTTPS", not DEBUG and not set(ALLOWED_HOSTS) <= {"localhost", "127.0.0.1", "[::1]"})
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", HTTPS) else None
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)  # a promise about the whole domain: its owner's call
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]  # ("not preloaded"), see above
# Scripts and styles only from our own files (static/, vendor copies included): no inline <script>,
# no on…= handlers, no style="…" attributes, so injected markup can neither run nor restyle the page.
# data: images are Bootstrap's SVG icons, which its CSS embeds.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURE_REFERRER_POLICY = "same-origin"  # Django's default, stated: other sites never see our URLs (filters)
SECURE_CONTENT_TYPE_NOSNIFF = True  # Django's default, stated

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "blacklist",
    "tasks_logs",
    "api",
    "accounts",
    "audit",
    "roles",
]

MIDDLEWARE = [
    "blacklist_admin.logs.RequestLogMiddleware",  # first: it times everything below
    "django.middleware.security.SecurityMiddleware",
    "blacklist_admin.headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from the web process itself
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",  # every page needs a login
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blacklist_admin.urls"
WSGI_APPLICATION = "blacklist_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"), VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "blacklist:review"
LOGOUT_REDIRECT_URL = "login"
# Failed logins, counted in the database (accounts.LoginFailures): this many to one username, or
# from one address, within LOGIN_LOCKOUT_MINUTES, and logins there wait for the window to pass.
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# The proxies in front of gunicorn, whose X-Forwarded-For is believed (accounts/throttle.py):
# addresses or networks. None by default: any client could write that header itself.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

LANGUAGE_CODE = "en-us"
TIME_ZONE = time_zone(os.environ.get("TIME_ZONE", "UTC"))
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"  # `collectstatic` writes here; whitenoise serves it
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = DEBUG  # with DEBUG, straight from static/
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without DEBUG (make serve, production): compressed files with hashed names from
    # `collectstatic`, cached for ever by browsers. With DEBUG: the files as they are.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# Phone numbers written without a country code are read as numbers of this region.
DEFAULT_PHONE_REGION = phone_region(os.environ.get("DEFAULT_PHONE_REGION", "US"))

# The largest CSV file the upload form and `import_blacklist` accept (50,000 rows fit in far less).
UPLOAD_MAX_MB = env_int("UPLOAD_MAX_MB", 5, minimum=1)
FILE_UPLOAD_HANDLERS = [  # the first stops reading a body over UPLOAD_MAX_MB (blacklist/uploads.py)
    "blacklist.uploads.SizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Whether the API's check and scrub report numbers still for review as blocked. On by default:
# a number someone asked to put on the list is not dialed while it waits for review.
BLOCK_NUMBERS_UNDER_REVIEW = env_bool("BLOCK_NUMBERS_UNDER_REVIEW", True)

REDIS_URL = os.environ.get("REDIS_URL") or None
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_RESULT_BACKEND = celery_broker(REDIS_URL, VAR_DIR)
CELERY_TASK_ACKS_LATE = True  # a job whose worker dies is delivered again, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long jobs: a worker holds one at a time
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]  # a worker never unpickles what arrives on the queue
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Each kind of job has its own queue, so a 10M-row bulk action never holds up a user's upload:
# run workers for both (`-Q imports,bulk`), or separate ones (README, Deploying).
CELERY_TASK_ROUTES = {
    "blacklist.tasks.import_upload": {"queue": "imports"},
    "blacklist.tasks.sweep_stale_jobs": {"queue": "imports"},
    "blacklist.tasks.run_bulk_action": {"queue": "bulk"},
}
WORKER_QUEUES = "imports,bulk,celery"  # what `make run`, `make serve` and the tests' workers consume
CELERY_TASK_ANNOTATIONS = {  # (soft, hard) time limits: a stuck job fails instead of holding a worker
    "blacklist.tasks.import_upload": {"soft_time_limit": 600, "time_limit": 660},
    "blacklist.tasks.run_bulk_action": {"soft_time_limit": 3600, "time_limit": 3660},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep the one-line-per-event format below

# Logs: one line per request and per task event, as JSON, to stdout (blacklist_admin/logs.py).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "blacklist_admin.logs.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {"django.server": {"level": "WARNING"}},  # runserver's own access lines: ours replace them
}

# Where a beat runs (`celery worker --beat`), jobs a dead worker left behind, or whose message
# never reached the broker, are sent again: those whose row stood still TASK_STALE_SECONDS (a
# running import writes progress far more often), looked for every TASK_SWEEP_SECONDS.
TASK_STALE_SECONDS = env_int("TASK_STALE_SECONDS", 120, minimum=1)
TASK_SWEEP_SECONDS = env_int("TASK_SWEEP_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {"task": "blacklist.tasks.sweep_stale_jobs", "schedule": TASK_SWEEP_SECONDS},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
