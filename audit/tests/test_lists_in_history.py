"""A number on several lists (docs/lists.md): its history shows each list's entry with its own
state and deadline, each removal per list, and each event's list, on the page and in the
evidence downloads; Activity shows each event's list and filters by list."""

import csv
import html
import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, DncList, Reason, Status, internal_list_id
from blacklist.request_details import RequestDetails

pytestmark = pytest.mark.django_db
NUMBER = "+14155550100"


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.fixture
def on_three_lists(admin_user):
    """NUMBER approved on Internal, for review on Solar (archived since), removed from Acme."""
    internal = DncList.objects.get(pk=internal_list_id())
    solar, acme = DncList.objects.create(name="Solar"), DncList.objects.create(name="Acme")
    other = RequestDetails(reason=Reason.objects.get(slug="other"))
    for dnc_list in (internal, solar, acme):
        services.add_numbers([NUMBER], Status.REVIEW, admin_user, source=Source(Event.Via.HAND), dnc_list=dnc_list,
                             details=other)
    services.approve(BlacklistedNumber.objects.in_list(internal), admin_user, Source(Event.Via.ROW))
    services.remove(BlacklistedNumber.objects.in_list(acme), admin_user, Source(Event.Via.ROW))
    solar.archived_at = timezone.now()
    solar.save()
    return internal, solar, acme


def test_the_history_shows_each_lists_entry_and_removal(admin_client, on_three_lists):
    page = text(admin_client.get(reverse("audit:history"), {"phone": NUMBER}))

    now = page[page.index('id="state-heading"'):page.index('id="events-heading"')]
    assert "On <strong>Internal</strong>: <strong>Approved</strong>" in now
    assert ("On <strong>Solar</strong> <span class=\"badge text-bg-secondary\">archived list</span>:"
            " <strong>For review</strong>") in now
    assert "Not on <strong>Acme</strong> now: Removed on" in now
    assert now.count("evidence-state") == 2 and now.count("deadline-outcome") == 2
    assert "met</strong>" in now and "<strong>open</strong>" in now  # each entry judged by its own events
    rows = page[page.index("<tbody>"):].split("</tr>")[:-1]
    assert [tuple(re.findall(r"<td[^>]*>([^<]*)", row)[1:3]) for row in rows] == [
        ("Internal", "Added"), ("Solar", "Added"), ("Acme", "Added"), ("Internal", "Approved"), ("Acme", "Removed")]


def test_the_evidence_downloads_hold_every_entry_and_each_events_list(admin_client, on_three_lists):
    record = json.loads(b"".join([admin_client.get(reverse("audit:evidence", args=["json"]),
                                                   {"phone": NUMBER}).content]))

    assert record["format"] == "dnc-evidence-record/2" and record["listed"] is True
    assert [(entry["list"], entry["list_archived"], entry["status"], entry["deadline_outcome"])
            for entry in record["entries"]] == [("Internal", False, "Approved", "met"),
                                                ("Solar", True, "For review", "open")]
    assert [(removed["list"], removed["action"]) for removed in record["removed"]] == [("Acme", "Removed")]
    assert [event["list"] for event in record["events"]] == ["Internal", "Solar", "Acme", "Internal", "Acme"]
    response = admin_client.get(reverse("audit:evidence", args=["csv"]), {"phone": NUMBER})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().removeprefix("\ufeff"))))
    assert [row[1] for row in rows if row[:1] == ["list"]] == ["Internal", "Solar"]
    assert ["removed list", "Acme"] in rows
    events = rows[rows.index([]) + 1:]
    assert [row[2] for row in events[1:]] == ["Internal", "Solar", "Acme", "Internal", "Acme"]


def test_activity_shows_each_events_list_and_filters_by_one(admin_client, on_three_lists):
    internal, solar, acme = on_three_lists
    every = text(admin_client.get(reverse("audit:activity")))
    only_acme = text(admin_client.get(reverse("audit:activity"), {"dnc_list": acme.pk}))

    assert every.count('<td data-label="List">Acme</td>') == 2
    table = only_acme[only_acme.index("events-table"):]
    assert table.count("· its history") == 2 and "Internal" not in table and "Solar" not in table
    assert 'id="id_dnc_list"' in only_acme and f'<option value="{acme.pk}" selected>Acme</option>' in only_acme
    export = admin_client.get(reverse("audit:export"), {"dnc_list": solar.pk})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode().removeprefix("\ufeff"))))
    assert [(row[2], row[3]) for row in rows[1:]] == [("Solar", "Added")]
    bad = admin_client.get(reverse("audit:activity"), {"dnc_list": "987654"})
    assert "The filter is not valid, so nothing is shown" in html.unescape(bad.content.decode())
