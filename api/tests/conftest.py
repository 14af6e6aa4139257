"""API test helpers: keys made through the service, and a client that sends them and checks
every answer against the OpenAPI document the API serves."""

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from api import services
from api.openapi import OPENAPI

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
