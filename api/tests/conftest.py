"""API test fixtures: keys made through the service, the client that sends them and checks every
answer against the OpenAPI document (api/tests/helpers.py), and the app served by a real gunicorn."""

import socket
import sys
import urllib.request

import pytest
from django.conf import settings

from api import services
from api.tests.helpers import ApiClient
from tests.helpers import start_process, stop_processes, test_database_url, wait_until


@pytest.fixture
def api(client):
    return ApiClient(client)


@pytest.fixture
def make_key(db, admin_user):
    """make_key(can_add=True, …) → the secret of a new key; by default it may check and scrub only."""

    def make(name="dialer", **options):
        options = {"can_check": True, "can_add": False, "can_approve": False, "expires_at": None, **options}
        _, secret = services.create_key(name, user=admin_user, **options)
        return secret

    return make


@pytest.fixture
def api_server(transactional_db, tmp_path):
    """The app as dialers meet it: gunicorn with gunicorn.conf.py and DEBUG off, on a free port and
    the test database. Yields its base URL; its output is in `api_server.log` of tmp_path."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"DATABASE_URL": test_database_url(), "VAR_DIR": str(settings.VAR_DIR), "DEBUG": "0",
           "SECRET_KEY": "api-server-tests", "WEB_CONCURRENCY": "2", "BIND": "127.0.0.1", "PORT": str(port)}
    server = start_process([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], tmp_path / "api_server.log",
                           env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/api/v1/openapi.json"), 30, "gunicorn to answer", server)
        yield base
    finally:
        stop_processes(server)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
