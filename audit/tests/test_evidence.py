"""A number's evidence record (audit/evidence.py): its state and deadline outcome, every event
with where it came from, the JSON and CSV downloads whose SHA-256 the page shows, a removed
number's record, escaping, and who may see it. Numbers are made as users make them."""

import csv
import hashlib
import html
import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from api.services import create_key
from audit.events import Source
from audit.models import Event
from blacklist import deadlines, services
from blacklist.models import BlacklistedNumber, Channel, Reason, Status, default_reason_id
from blacklist.request_details import Entry, RequestDetails
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

pytestmark = pytest.mark.django_db
User = get_user_model()
NUMBER = "+14155550100"
NOTE = '<script>alert("x")</script> called twice & asked by letter'


@pytest.fixture(autouse=True)
def _built_in_reasons(db):
    """The seven built-in reasons, made again if a transactional test's flush emptied the table."""
    default_reason_id()


def page_of(client, phone=NUMBER) -> str:
    response = client.get(reverse("audit:history"), {"phone": phone})
    assert response.status_code == 200
    return response.content.decode()


def download(client, kind, phone=NUMBER) -> bytes:
    response = client.get(reverse("audit:evidence", args=[kind]), {"phone": phone})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{phone[1:]}.{kind}"'
    return b"".join(response.streaming_content) if response.streaming else response.content


def shown_hash(page: str, kind: str) -> str:
    return re.search(rf'id="{kind}-sha256">([0-9a-f]{{64}})<', page).group(1)


def by_api(client, user, phones, can_approve):
    _, secret = create_key("dialer", can_check=True, can_add=True, can_approve=can_approve, expires_at=None,
                           user=user)
    response = client.post("/api/v1/blacklist/numbers", phones, content_type="application/json",
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.content


def pk_of(phone=NUMBER) -> int:
    return BlacklistedNumber.objects.get(phone=phone).pk


@pytest.fixture
def disputed(admin_client, admin_user):
    """NUMBER through every path: typed by hand, asked again (a letter, 20 days earlier, a note),
    approved late by a row action, unapproved in bulk, raised again by an API key, unapproved in
    the admin. Returns its deadline."""
    assert admin_client.post(reverse("blacklist:add"), {"numbers": "(415) 555-0100"}).status_code == 302
    received = timezone.now() - timedelta(days=20)
    complaint = Reason.objects.get(slug="complaint")
    services.add_numbers([Entry(NUMBER)], Status.REVIEW, admin_user, source=Source(Event.Via.HAND),
                         details=RequestDetails(complaint, Channel.LETTER, received, NOTE))
    row = reverse("blacklist:row_action", args=["review", "approve"])
    assert admin_client.post(row, {"pk": pk_of(), "query": ""}).status_code == 302
    bulk = {"action": "unapprove", "scope": "selected", "ids": [pk_of()], "query": ""}
    assert admin_client.post(reverse("blacklist:bulk_action", args=["approved"]), bulk).status_code == 302
    by_api(admin_client, admin_user, [NUMBER], can_approve=True)
    admin = {"action": "unapprove", "_selected_action": [pk_of()]}
    assert admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), admin).status_code == 302
    return deadlines.honour_by(received)


def test_the_evidence_record_shows_the_state_and_every_event_with_where_it_came_from(admin_client, disputed):
    page = page_of(admin_client)
    text = html.unescape(page)

    assert "History of (415) 555-0100" in text
    assert "On <strong>Internal</strong>: <strong>For review</strong>" in text
    state = text[text.index("evidence-state"):text.index("events-heading")]
    assert "Complaint" not in state and "Consumer request" in state  # a repeat records, never overwrites, the reason
    late = deadlines.business_days_between(disputed, timezone.localdate())
    assert f"{disputed.isoformat()}:" in state and f"met late by {late} business day" in state
    rows = text[text.index("<tbody>"):].split("<tr>")[1:]
    assert [re.findall(r"<td[^>]*>([^<]*)", row)[2] for row in rows] == [
        "Added", "Requested again", "Approved", "Unapproved", "Status raised by adding again", "Unapproved"]
    assert "Added by hand" in rows[0] and "Consumer request" in rows[0]
    assert "Complaint · Letter" in rows[1] and NOTE in rows[1] and "admin" in rows[1]
    assert "Row action" in rows[2] and "For review → Approved" in rows[2]
    assert "Bulk action" in rows[3]
    assert "API" in rows[4] and "API key “dialer”" in rows[4] and "key #" in rows[4]
    assert "Django admin" in rows[5]


