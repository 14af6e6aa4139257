"""The request's details given where numbers are added by people: the upload form (one set for
the whole file, imported by a real worker with each number's line), hand entry and the
`import_blacklist` command, all checked by forms.RequestDetailsForm (docs/compliance.md)."""

import html
import io
from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from blacklist.deadlines import honour_by, honour_by_day
from blacklist.models import BlacklistedNumber, Channel, Reason
from tasks_logs.models import TaskLog, Upload
from tests.helpers import wait_until_finished

SCRIPT = "<script>alert('note')</script>"


def days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def local_midnight(day: str) -> datetime:
    return timezone.make_aware(datetime.combine(datetime.fromisoformat(day).date(), time()))


def in_a_week() -> str:
    return (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")


def upload(client, content: bytes, **data):
    file = SimpleUploadedFile("requests.csv", content, content_type="text/csv")
    return client.post(reverse("blacklist:upload"), {"file": file, **data}, follow=True)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.worker
def test_an_upload_s_details_reach_every_number_through_the_worker_with_its_line(admin_client, celery_worker_process):
    received = days_ago(20)
    content = b"phone\n(212) 555-0100\n12345\n(212) 555-0101\n212.555.0100\n"

    response = upload(admin_client, content, reason="consent_revoked", channel="letter", received_at=received,
                      note=SCRIPT)

    assert response.redirect_chain == [(reverse("tasks_logs:list"), 302)]
    task_log = wait_until_finished(TaskLog.objects.get())
    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    assert task_log.params["details"] == {"reason": "consent_revoked", "channel": "letter",
                                          "received_at": local_midnight(received).isoformat(), "note": SCRIPT,
                                          "expires_at": None}
    numbers = BlacklistedNumber.objects.order_by("phone")
    assert [(n.phone, n.reason.slug, n.channel, n.received_at, n.deadline, n.note, n.source_line) for n in numbers] == [
        ("+12125550100", "consent_revoked", Channel.LETTER, local_midnight(received), honour_by_day(
            datetime.fromisoformat(received).date()), SCRIPT, 2),
        ("+12125550101", "consent_revoked", Channel.LETTER, local_midnight(received), honour_by_day(
            datetime.fromisoformat(received).date()), SCRIPT, 4),
    ]
    events = Event.objects.filter(action=Event.Action.ADDED).order_by("phone")
    assert [(e.phone, e.reason, e.channel, e.note, e.line) for e in events] == [
        ("+12125550100", "Consent revoked", Channel.LETTER, SCRIPT, 2),
        ("+12125550101", "Consent revoked", Channel.LETTER, SCRIPT, 4),
    ]


@pytest.mark.worker
def test_an_upload_without_details_is_a_consumer_request_by_upload_received_when_imported(
        admin_client, celery_worker_process):
    before = timezone.now()
    upload(admin_client, b"4155550100\n")

    task_log = wait_until_finished(TaskLog.objects.get())
    number = BlacklistedNumber.objects.get()
    assert (number.reason.slug, number.channel, number.note, number.expires_at, number.source_line) == (
        Reason.DEFAULT, Channel.UPLOAD, "", None, 1)
    assert before <= number.received_at <= task_log.finished_at


def test_hand_entry_records_the_details_given(admin_client, admin_user):
    expires = in_a_week()

    response = admin_client.post(reverse("blacklist:add"), {
        "numbers": "(415) 555-0100\n415 555 0101", "reason": "Wrong Number", "channel": "sms",
        "received_at": "2026-11-02T09:30", "note": "  Said it is not theirs  ", "expires_at": expires,
    })

    assert response.status_code == 302
    received = timezone.make_aware(datetime(2026, 11, 2, 9, 30))
    assert list(BlacklistedNumber.objects.order_by("phone").values_list(
        "phone", "reason__slug", "channel", "received_at", "deadline", "note", "expires_at", "source_line")) == [
        (phone, "wrong_number", "sms", received, honour_by(received), "Said it is not theirs",
         timezone.make_aware(datetime.fromisoformat(expires)), None)
        for phone in ("+14155550100", "+14155550101")
    ]
    assert set(Event.objects.values_list("action", "reason", "channel", "note", "actor")) == {
        ("added", "Wrong number", "sms", "Said it is not theirs", admin_user.username)}


def test_hand_entry_without_details_is_a_consumer_request_by_phone_received_now(admin_client):
    before = timezone.now()
    admin_client.post(reverse("blacklist:add"), {"numbers": "4155550100"})

    number = BlacklistedNumber.objects.get()
    assert (number.reason.slug, number.channel, number.note, number.expires_at) == (Reason.DEFAULT, "phone", "", None)
    assert before <= number.received_at <= timezone.now()


def test_the_add_page_offers_the_details_with_each_form_s_defaults(admin_client):
    response = admin_client.get(reverse("blacklist:add"))

    hand, upload_form = response.context["form"], response.context["upload"]
    assert (hand["channel"].value(), upload_form["channel"].value()) == ("phone", "upload")
    assert hand["reason"].value() == upload_form["reason"].value() == "consumer_request"
    page = response.content.decode()
    assert '<option value="phone" selected>Phone call</option>' in page
    assert '<option value="upload" selected>Upload</option>' in page
    assert 'type="date" name="received_at"' in page and 'type="datetime-local" name="received_at"' in page
    assert page.count('<option value="wrong_number">Wrong number</option>') == 2


@pytest.fixture
def retained_and_expirable(db):
    """A reason a Manager made both: expiry is allowed, but not before the retention ends."""
    return Reason.objects.create(slug="retained_trial", name="Retained trial", expirable=True, retained=True)


BAD_DETAILS = [
    pytest.param({"reason": "nope"}, "Unknown reason “nope”: use one of consumer_request (Consumer request)",
                 id="unknown reason"),
    pytest.param({"channel": "pigeon"}, "Unknown channel “pigeon”: use one of phone (Phone call)", id="unknown channel"),
    pytest.param({"received_at": "2999-01-01"}, "“Received” is in the future (2999-01-01 00:00)",
                 id="received in the future"),
    pytest.param({"received_at": "last tuesday"}, "“Received” is not a date or date and time", id="unparseable"),
    pytest.param({"received_at": "1066-10-14"}, "“Received” is before 1900", id="received before 1900"),
    pytest.param({"reason": "consumer_request", "expires_at": "2999-01-01"},
                 "Numbers listed for “Consumer request” never expire; the reasons that may expire: Wrong number,"
                 " Internal policy", id="expires on a reason that never does"),
    pytest.param({"reason": "wrong_number", "expires_at": "2020-01-01"}, "“Expires” is not in the future",
                 id="expires in the past"),
    pytest.param({"reason": "retained_trial", "expires_at": "2027-01-01"},
                 "A “Retained trial” request is kept 5 years: “Expires” must be", id="expires before retention"),
    pytest.param({"reason": "wrong_number", "expires_at": "2999-01-01", "approve_permanently": "on"},
                 "A permanently approved number never expires", id="expires on a permanent number"),
    pytest.param({"note": "x" * 501}, "The note is too long: at most 500 characters (it has 501).", id="note of 501"),
]


@pytest.mark.parametrize("details, message", BAD_DETAILS)
def test_bad_details_refuse_the_whole_upload_and_nothing_is_stored_or_queued(
        admin_client, retained_and_expirable, django_capture_on_commit_callbacks, details, message):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(admin_client, b"4155550100\n4155550101\n", **details)

    assert response.redirect_chain == [(reverse("blacklist:add"), 302)]
    assert f"The file was not uploaded. {message}" in page_text(response)
    assert "Nothing was stored." in page_text(response)
    assert (TaskLog.objects.count(), Upload.objects.count(), BlacklistedNumber.objects.count(), callbacks) == (
        0, 0, 0, [])


@pytest.mark.parametrize("details, message", BAD_DETAILS)
def test_bad_details_refuse_the_hand_entry_and_nothing_is_added(admin_client, retained_and_expirable, details,
                                                                 message):
    response = admin_client.post(reverse("blacklist:add"), {"numbers": "4155550100", "note": SCRIPT, **details})

    assert response.status_code == 200
    assert message in page_text(response)
    assert (BlacklistedNumber.objects.count(), Event.objects.count()) == (0, 0)
    assert response.context["form"]["numbers"].value() == "4155550100"  # kept for the next try


def test_a_note_is_shown_escaped_when_the_form_comes_back(admin_client):
    response = admin_client.post(reverse("blacklist:add"), {"numbers": "4155550100", "note": SCRIPT,
                                                            "channel": "pigeon"})

    page = response.content.decode()
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page


def test_the_retention_allows_an_expiry_from_its_end_on(admin_client, retained_and_expirable):
    received = timezone.localtime() - timedelta(days=1)
    expires = received.replace(year=received.year + 5) + timedelta(minutes=1)

    response = admin_client.post(reverse("blacklist:add"), {
        "numbers": "4155550100", "reason": "retained_trial", "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M")})

    assert response.status_code == 302
    assert BlacklistedNumber.objects.get().expires_at == expires.replace(second=0, microsecond=0)


