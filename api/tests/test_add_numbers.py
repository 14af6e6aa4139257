"""POST /api/v1/blacklist/numbers: the dialer's own do-not-call requests, added with the same
normalization and merge rules as uploads; for review unless the key may approve."""

import pytest

from blacklist.models import BlacklistedNumber, Status, internal_list_id

pytestmark = pytest.mark.django_db


def INTO_INTERNAL():
    return {"list": "Internal", "list_id": internal_list_id()}

ADD = "/api/v1/blacklist/numbers"
CHECK = "/api/v1/blacklist/check"


def statuses():
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def test_numbers_are_added_for_review_by_the_keys_creator(api, make_key, admin_user):
    response = api.post(ADD, ["(415) 555-0100", "+44 20 7946 0958"], make_key(can_add=True))

    assert response.status_code == 200
    assert response.json() == {**INTO_INTERNAL(), "status": "review", "received": 2, "new": 2, "raised": 0, "unchanged": 0,
                               "duplicates": 0, "invalid": 0, "rejected": []}
    assert statuses() == {"+14155550100": Status.REVIEW, "+442079460958": Status.REVIEW}
    assert set(BlacklistedNumber.objects.values_list("added_by", flat=True)) == {admin_user.pk}


def test_a_key_that_may_approve_adds_approved_numbers_and_raises_but_never_lowers(api, make_key, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    body = ["4155550100", "4155550101", "4155550102", "4155550103"]

    response = api.post(ADD, body, make_key(can_add=True, can_approve=True))

    assert response.json() == {**INTO_INTERNAL(), "status": "approved", "received": 4, "new": 1, "raised": 1, "unchanged": 2,
                               "duplicates": 0, "invalid": 0, "rejected": []}
    assert statuses() == {
        "+14155550100": Status.APPROVED,
        "+14155550101": Status.APPROVED,
        "+14155550102": Status.PERMANENT,
        "+14155550103": Status.APPROVED,
    }


def test_a_key_that_may_not_approve_leaves_listed_numbers_as_they_are(api, make_key, make_numbers):
    make_numbers(Status.APPROVED, Status.PERMANENT)
    response = api.post(ADD, ["4155550100", "4155550101"], make_key(can_add=True))
    assert response.json()["unchanged"] == 2
    assert statuses() == {"+14155550100": Status.APPROVED, "+14155550101": Status.PERMANENT}


def test_junk_is_rejected_with_reasons_and_the_good_numbers_are_added(api, make_key):
    body = ["4155550100", "12345", "415-555-0100", "(212) 555-1234", "555-CALL-NOW", -14155550123]

    data = api.post(ADD, body, make_key(can_add=True)).json()

    assert data == {
        **INTO_INTERNAL(), "status": "review", "received": 6, "new": 2, "raised": 0, "unchanged": 0, "duplicates": 1, "invalid": 3,
        "rejected": [
            {"input": "12345", "reason": "too short"},
            {"input": "555-CALL-NOW", "reason": "contains letters"},
            {"input": -14155550123, "reason": "a negative number"},
        ],
    }
    assert data["received"] == data["new"] + data["raised"] + data["unchanged"] + data["duplicates"] + data["invalid"]
    assert statuses() == {"+14155550100": Status.REVIEW, "+12125551234": Status.REVIEW}


def test_only_junk_adds_nothing_and_says_why(api, make_key):
    data = api.post(ADD, ["12345"], make_key(can_add=True)).json()
    assert (data["new"], data["invalid"], data["rejected"]) == (0, 1, [{"input": "12345", "reason": "too short"}])
    assert not BlacklistedNumber.objects.exists()


def test_a_csv_body_adds_its_first_column(api, make_key):
    response = api.post(ADD, "phone\n4155550100\n2125551234\n", make_key(can_add=True), content_type="text/csv")
    assert response.json()["new"] == 2
    assert set(statuses()) == {"+14155550100", "+12125551234"}


def test_an_added_number_is_blocked_by_the_next_check(api, make_key):
    key = make_key(can_add=True)
    api.post(ADD, ["4155550100"], key)
    assert api.get(CHECK, key, phone="+14155550100").json()["blocked"] is True


def test_ten_thousand_and_one_numbers_are_refused_and_none_added(api, make_key):
    response = api.post(ADD, [f"+1415555{n % 10_000:04d}" for n in range(10_001)], make_key(can_add=True))
    assert response.status_code == 400
    assert not BlacklistedNumber.objects.exists()


def test_bad_json_is_refused_and_nothing_added(api, make_key):
    response = api.post(ADD, b'["4155550100"', make_key(can_add=True))
    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON."}
    assert not BlacklistedNumber.objects.exists()


def test_adding_is_post_only(api, make_key):
    assert api.get(ADD, make_key(can_add=True)).status_code == 405