def test_notes_are_escaped_on_the_page(admin_client, disputed):
    page = page_of(admin_client)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; called twice &amp; asked by letter" in page


def test_the_json_download_is_canonical_and_its_sha256_is_the_one_on_the_page(admin_client, disputed):
    page = page_of(admin_client)
    content = download(admin_client, "json")

    assert hashlib.sha256(content).hexdigest() == shown_hash(page, "json")
    record = json.loads(content)
    assert content == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert record["number"] == NUMBER and record["listed"] is True and record["removed"] == []
    assert record["entries"][0]["deadline"] == disputed.isoformat()
    assert record["entries"][0]["deadline_outcome"] == "met late"
    assert record["entries"][0]["days_late"] == deadlines.business_days_between(disputed, timezone.localdate())
    assert [event["via"] for event in record["events"]] == [
        "Added by hand", "Added by hand", "Row action", "Bulk action", "API", "Django admin"]
    assert record["events"][1]["note"] == NOTE and record["events"][1]["channel"] == "Letter"
    assert record["events"][4]["api_key"] is not None
    assert record["entries"][0]["added_by"] == "admin"
    by_api(admin_client, User.objects.get(username="admin"), ["+14155550155"], can_approve=False)
    added_by_key = json.loads(download(admin_client, "json", "+14155550155"))["entries"][0]["added_by"]
    assert added_by_key.startswith("API key “dialer” (#")
    instants = [record["entries"][0]["received_at"], *(event["at"] for event in record["events"])]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", instant) for instant in instants)
    assert download(admin_client, "json") == content  # the same bytes each time


def test_the_csv_download_matches_its_sha256_and_is_safe_in_a_spreadsheet(admin_client, admin_user, disputed):
    services.approve(BlacklistedNumber.objects.filter(phone=NUMBER), admin_user, Source(Event.Via.ROW))
    services.add_numbers(["+14155550199"], Status.REVIEW, admin_user, source=Source(Event.Via.HAND),
                         details=RequestDetails(note="=HYPERLINK(\"http://evil\")"))
    page = page_of(admin_client)
    content = download(admin_client, "csv")

    assert hashlib.sha256(content).hexdigest() == shown_hash(page, "csv")
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode()[1:])))
    assert rows[0] == ["evidence record", NUMBER]
    facts = dict(row for row in rows if len(row) == 2)
    assert facts["status"] == "Approved" and facts["deadline_outcome"] == "met late"
    events = rows[rows.index([]) + 1:]
    assert events[0][:4] == ["id", "at", "list", "action"] and len(events) == 1 + 7
    assert NOTE in events[2]

    other = download(admin_client, "csv", "+14155550199").decode()
    assert "\"'=HYPERLINK(\"\"http://evil\"\")\"" in other  # a formula start gets an apostrophe


def test_a_removed_numbers_record_is_its_events_and_who_removed_it(admin_client, disputed):
    data = {"action": "remove", "scope": "selected", "ids": [pk_of()], "query": "", "confirmed": "on",
            "justification": "Added by mistake: the consumer's own line is +14155550101"}  # kept for retention
    assert admin_client.post(reverse("blacklist:bulk_action", args=["review"]), data).status_code == 302
    assert not BlacklistedNumber.objects.filter(phone=NUMBER).exists()

    page = page_of(admin_client)
    text = html.unescape(re.sub(r"</?time>", "", page))
    removed_at = Event.objects.get(phone=NUMBER, action=Event.Action.REMOVED).at
    assert f"Not on <strong>Internal</strong> now: Removed on {removed_at:%Y-%m-%dT%H:%M:%SZ} by admin. Justification:" in text
    assert "evidence-state" not in text and text.count("<tr>") == 1 + 7
    record = json.loads(download(admin_client, "json"))
    assert record["listed"] is False and record["entries"] == []
    assert record["removed"] == [{"list": "Internal", "action": "Removed", "at": f"{removed_at:%Y-%m-%dT%H:%M:%SZ}",
                                  "by": "admin", "note": "Added by mistake: the consumer's own line is +14155550101"}]
    assert hashlib.sha256(download(admin_client, "json")).hexdigest() == shown_hash(page, "json")