def test_import_blacklist_takes_the_details_as_options(tmp_path, db):
    path = tmp_path / "letters.csv"
    path.write_text("phone\n4155550100\n4155550101\n")

    call_command("import_blacklist", str(path), "--reason", "Complaint", "--channel", "letter", "--received",
                 "2026-11-02", "--note", "From the regulator", stdout=io.StringIO())

    assert list(BlacklistedNumber.objects.order_by("phone").values_list(
        "reason__slug", "channel", "received_at", "note", "source_line")) == [
        ("complaint", "letter", local_midnight("2026-11-02"), "From the regulator", line) for line in (2, 3)]


def test_import_blacklist_refuses_bad_details_and_stores_nothing(tmp_path, db):
    path = tmp_path / "letters.csv"
    path.write_text("4155550100\n")

    with pytest.raises(CommandError, match="Unknown reason “nope”.* Nothing was stored."):
        call_command("import_blacklist", str(path), "--reason", "nope", stdout=io.StringIO())

    assert (TaskLog.objects.count(), BlacklistedNumber.objects.count()) == (0, 0)


def test_the_same_request_twice_records_nothing_new_and_another_note_is_recorded_as_a_repeat(admin_client):
    request = {"numbers": "4155550100\n4155550101", "reason": "complaint", "received_at": "2026-11-02T09:30",
               "note": "Called twice"}
    admin_client.post(reverse("blacklist:add"), request)
    admin_client.post(reverse("blacklist:add"), request)
    assert list(Event.objects.values_list("action", flat=True)) == ["added", "added"]

    admin_client.post(reverse("blacklist:add"), {**request, "numbers": "4155550100", "note": "And a letter",
                                                 "channel": "letter"})

    repeat = Event.objects.get(action=Event.Action.REPEATED)
    assert (repeat.phone, repeat.reason, repeat.channel, repeat.note) == (
        "+14155550100", "Complaint", "letter", "And a letter")
    assert BlacklistedNumber.objects.get(phone="+14155550100").note == "Called twice"  # the first request's stays
