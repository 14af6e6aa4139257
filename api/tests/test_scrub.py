"""POST /api/v1/blacklist/scrub: a JSON list or a CSV column of up to 10,000 numbers, checked in
one query; one result per input, junk included, in input order."""

import pytest
from django.db import connection
from django.test import override_settings

from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db

SCRUB = "/api/v1/blacklist/scrub"


def line(raw, phone=None, status=None, blocked=None, reason=None):
    """The expected result for one input (since and received_at are checked separately); the
    numbers made by make_numbers are consumer requests."""
    if reason:
        return {"input": raw, "valid": False, "reason": reason, "phone": None, "blocked": False, "status": None,
                "reason_name": None, "blocked_by": []}
    listed = {"reason": "consumer_request", "reason_name": "Consumer request"} if status else {
        "reason": None, "reason_name": None}
    blocked = status is not None if blocked is None else blocked
    by = [{"list": "Internal", "status": status, **listed, "prefix": None}] if blocked else []
    return {"input": raw, "valid": True, "phone": phone, **listed, "blocked": blocked, "status": status,
            "blocked_by": by}


def without_since(results):
    """The results without their dates (and the ids of the lists blocking them)."""
    dates = ("since", "received_at", "list_id")
    return [{k: [{k: v for k, v in by.items() if k not in dates} for by in v] if k == "blocked_by" else v
             for k, v in result.items() if k not in dates} for result in results]


def test_junk_mixed_with_good_numbers_gets_one_result_per_input(api, make_key, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    body = ["+14155550100", "(415) 555-0101", "12345", "415.555.0102", 2125551234, -14155550101, "555-CALL-NOW",
            "+14155550100", "+1 415 555 0101 ext 7"]

    response = api.post(SCRUB, body, make_key())

    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["blocked"], data["invalid"]) == (9, 5, 3)
    assert without_since(data["results"]) == [
        line("+14155550100", "+14155550100", "review"),
        line("(415) 555-0101", "+14155550101", "approved"),
        line("12345", reason="too short"),
        line("415.555.0102", "+14155550102", "permanent"),
        line(2125551234, "+12125551234"),
        line(-14155550101, reason="a negative number"),
        line("555-CALL-NOW", reason="contains letters"),
        line("+14155550100", "+14155550100", "review"),
        line("+1 415 555 0101 ext 7", "+14155550101", "approved"),
    ]
    listed = BlacklistedNumber.objects.get(phone="+14155550101")
    assert data["results"][1]["since"] == listed.status_changed_at.isoformat(timespec="milliseconds")[:-6] + "Z"
    assert data["results"][4]["since"] is None


@override_settings(BLOCK_NUMBERS_UNDER_REVIEW=False)
def test_with_the_setting_off_numbers_for_review_are_reported_but_not_blocked(api, make_key, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED)
    data = api.post(SCRUB, ["4155550100", "4155550101"], make_key()).json()
    assert without_since(data["results"]) == [
        line("4155550100", "+14155550100", "review", blocked=False),
        line("4155550101", "+14155550101", "approved"),
    ]
    assert data["blocked"] == 1


def test_a_csv_body_is_read_as_an_uploaded_file_skipping_a_header(api, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    body = '\ufeffPhone Number\r\n"(415) 555-0100"\r\n\r\n212 555 1234;\r\nnope\r\n'

    response = api.post(SCRUB, body.encode(), make_key(), content_type="text/csv; charset=utf-8")

    assert response.status_code == 200
    assert without_since(response.json()["results"]) == [
        line("(415) 555-0100", "+14155550100", "approved"),
        line("212 555 1234", "+12125551234"),
        line("nope", reason="contains letters"),
    ]


def test_a_csv_body_without_a_header_keeps_its_first_row(api, make_key):
    response = api.post(SCRUB, "4155550100\n2125551234\n", make_key(), content_type="text/csv")
    assert [result["phone"] for result in response.json()["results"]] == ["+14155550100", "+12125551234"]


def test_a_first_row_without_digits_or_a_header_word_is_a_number_as_in_uploads(api, make_key):
    response = api.post(SCRUB, "nope\n4155550100\n", make_key(), content_type="text/csv")

    assert response.status_code == 200
    assert without_since(response.json()["results"]) == [line("nope", reason="contains letters"), line("4155550100", "+14155550100")]


@pytest.mark.parametrize("body, error", [
    ("Phone Number,name\r\n4155550100,Ann\r\n", "Line 1 has 2 values (Phone Number, name)"),
    ("phone\n4155550100\n4155550101,2125550100\n", "Line 3 has 2 values (4155550101, 2125550100)"),
    ("4155550100,\n,2125550100\n", "Line 2 has its number in column 2, the lines before in column 1"),
])
def test_a_csv_body_with_a_second_column_is_refused_whole_as_an_upload_is(api, make_key, body, error):
    response = api.post(SCRUB, body, make_key(), content_type="text/csv")

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"CSV body refused. {error}")
    assert "the file must have one column of phone numbers." in response.json()["error"]


