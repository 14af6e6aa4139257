"""/api/v1/openapi.json describes the API as it answers: every documented answer is produced here
and checked against the document (as is every answer of the other API tests, through `api`)."""

import json

import pytest
from openapi_core import OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import DataValidationError

from api.openapi import OPENAPI
from api.urls import urlpatterns
from blacklist.models import Status

from .conftest import assert_documented

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"
SCRUB = "/api/v1/blacklist/scrub"
ADD = "/api/v1/blacklist/numbers"


def test_the_document_is_served_without_a_key_and_is_valid_openapi_3(api):
    response = api.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(OPENAPI))
    assert response.json()["openapi"].startswith("3.")
    OpenAPI.from_dict(response.json())  # raises on an invalid document


def test_every_api_endpoint_is_documented():
    routes = {f"/api/{pattern.pattern}" for pattern in urlpatterns if str(pattern.pattern).startswith("v1/")}
    assert routes == set(OPENAPI["paths"])


def test_every_documented_answer_is_given_and_matches_the_document(api, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    checker, adder = make_key(), make_key(can_check=False, can_add=True, can_approve=True)
    calls = {
        (CHECK, "get", "200"): lambda: api.get(CHECK, checker, phone="4155550100"),
        (CHECK, "get", "400"): lambda: api.get(CHECK, checker, phone="12345"),
        (CHECK, "get", "401"): lambda: api.get(CHECK, "dnc_wrong", phone="4155550100"),
        (CHECK, "get", "403"): lambda: api.get(CHECK, adder, phone="4155550100"),
        (CHECK, "get", "405"): lambda: api.post(CHECK, ["4155550100"], checker),
        (SCRUB, "post", "200"): lambda: api.post(SCRUB, ["4155550100", "12345", "2125551234", 7], checker),
        (SCRUB, "post", "400"): lambda: api.post(SCRUB, b"[", checker),
        (SCRUB, "post", "401"): lambda: api.post(SCRUB, ["4155550100"]),
        (SCRUB, "post", "403"): lambda: api.post(SCRUB, ["4155550100"], adder),
        (SCRUB, "post", "405"): lambda: api.get(SCRUB, checker),
        (SCRUB, "post", "415"): lambda: api.post(SCRUB, b"<phones/>", checker, content_type="application/xml"),
        (ADD, "post", "200"): lambda: api.post(ADD, ["4155550100", "2125551234", "2125551234", "nope"], adder),
        (ADD, "post", "400"): lambda: api.post(ADD, {"phone": "4155550100"}, adder),
        (ADD, "post", "401"): lambda: api.post(ADD, ["4155550100"], "dnc_wrong"),
        (ADD, "post", "403"): lambda: api.post(ADD, ["4155550100"], checker),
        (ADD, "post", "405"): lambda: api.get(ADD, adder),
        (ADD, "post", "415"): lambda: api.post(ADD, b"4155550100", adder, content_type="application/octet-stream"),
        ("/api/v1/openapi.json", "get", "200"): lambda: api.get("/api/v1/openapi.json"),
        ("/api/v1/openapi.json", "get", "405"): lambda: api.post("/api/v1/openapi.json", []),
    }
    documented = {
        (path, method, status)
        for path, operations in OPENAPI["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    # Losing races to other transactions again and again (503) takes real concurrent ones:
    # blacklist/tests/test_concurrent_adds.py makes it happen and checks the answer against the document.
    assert set(calls) == documented - {(ADD, "post", "503")}

    for (path, method, status), call in calls.items():
        response = call()  # `api` checks it against the document
        request = response.wsgi_request
        assert (request.path, str(response.status_code)) == (path, status)
        assert (request.method.lower() == method) == (status != "405")  # a 405 answers another method


def test_an_answer_the_document_does_not_describe_is_caught(api, make_key):
    """The check is not vacuous: a wrong field type, or an undocumented status, fails it."""
    response = api.get(CHECK, make_key(), phone="4155550100")

    response.content = b'{"phone": "+14155550100", "blocked": "no", "status": null, "since": null}'
    with pytest.raises(DataValidationError):
        assert_documented(response)

    response.status_code = 500
    with pytest.raises(ResponseNotFound):
        assert_documented(response)
