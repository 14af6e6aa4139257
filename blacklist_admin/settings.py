"""The one settings module. Environments differ only by environment variables, each with a
safe default for `make run` on a laptop: SQLite and an embedded Celery broker under var/.
Reading them is blacklist_admin/env.py; importing this module writes nothing to disk."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import (
    celery_broker,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_networks,
    holiday_calendar,
    phone_region,
    secret_key,
    time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# var/ holds what one machine keeps locally: the SQLite file, the embedded broker, the dev key.
# Made by `manage.py ensure_var_dir` (`make run`, `make serve`) and when Celery starts (env.make_var_dir).
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()

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
    "registry",
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

FORM_RENDERER = "blacklist_admin.renderer.FastWidgetRenderer"  # Django's, inputs and selects written in Python
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

# Prefix blocks (docs/lists.md): how many digits after the country code a prefix entry must have
# at least ("+1201*" has 3), so that nobody blocks a whole country or most of it by a slip.
MIN_PREFIX_DIGITS = env_int("MIN_PREFIX_DIGITS", 3, minimum=1)

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

# Compliance (docs/compliance.md). A request is honoured (approved) within this many business
# days of its arrival (FCC 24-24: at most 10); business days skip weekends and the public
# holidays of HOLIDAY_CALENDAR, a country (or "US-CA"-style subdivision) the `holidays` package knows.
HONOUR_WITHIN_BUSINESS_DAYS = env_int("HONOUR_WITHIN_BUSINESS_DAYS", 10, minimum=1)
HOLIDAY_CALENDAR = holiday_calendar(os.environ.get("HOLIDAY_CALENDAR", "US"))
# Numbers asked for by the consumer (reasons marked "retained") stay listed this long after the
# request: 47 CFR 64.1200(d)(6) says 5 years. Removing one earlier takes a Manager's justification.
RETENTION_YEARS = env_int("RETENTION_YEARS", 5, minimum=1)

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
    "blacklist.tasks.remove_expired": {"queue": "bulk"},  # up to millions of rows, in batches
    "blacklist.tasks.run_bulk_action": {"queue": "bulk"},
    "registry.tasks.load_registry_file": {"queue": "imports"},
}
WORKER_QUEUES = "imports,bulk,celery"  # what `make run`, `make serve` and the tests' workers consume
CELERY_TASK_ANNOTATIONS = {  # (soft, hard) time limits: a stuck job fails instead of holding a worker
    "blacklist.tasks.import_upload": {"soft_time_limit": 600, "time_limit": 660},
    "blacklist.tasks.run_bulk_action": {"soft_time_limit": 3600, "time_limit": 3660},
    "blacklist.tasks.remove_expired": {"soft_time_limit": 3600, "time_limit": 3660},
    "registry.tasks.load_registry_file": {"soft_time_limit": 3600, "time_limit": 3660},  # a state's millions
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
# A job that meets a transient database error (a restart, a failover) is tried again after 1, 2,
# 4, 8, 16 ... seconds, TASK_RETRIES times, then failed with the reason (tasks_logs/jobs.py).
TASK_RETRIES = env_int("TASK_RETRIES", 5)
# PostgreSQL's work_mem for a bulk action's transaction (MB), where its sorts and its events'
# transition table stay in memory rather than spill a million rows to disk; 4 MB elsewhere.
BULK_WORK_MEM_MB = env_int("BULK_WORK_MEM_MB", 256, minimum=4)
# An area code of the national registry whose data is older than this many days is stale: sellers
# may call only on registry data downloaded at most 31 days before (docs/registry.md).
REGISTRY_STALE_DAYS = env_int("REGISTRY_STALE_DAYS", 31, minimum=1)
# The largest national registry file the Registry page accepts (stored in the database for the
# worker; an area code's full list is about 110 MB as text, a tenth of that zipped).
REGISTRY_UPLOAD_MAX_MB = env_int("REGISTRY_UPLOAD_MAX_MB", 200, minimum=1)
# Whether a number the national registry lists is blocked for API calls that ask the registry
# (registry=1); off, they are told it is listed but the registry does not block (docs/registry.md).
REGISTRY_BLOCKS = env_bool("REGISTRY_BLOCKS", True)
# The files uploaded for jobs (CSV imports, registry files: up to 200 MB each) are kept in the
# database for the workers, then deleted this many days after their job finished; the job's
# TaskLog row and counts stay (tasks_logs.jobs.drop_old_files, hourly below).
STORED_FILES_DAYS = env_int("STORED_FILES_DAYS", 30, minimum=1)
# Numbers whose expiry has come are removed (an `expired` event each) every EXPIRY_SWEEP_SECONDS;
# the API stops blocking them at the expiry instant itself, so this only tidies up.
EXPIRY_SWEEP_SECONDS = env_int("EXPIRY_SWEEP_SECONDS", 300, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {"task": "blacklist.tasks.sweep_stale_jobs", "schedule": TASK_SWEEP_SECONDS},
    # The compliance report's tallies, folded from the events (audit/report.py).
    "fold-compliance-tallies": {"task": "audit.tasks.fold_compliance_tallies", "schedule": 60},
    # The Activity chart's per-day counts, summed (audit.models.DayCount).
    "compact-day-counts": {"task": "audit.tasks.compact_day_counts", "schedule": 300},
    "remove-expired-numbers": {"task": "blacklist.tasks.remove_expired", "schedule": EXPIRY_SWEEP_SECONDS},
    "drop-old-files": {"task": "blacklist.tasks.drop_old_files", "schedule": 3600},  # STORED_FILES_DAYS
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
