"""What the API tests import: the check of an answer against the OpenAPI document the API serves,
and a test client that sends a key and checks every answer it gets."""

from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

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
