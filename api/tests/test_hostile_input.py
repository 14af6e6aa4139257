"""What a careless or hostile client sends the API: it answers a documented JSON refusal (never a
500, never HTML, never JSON that a strict parser rejects) and stores nothing it should not."""

import json
import urllib.error
import urllib.request

import pytest

from api.openapi import OPENAPI
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"
SCRUB = "/api/v1/blacklist/scrub"
ADD = "/api/v1/blacklist/numbers"


def strict_json(response) -> dict:
    """The body, parsed as any strict JSON parser would: NaN or Infinity in it fails the test."""
    assert response["Content-Type"] == "application/json"

    def refuse(constant):
        raise AssertionError(f"{constant} in the answer is not JSON: {response.content[:200]!r}")

    return json.loads(response.content, parse_constant=refuse)


def phones() -> list[str]:
    return sorted(BlacklistedNumber.objects.values_list("phone", flat=True))


# ---- JSON bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, error",
    [
        (b'["4155550100", NaN]', "The body is not valid JSON: NaN is no JSON value."),
        (b'["4155550100", Infinity]', "The body is not valid JSON: Infinity is no JSON value."),
        (b'["4155550100", -Infinity]', "The body is not valid JSON: -Infinity is no JSON value."),
        (b'["4155550100", 1e999]',
         "Item 2 is a number with a fraction or exponent: send each number as a string (or an integer)."),
        (b'["4155550100", 4155550101.0]',
         "Item 2 is a number with a fraction or exponent: send each number as a string (or an integer)."),
    ],
)
@pytest.mark.parametrize("path", [SCRUB, ADD])
def test_nan_infinity_and_floats_are_refused_and_nothing_is_added(api, make_key, path, body, error):
    response = api.post(path, body, make_key(can_add=True))

    assert response.status_code == 400
    assert strict_json(response) == {"error": error}
    assert phones() == []


@pytest.mark.parametrize(
    "path, item, what",
    [(path, item, what) for path in [SCRUB, ADD]
     for item, what in [("null", "null"), ("true", "true or false"), ('["4155550101"]', "a list")]]
    + [(SCRUB, '{"phone": "4155550101"}', "an object")],  # adding takes objects: test_add_with_details.py
)
def test_items_neither_strings_nor_integers_refuse_the_request(api, make_key, path, item, what):
    response = api.post(path, f'["4155550100", {item}]'.encode(), make_key(can_add=True))

    assert response.status_code == 400
    assert strict_json(response) == {
        "error": f"Item 2 is {what}: send each number as a string (or an integer)."
    }
    assert phones() == []


@pytest.mark.parametrize("depth", [2, 3, 50, 500])
def test_nested_lists_are_refused_at_any_depth(api, make_key, depth):
    body = b"[" * depth + b'"4155550100"' + b"]" * depth

    response = api.post(SCRUB, body, make_key())

    assert response.status_code == 400
    assert strict_json(response) == {"error": "Item 1 is a list: send each number as a string (or an integer)."}


@pytest.mark.django_db(transaction=True)
def test_deep_nesting_never_makes_a_500_from_the_real_server(api_server, make_key):
    """~940 levels passed the parser and overflowed the answer's encoder (500) under gunicorn; the
    test client's deeper stack hides it, so this asks a real server, at every depth around it."""
    key = make_key()
    answers = {}
    for depth in range(880, 1_041, 8):
        body = b"[" * depth + b"]" * depth
        request = urllib.request.Request(f"{api_server}{SCRUB}", data=body, method="POST", headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answers[depth] = response.status, response.headers["Content-Type"]
        except urllib.error.HTTPError as refused:
            answers[depth] = refused.code, refused.headers["Content-Type"]
            assert "error" in json.loads(refused.read())

    assert set(answers.values()) == {(400, "application/json")}, answers


def test_a_negative_integer_is_no_phone_number(api, make_key):
    data = strict_json(api.post(ADD, [-14155550123, 14155550124], make_key(can_add=True)))

    assert (data["new"], data["invalid"]) == (1, 1)
    assert data["rejected"] == [{"input": -14155550123, "reason": "a negative number"}]
    assert phones() == ["+14155550124"]


def test_an_integer_too_long_for_any_phone_number_is_refused(api, make_key):
    response = api.post(SCRUB, b"[" + b"9" * 5000 + b"]", make_key())

    assert response.status_code == 400
    assert strict_json(response) == {
        "error": "The body holds an integer of 5,000 digits: no phone number is that long."
    }


# ---- text/csv bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, error",
    [
        (b'4155550100\n"4155550101\n4155550102\n', 'Line 2: a quote (") opened on this line is never closed.'),
        (b"4155550100\n41555\x0050101\n", "Line 2 holds binary data (character 0x00): this is not a text file."),
        (b'["4155550100", "4155550101"]', "Line 1 starts with “[”: this is JSON, not one phone number a line."),
        (b'\n  {"phones": ["4155550100"]}', "Line 2 starts with “{”: this is JSON, not one phone number a line."),
        (b"phone\n", "No phone numbers in it: only blank lines or a header."),
        (b"4155550100,2125550100\n", "Line 1 has 2 values (4155550100, 2125550100): the file must have one column"
                                     " of phone numbers."),
    ],
)
@pytest.mark.parametrize("path", [SCRUB, ADD])
def test_a_malformed_csv_body_is_refused_naming_the_line_and_nothing_is_added(api, make_key, path, body, error):
    response = api.post(path, body, make_key(can_add=True), content_type="text/csv")

    assert response.status_code == 400
    assert strict_json(response) == {"error": f"CSV body refused. {error}"}
    assert phones() == []


