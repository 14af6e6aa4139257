"""GET /api/v1/blacklist/check: one number in any written form → blocked or not, with its status."""

import pytest
from django.db import connection
from django.test import override_settings

from blacklist import services as blacklist_services
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"


def since(number) -> str:
    return number.status_changed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_of(number) -> dict:
    """What check says of the request behind a listed number that blocks (make_numbers: consumer
    requests on Internal)."""
    request = {"reason": "consumer_request", "reason_name": "Consumer request",
               "received_at": number.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    entry = {"list": "Internal", "list_id": number.dnc_list_id, "status": Status(number.status).name.lower(),
             **request, "since": since(number), "prefix": None}
    return {**request, "blocked_by": [entry]}


NOT_LISTED = {"blocked": False, "status": None, "since": None, "reason": None, "reason_name": None, "received_at": None,
              "blocked_by": []}


@pytest.mark.parametrize(
    "written", ["+14155550100", "(415) 555-0100", "415.555.0100", "1-415-555-0100", "tel:+14155550100"]
)
def test_an_approved_number_is_blocked_whatever_its_written_form(api, make_key, make_numbers, written):
    (number,) = make_numbers(Status.APPROVED)

    response = api.get(CHECK, make_key(), phone=written)

    assert response.status_code == 200
    assert response.json() == {"phone": "+14155550100", "blocked": True, "status": "approved", "since": since(number),
                               **request_of(number)}


def test_a_permanently_approved_number_is_blocked(api, make_key, make_numbers):
    (number,) = make_numbers(Status.PERMANENT)
    response = api.get(CHECK, make_key(), phone="4155550100")
    assert response.json() == {"phone": "+14155550100", "blocked": True, "status": "permanent", "since": since(number),
                               **request_of(number)}


def test_a_number_for_review_is_blocked_by_default(api, make_key, make_numbers):
    (number,) = make_numbers(Status.REVIEW)
    response = api.get(CHECK, make_key(), phone="4155550100")
    assert response.json() == {"phone": "+14155550100", "blocked": True, "status": "review", "since": since(number),
                               **request_of(number)}


@override_settings(BLOCK_NUMBERS_UNDER_REVIEW=False)
def test_with_the_setting_off_a_number_for_review_is_not_blocked_but_says_its_status(api, make_key, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED)
    key = make_key()

    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is False
    assert api.get(CHECK, key, phone="4155550100").json()["status"] == "review"
    assert api.get(CHECK, key, phone="4155550101").json()["blocked"] is True


def test_a_number_not_on_the_list_is_not_blocked(api, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    response = api.get(CHECK, make_key(), phone="+44 20 7946 0958")
    assert response.json() == {"phone": "+442079460958", **NOT_LISTED}


def test_a_removed_number_stops_blocking_at_once(api, make_key, make_numbers):
    make_numbers(Status.APPROVED, reason="other")  # not kept for retention
    key = make_key()
    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True

    blacklist_services.remove(BlacklistedNumber.objects.filter(phone="+14155550100"))

    assert api.get(CHECK, key, phone="4155550100").json() == {"phone": "+14155550100", **NOT_LISTED}


@override_settings(BLOCK_NUMBERS_UNDER_REVIEW=False)
def test_an_unapproved_number_stops_blocking_at_once_when_review_does_not_block(api, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    key = make_key()

    blacklist_services.unapprove(BlacklistedNumber.objects.all())

    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is False


@pytest.mark.parametrize(
    "junk, reason",
    [
        ("12345", "too short"),
        ("555-CALL-NOW", "contains letters"),
        ("555-555-5555", "invalid for region US"),
        ("", "empty"),
        ("+", "not a phone number"),
        ("9" * 5000, "too long to be a phone number"),
        ("\x00\x01", "not a phone number"),
        ("☎️ 😀", "not a phone number"),
        ("4.15555E+09", "in scientific notation (a spreadsheet rounded it); export the column as text"),
    ],
)
def test_a_junk_number_gets_400_with_the_reason(api, make_key, junk, reason):
    response = api.get(CHECK, make_key(), phone=junk)

    assert response.status_code == 400
    assert response.json() == {"error": f"Not checked: {reason}.", "reason": reason}


def test_a_missing_phone_parameter_gets_400(api, make_key):
    response = api.get(CHECK, make_key())
    assert response.status_code == 400
    assert "?phone=" in response.json()["error"]


def test_an_unencoded_plus_still_reads_a_us_number(api, make_key, make_numbers):
    """`?phone=+14155550100` arrives as " 14155550100" (a + in a query string is a space)."""
    make_numbers(Status.APPROVED)
    response = api.client.get(f"{CHECK}?phone=+14155550100", headers={"Authorization": f"Bearer {make_key()}"})
    assert response.json()["blocked"] is True


def test_check_is_get_only(api, make_key):
    assert api.post(CHECK, {}, make_key()).status_code == 405


def test_check_costs_one_query_for_the_key_and_the_number_together(api, make_key, make_numbers,
                                                                   django_assert_num_queries):
    make_numbers(Status.APPROVED)
    key = make_key()
    api.get(CHECK, key, phone="4155550100")  # the first use also records it (and PREPAREs on PostgreSQL)
    with django_assert_num_queries(1) as queries:
        response = api.get(CHECK, key, phone="4155550100")
    one_query = "EXECUTE api_check" if connection.vendor == "postgresql" else "LEFT JOIN blacklist_blacklistednumber"
    assert one_query in queries.captured_queries[0]["sql"]
    assert response.json()["blocked"] is True


@pytest.mark.django_db(transaction=True)
def test_check_still_answers_after_the_database_connection_is_replaced(api, make_key, make_numbers):
    make_numbers(Status.APPROVED)
    key = make_key()
    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True

    connection.close()  # e.g. CONN_MAX_AGE ran out: the next request opens a new one, unprepared

    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True


@pytest.mark.django_db(transaction=True)
def test_check_answers_when_the_server_dropped_the_connection_without_a_ping_first(api, make_key, make_numbers):
    """No health-check `SELECT 1` before check's query: the query finds the connection dead, and
    check opens a new one and asks again, as the ping would have had it."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connections: SQLite's never drop")
    make_numbers(Status.APPROVED)
    key = make_key()
    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True
    pings = []
    is_usable = connection.is_usable
    connection.is_usable = lambda: pings.append(1) or is_usable()  # what CONN_HEALTH_CHECKS calls
    connection.health_check_enabled = True
    try:
        connection.health_check_done = False  # as a request starts
        assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True
        assert pings == []  # a live connection: one round trip, the query

        backend = connection.connection.get_backend_pid()
        other = connection.get_new_connection(connection.get_connection_params())
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])  # a restart, a failover, an idle timeout
        other.close()
        connection.health_check_done = False
        assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is True
        assert connection.connection.get_backend_pid() != backend
    finally:
        del connection.is_usable


def test_a_bad_key_with_a_bad_number_gets_401_not_400(api):
    assert api.get(CHECK, "dnc_wrong", phone="12345").status_code == 401