def test_control_characters_in_a_csv_body_refuse_it_naming_the_line(api, make_key):
    response = api.post(SCRUB, b"4155550100\n41555\x0150101\n", make_key(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json() == {"error": "CSV body refused. Line 2 holds binary data (character 0x01):"
                                        " this is not a text file."}


def test_an_empty_list_gets_an_empty_answer(api, make_key):
    assert api.post(SCRUB, [], make_key()).json() == {"count": 0, "blocked": 0, "invalid": 0, "results": []}


def test_ten_thousand_numbers_are_checked_in_one_query(api, make_key, make_numbers, django_assert_num_queries):
    make_numbers(Status.APPROVED, Status.APPROVED)
    key = make_key()
    api.post(SCRUB, [], key)  # records the key's first use
    numbers = [f"+1415555{n:04d}" for n in range(10_000)]

    with django_assert_num_queries(2) as queries:  # the key, then every number at once
        response = api.client.post(SCRUB, numbers, content_type="application/json",
                                   headers={"Authorization": f"Bearer {key}"})

    one_query = "unnest(" if connection.vendor == "postgresql" else "n.phone IN"  # every number and prefix
    assert one_query in queries.captured_queries[1]["sql"]
    data = response.json()
    assert (data["count"], data["blocked"], data["invalid"]) == (10_000, 2, 0)
    assert [result["phone"] for result in data["results"] if result["blocked"]] == ["+14155550100", "+14155550101"]


def test_ten_thousand_and_one_numbers_are_refused(api, make_key):
    response = api.post(SCRUB, ["4155550100"] * 10_001, make_key())
    assert response.status_code == 400
    assert response.json() == {"error": "10,001 numbers sent; at most 10,000 a request."}


def test_ten_thousand_and_one_csv_rows_are_refused(api, make_key):
    response = api.post(SCRUB, "4155550100\n" * 10_001, make_key(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json() == {"error": "10,001 numbers sent; at most 10,000 a request."}


@pytest.mark.parametrize(
    "body, error",
    [
        (b'["4155550100", ', "The body is not valid JSON."),
        (b"\xff\xfe[]", "The body is not valid JSON."),
        (b"[" * 100_000 + b"]" * 100_000, "The body is not valid JSON."),
        (b'{"phones": ["4155550100"]}', 'Send a JSON list of phone numbers, e.g. ["+14155550123", "(212) 555-1234"].'),
        (b'"4155550100"', 'Send a JSON list of phone numbers, e.g. ["+14155550123", "(212) 555-1234"].'),
    ],
)
def test_a_bad_json_body_gets_400(api, make_key, body, error):
    response = api.post(SCRUB, body, make_key())
    assert response.status_code == 400
    assert response.json() == {"error": error}


@pytest.mark.parametrize(
    "body, error",
    [
        (b"\xff\xfe4\x001\x005\x00", "The CSV body is not UTF-8 text."),
        (b"9" * 140_000, 'CSV body refused. Line 1: a value runs on for over 100 KB; is a quote (") never closed?'),
        (b"phone\n\n", "CSV body refused. No phone numbers in it: only blank lines or a header."),
    ],
)
def test_a_bad_csv_body_gets_400(api, make_key, body, error):
    response = api.post(SCRUB, body, make_key(), content_type="text/csv")
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_a_body_over_the_size_limit_gets_400(api, make_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.client.post(  # not through `api`: the OpenAPI check would read the refused body again
        SCRUB, ["4155550100"] * 100, content_type="application/json", headers={"Authorization": f"Bearer {make_key()}"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "The body is too large: send at most 10,000 numbers a request."}


def test_a_form_body_gets_415(api, make_key):
    response = api.post(SCRUB, "phone=4155550100", make_key(), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_scrub_is_post_only(api, make_key):
    assert api.get(SCRUB, make_key()).status_code == 405