# ---- the query string --------------------------------------------------------------------------


def test_a_query_of_over_a_thousand_parameters_gets_a_json_400_after_the_key_check(api, make_key):
    query = f"{CHECK}?phone=4155550100" + "&" * 1_000

    anonymous = api.client.get(query)
    with_key = api.client.get(query, headers={"Authorization": f"Bearer {make_key()}"})

    assert anonymous.status_code == 401
    assert strict_json(anonymous) == {"error": "Send an API key as the header `Authorization: Bearer <key>`."}
    assert with_key.status_code == 400
    assert strict_json(with_key) == {"error": "The query has too many parameters: send ?phone=… alone."}


def test_an_empty_phone_is_refused_as_the_document_says(api, make_key):
    (phone,) = [parameter for parameter in OPENAPI["paths"][CHECK]["get"]["parameters"] if parameter["name"] == "phone"]
    assert phone["schema"]["minLength"] == 1  # an empty phone is invalid by the document…

    response = api.get(CHECK, make_key(), phone="")  # …and the 400 is a documented answer (`api` checks)

    assert response.status_code == 400
    assert strict_json(response) == {"error": "Not checked: empty.", "reason": "empty"}


# ---- paths and methods -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/blacklist/check/", "/api/v1/blacklist", "/api/v1/nope?x=1"])
def test_an_unknown_api_path_gets_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert strict_json(response)["error"].startswith("No such API call: ")


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("delete", CHECK, "GET, HEAD, OPTIONS"),
        ("put", SCRUB, "POST, OPTIONS"),
        ("get", ADD, "POST, OPTIONS"),
        ("patch", "/api/v1/openapi.json", "GET, HEAD, OPTIONS"),
    ],
)
def test_another_method_gets_a_json_405_with_an_allow_header(client, make_key, method, path, allow):
    response = getattr(client, method)(path, headers={"Authorization": f"Bearer {make_key()}"})

    assert response.status_code == 405
    assert response["Allow"] == allow
    assert strict_json(response) == {"error": f"{method.upper()} is not allowed here; use {allow.split(',')[0]}."}
    for operation in OPENAPI["paths"][path].values():
        assert operation["responses"]["405"] == {"$ref": "#/components/responses/MethodNotAllowed"}


def test_options_lists_the_methods_without_a_key(client):
    response = client.options(SCRUB)

    assert (response.status_code, response["Allow"], response.content) == (204, "POST, OPTIONS", b"")


def test_head_on_check_answers_as_get_without_a_body(client, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    headers = {"Authorization": f"Bearer {make_key()}"}

    head = client.head(CHECK, {"phone": "4155550100"}, headers=headers)
    get = client.get(CHECK, {"phone": "4155550100"}, headers=headers)

    assert (head.status_code, head["Content-Type"], head.content) == (200, "application/json", b"")
    assert get.json()["blocked"] is True
    assert client.head(CHECK, {"phone": "4155550100"}).status_code == 401


# ---- reasons -----------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", ["555-CALL-NOW", "+", "12345", "", "☎", "4.15555E+09", "555-555-5555"])
def test_each_reason_reads_once(api, make_key, junk):
    check = strict_json(api.get(CHECK, make_key(), phone=junk))
    (line,) = strict_json(api.post(SCRUB, [junk or " "], make_key()))["results"]

    for text in (check["error"], check["reason"], line["reason"]):
        assert text.lower().count("phone number") <= 1, text
        assert text.lower().count("not a") <= 1, text
    assert check["error"] == f"Not checked: {check['reason']}."
