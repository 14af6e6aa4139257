"""API test helpers: keys made through the service, and a client that sends them and checks
every answer against the OpenAPI document the API serves; and the app served by a real gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from api import services
from api.openapi import OPENAPI
from conftest import test_database_url

SPEC = OpenAPI.from_dict(OPENAPI)  # also validates the document itself


def assert_documented(response) -> None:
    """Raise unless the OpenAPI document describes this response: status, content type, body, headers."""
    SPEC.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))


class ApiClient:
    """Django's test client speaking to /api/v1/ with `Authorization: Bearer <key>`."""

    def __init__(self, client):
        self.client = client

    def get(self, path, key=None, **params):
        return self._checked(self.client.get(path, params, headers=self._headers(key)))

    def post(self, path, body, key=None, content_type="application/json"):
        return self._checked(self.client.post(path, body, content_type=content_type, headers=self._headers(key)))

    @staticmethod
    def _headers(key):
        return {"Authorization": f"Bearer {key}"} if key else {}

    @staticmethod
    def _checked(response):
        if response.status_code == 405:  # the method is no operation of the document: check what it promises
            assert response["Allow"] and list(response.json()) == ["error"]
        else:
            assert_documented(response)
        return response


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
    env = {**os.environ, "DATABASE_URL": test_database_url(), "VAR_DIR": str(settings.VAR_DIR), "DEBUG": "0",
           "SECRET_KEY": "api-server-tests", "WEB_CONCURRENCY": "2", "BIND": "127.0.0.1", "PORT": str(port)}
    log_path = tmp_path / "api_server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, cwd=settings.BASE_DIR)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{base}/api/v1/openapi.json"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
