"""gunicorn settings for `make serve` and production (`gunicorn -c gunicorn.conf.py`)."""

import multiprocessing
import os

bind = f"{os.environ.get('BIND', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# The usual 2 × CPUs + 1 sync workers; WEB_CONCURRENCY (the Procfile convention) overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
wsgi_app = "blacklist_admin.wsgi"
timeout = 60  # a CSV upload is checked in the request; bulk work beyond 10,000 rows runs in a worker
graceful_timeout = 30
max_requests = 10_000  # recycle workers now and then
max_requests_jitter = 1_000
accesslog = None  # blacklist_admin.logs writes one JSON line per request instead
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Each worker compiles, before its first request, what proving phone number prefixes takes,
    instead of the first scrub or check paying ~0.1 s for it (blacklist.phone_cache.prepare)."""
    from blacklist import phone_cache

    phone_cache.prepare()