def test_a_number_never_listed_has_an_empty_record(admin_client):
    text = html.unescape(page_of(admin_client, "+14155550177"))
    assert "Not on the blacklist, and never was." in text
    record = json.loads(download(admin_client, "json", "+14155550177"))
    assert record["events"] == [] and record["entries"] == [] and record["listed"] is False


@pytest.mark.parametrize("days_ago, approve, outcome", [
    (0, False, "open"),
    (30, False, "overdue"),
    (0, True, "met"),
    (30, True, "met late"),
])
def test_the_deadline_outcome(admin_client, admin_user, days_ago, approve, outcome):
    received = timezone.now() - timedelta(days=days_ago)
    services.add_numbers([NUMBER], Status.REVIEW, admin_user, source=Source(Event.Via.HAND),
                         details=RequestDetails(received_at=received))
    if approve:
        services.approve(BlacklistedNumber.objects.all(), admin_user, Source(Event.Via.ROW))
    current = json.loads(download(admin_client, "json"))["entries"][0]

    assert current["deadline_outcome"] == outcome
    deadline = deadlines.honour_by(received)
    late = deadlines.business_days_between(deadline, timezone.localdate()) if days_ago else None
    assert current["days_late"] == late
    shown = html.unescape(page_of(admin_client))
    assert {"open": "<strong>open</strong>", "overdue": f"overdue by {late} business days", "met": ">met</strong>",
            "met late": f"met late by {late} business days"}[outcome] in shown


def test_a_number_from_an_upload_shows_the_file_and_its_line(admin_client, admin_user):
    task = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="dnc-<b>march</b>.csv", created_by=admin_user)
    services.add_numbers([Entry(NUMBER, line=7)], Status.REVIEW, admin_user, source_task=task,
                         details=RequestDetails(channel=Channel.UPLOAD))
    page = page_of(admin_client)
    detail = reverse("tasks_logs:detail", args=[task.pk])

    assert f'<a href="{detail}">dnc-&lt;b&gt;march&lt;/b&gt;.csv</a>, line 7' in page  # state and event
    assert page.count(f'<a href="{detail}">') == 2
    current = json.loads(download(admin_client, "json"))["entries"][0]
    assert (current["file_name"], current["line"], current["task"]) == ("dnc-<b>march</b>.csv", 7, task.pk)


def test_an_upload_through_the_worker_names_its_file_on_the_record(admin_client, celery_worker_process):
    file = SimpleUploadedFile("leads.csv", b"phone\n(415) 555-0100\n")
    assert admin_client.post(reverse("blacklist:upload"), {"file": file}).status_code == 302
    task = wait_until_finished(TaskLog.objects.get(file_name="leads.csv"))

    record = json.loads(download(admin_client, "json"))
    assert record["entries"][0]["file_name"] == "leads.csv" and record["entries"][0]["task"] == task.pk
    assert [(event["via"], event["file_name"], event["task"]) for event in record["events"]] == [
        ("Upload", "leads.csv", task.pk)]
    assert f'href="{reverse("tasks_logs:detail", args=[task.pk])}">leads.csv</a>' in page_of(admin_client)


@pytest.mark.parametrize("role, allowed", [(None, False), ("Viewer", True), ("Reviewer", True), ("Manager", True)])
def test_who_may_see_an_evidence_record(client, make_user, django_user_model, make_numbers, role, allowed):
    make_numbers(Status.REVIEW)
    client.force_login(make_user(role) if role else django_user_model.objects.create_user("nobody"))
    urls = [reverse("audit:history"), reverse("audit:evidence", args=["json"]),
            reverse("audit:evidence", args=["csv"])]
    for url in urls:
        assert client.get(url, {"phone": NUMBER}).status_code == (200 if allowed else 403)


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("audit:evidence", args=["json"]), {"phone": NUMBER})
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_bad_downloads_are_refused(admin_client):
    assert admin_client.get(reverse("audit:evidence", args=["xml"]), {"phone": NUMBER}).status_code == 404
    response = admin_client.get(reverse("audit:evidence", args=["json"]), {"phone": "CALL ME"}, follow=True)
    assert "is not a phone number" in html.unescape(response.content.decode())
    response = admin_client.post(reverse("audit:evidence", args=["json"]), {"phone": NUMBER})
    assert response.status_code == 405


def test_the_print_stylesheet_is_linked_for_print_only(admin_client):
    page = page_of(admin_client)
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in page

