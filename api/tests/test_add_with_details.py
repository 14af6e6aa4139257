"""The request's details through the API: POST /numbers takes objects beside plain numbers, each
checked by the web forms' RequestDetailsForm (a bad one rejects its row only, with why); check
and scrub answer each listed number's reason and received date, and an expired number stops
blocking at its expiry instant (docs/compliance.md, docs/api.md)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import Event
from blacklist import services
from blacklist.deadlines import honour_by
from blacklist.models import BlacklistedNumber, Channel, Reason, Status, internal_list_id

pytestmark = pytest.mark.django_db


def INTO_INTERNAL():
    return {"list": "Internal", "list_id": internal_list_id()}

ADD, CHECK, SCRUB = "/api/v1/blacklist/numbers", "/api/v1/blacklist/check", "/api/v1/blacklist/scrub"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored() -> list[tuple]:
    return list(BlacklistedNumber.objects.order_by("phone").values_list(
        "phone", "reason__slug", "channel", "received_at", "note", "expires_at"))


def test_objects_and_plain_numbers_are_added_together_each_with_its_details(api, make_key):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    before = timezone.now()
    body = [
        "415 555 0100",
        {"phone": "(415) 555-0101", "reason": "wrong number", "channel": "SMS", "received_at": "2026-11-20T14:30:00Z",
         "note": "<b>Not theirs</b>", "expires_at": expires.isoformat()},
        {"phone": 4155550102, "reason": "consent_revoked", "received_at": "2026-11-19", "note": None},
        {"phone": "4155550103"},
    ]

    response = api.post(ADD, body, make_key(can_add=True))

    assert response.status_code == 200
    assert response.json() == {**INTO_INTERNAL(), "status": "review", "received": 4, "new": 4, "raised": 0, "unchanged": 0,
                               "duplicates": 0, "invalid": 0, "rejected": []}
    rows = stored()
    assert rows[1:3] == [
        ("+14155550101", "wrong_number", Channel.SMS, datetime(2026, 11, 20, 14, 30, tzinfo=UTC), "<b>Not theirs</b>",
         expires),
        ("+14155550102", "consent_revoked", Channel.API,
         timezone.make_aware(datetime(2026, 11, 19)), "", None),
    ]
    for plain in (rows[0], rows[3]):  # a plain number, and an object giving the phone only: the API's defaults
        assert plain[1:3] == ("consumer_request", Channel.API) and plain[4:] == ("", None)
        assert before <= plain[3] <= timezone.now()
    number = BlacklistedNumber.objects.get(phone="+14155550101")
    assert number.deadline == honour_by(number.received_at)
    assert Event.objects.get(phone="+14155550101").reason == "Wrong number"


def test_a_bad_detail_rejects_its_row_only_saying_why_and_the_rest_are_added(api, make_key):
    body = ["4155550100", {"phone": "4155550101", "reason": "nope"},
            {"phone": "12345", "channel": "pigeon"}, {"phone": "4155550102", "received_at": "2026-11-02"}]

    response = api.post(ADD, body, make_key(can_add=True))

    data = response.json()
    assert (data["new"], data["invalid"], data["received"]) == (2, 2, 4)
    assert data["rejected"][0] == {"input": {"phone": "4155550101", "reason": "nope"},
                                   "reason": data["rejected"][0]["reason"]}
    assert data["rejected"][0]["reason"].startswith(
        "Unknown reason “nope”: use one of consumer_request (Consumer request), consent_revoked (Consent revoked)")
    assert data["rejected"][1]["reason"].startswith("too short; Unknown channel “pigeon”: use one of phone (Phone call)")
    assert [row[0] for row in stored()] == ["+14155550100", "+14155550102"]


BAD_ROWS = [
    pytest.param({"reason": "nope"}, "Unknown reason “nope”", id="unknown reason"),
    pytest.param({"channel": "pigeon"}, "Unknown channel “pigeon”", id="unknown channel"),
    pytest.param({"received_at": "2999-01-01T00:00:00Z"}, "“Received” is in the future", id="received in the future"),
    pytest.param({"received_at": "9999-12-31T23:59:59-12:00"}, "“Received” is in the future (9999-12-31 23:59)",
                 id="received at the end of the calendar"),
    pytest.param({"reason": "wrong_number", "expires_at": "9999-12-31T23:59:59-12:00"}, "“Expires” is after 2999",
                 id="expires at the end of the calendar"),
    pytest.param({"received_at": "0001-01-01T00:00:00+14:00"}, "“Received” is before 1900",
                 id="received at the start of the calendar"),
    pytest.param({"received_at": "yesterday"}, "“Received” is not a date or date and time (ISO 8601", id="unparseable"),
    pytest.param({"received_at": "2026-02-30"}, "“Received” is not a date or date and time", id="no such day"),
    pytest.param({"expires_at": "2999-01-01"}, "Numbers listed for “Consumer request” never expire",
                 id="expires on a reason that never does"),
    pytest.param({"reason": "wrong_number", "expires_at": "2020-01-01T00:00:00Z"}, "“Expires” is not in the future",
                 id="expires in the past"),
    pytest.param({"reason": "retained_trial", "expires_at": "2027-01-01"},
                 "A “Retained trial” request is kept 5 years: “Expires” must be", id="expires before retention"),
    pytest.param({"note": "n" * 501}, "The note is too long: at most 500 characters (it has 501).", id="note of 501"),
    pytest.param({"note": "a\x00b"}, "Null characters are not allowed.", id="NUL in the note"),
]


@pytest.mark.parametrize("details, message", BAD_ROWS)
def test_every_bad_detail_is_rejected_with_a_clear_message_and_nothing_is_changed(api, make_key, details, message):
    Reason.objects.create(slug="retained_trial", name="Retained trial", expirable=True, retained=True)
    BlacklistedNumber.objects.create(phone="+14155550100", status=Status.REVIEW, note="first")
    listed = stored()
    key = make_key(can_add=True, can_approve=True)

    response = api.post(ADD, [{"phone": "4155550100", **details}, {"phone": "4155550101", **details}], key)

    assert response.status_code == 200
    data = response.json()
    assert (data["new"], data["raised"], data["invalid"]) == (0, 0, 2)
    assert all(message in rejected["reason"] for rejected in data["rejected"]), data["rejected"]
    assert stored() == listed  # neither raised to approved, nor given the request's details
    assert not Event.objects.exists()


@pytest.mark.parametrize("item, error", [
    ({"phone": "4155550100", "reson": "complaint"},
     "Item 1 has an unknown field “reson”: the fields are phone, reason, channel, received_at, note, expires_at."),
    ({"reason": "complaint"}, "Item 1 has no “phone”: give the number as a string (or an integer)."),
    ({"phone": None}, "Item 1 has a “phone” that is null: give the number as a string (or an integer)."),
    ({"phone": "4155550100", "note": ["a"]}, "Item 1's “note” is a list: each detail is a string (or null)."),
    ({"phone": "4155550100", "received_at": 20261120}, "Item 1's “received_at” is an integer: each detail is a string"
                                                       " (or null)."),
])
def test_an_object_of_the_wrong_shape_refuses_the_request(api, make_key, item, error):
    response = api.post(ADD, [item, "4155550101"], make_key(can_add=True))

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert not BlacklistedNumber.objects.exists()


def test_check_and_scrub_answer_the_reason_and_when_the_request_arrived(api, make_key):
    key = make_key(can_add=True)
    api.post(ADD, [{"phone": "4155550100", "reason": "litigator", "received_at": "2026-10-01T08:00:00-04:00"}], key)

    answer = api.get(CHECK, key, phone="(415) 555-0100").json()

    assert (answer["blocked"], answer["status"], answer["reason"], answer["reason_name"], answer["received_at"]) == (
        True, "review", "litigator", "Litigator / legal", "2026-10-01T12:00:00.000Z")
    Reason.objects.filter(slug="litigator").update(name="Litigator")  # renamed: the slug stays
    lines = api.post(SCRUB, ["4155550100", "4155550199", "12345"], key).json()["results"]
    assert [(line["reason"], line["reason_name"], line["received_at"]) for line in lines] == [
        ("litigator", "Litigator", "2026-10-01T12:00:00.000Z"), (None, None, None), ("too short", None, None)]


@pytest.mark.parametrize("path", [CHECK, SCRUB])
def test_an_expired_number_stops_blocking_at_its_expiry_instant(api, make_key, monkeypatch, path):
    expires = timezone.now() + timedelta(hours=1)
    number = BlacklistedNumber.objects.create(phone="+14155550100", status=Status.APPROVED,
                                              reason=Reason.objects.get(slug="wrong_number"), expires_at=expires)
    key = make_key()

    def answer_at(moment: datetime) -> dict:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        if path == CHECK:
            return api.get(CHECK, key, phone="4155550100").json()
        return api.post(SCRUB, ["4155550100"], key).json()["results"][0]

    a_second_before = answer_at(expires - timedelta(seconds=1))
    assert (a_second_before["blocked"], a_second_before["status"], a_second_before["received_at"]) == (
        True, "approved", utc_text(number.received_at))
    at_expiry = answer_at(expires)
    assert (at_expiry["blocked"], at_expiry["status"], at_expiry["reason"]) == (False, None, None)
    assert BlacklistedNumber.objects.filter(pk=number.pk).exists()  # the beat task removes it, with its event


def test_ten_thousand_objects_each_with_its_own_note_are_added_in_one_request(api, make_key):
    body = [{"phone": f"+1415555{i:04d}", "reason": "complaint", "note": f"complaint {i}"} for i in range(10_000)]

    data = api.post(ADD, body, make_key(can_add=True)).json()

    assert (data["new"], data["invalid"]) == (10_000, 0)
    assert BlacklistedNumber.objects.filter(reason__slug="complaint", note="complaint 9999",
                                            phone="+14155559999").exists()
    assert Event.objects.filter(action=Event.Action.ADDED).count() == 10_000



@pytest.mark.parametrize("path", [CHECK, SCRUB])
def test_a_permanent_number_blocks_whatever_expiry_an_old_row_still_carries(api, make_key, path):
    """Numbers lose their expiry when they become permanent; a row written otherwise (a shell,
    an old import) still blocks: the lookup reads the status beside the expiry."""
    services.add_numbers(["+14155550100"], Status.PERMANENT)
    BlacklistedNumber.objects.update(expires_at=timezone.now() - timedelta(days=1))
    key = make_key()
    answer = (api.get(CHECK, key, phone="4155550100").json() if path == CHECK
              else api.post(SCRUB, ["4155550100"], key).json()["results"][0])
    assert (answer["blocked"], answer["status"]) == (True, "permanent")
