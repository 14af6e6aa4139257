"""A number's evidence record in the browser: a hostile note stays text, printing shows the
record without navigation or controls, and the downloaded JSON has the SHA-256 the page shows."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Channel, Reason, Status, default_reason_id
from blacklist.request_details import RequestDetails

pytestmark = pytest.mark.browser
NOTE = "<script>alert('evidence')</script> asked by letter"


@pytest.fixture(autouse=True)
def _built_in_reasons(db):
    """The seven built-in reasons, made again if a transactional test's flush emptied the table."""
    default_reason_id()


def test_the_evidence_record_prints_clean_and_its_json_download_matches_the_page_hash(logged_in_page, live_server):
    admin = get_user_model().objects.get(username="admin")
    details = RequestDetails(Reason.objects.get(slug="consent_revoked"), Channel.LETTER,
                             timezone.now() - timedelta(days=30), NOTE)
    services.add_numbers(["+14155550100"], Status.REVIEW, admin, source=Source(Event.Via.HAND), details=details)
    services.approve(BlacklistedNumber.objects.all(), admin, Source(Event.Via.ROW))
    page = logged_in_page
    page.on("dialog", lambda dialog: pytest.fail(f"a note ran as script: {dialog.message}"))

    page.goto(f"{live_server.url}/activity/history/?phone=%2B14155550100")
    expect(page.get_by_role("heading", name="History of (415) 555-0100")).to_be_visible()
    expect(page.locator(".deadline-outcome")).to_contain_text("met late by")
    expect(page.locator(".evidence-events tbody tr").first).to_contain_text("Added")
    expect(page.locator(".evidence-events tbody tr").last).to_contain_text("Approved")
    expect(page.locator(".evidence-events")).to_contain_text(NOTE)
    expect(page.locator(".evidence-state")).to_contain_text("Consent revoked")

    page.emulate_media(media="print")
    for hidden in ["nav.navbar", "form[role=search]", "#download-json", "#download-csv", "#print-record"]:
        expect(page.locator(hidden)).to_be_hidden()
    for shown in [".evidence-state", ".evidence-events", "#json-sha256", "#csv-sha256"]:
        expect(page.locator(shown)).to_be_visible()

    page.emulate_media(media="screen")
    expect(page.locator("nav.navbar")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#download-json").click()
    assert download.value.suggested_filename == "evidence-14155550100.json"
    content = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(content).hexdigest() == page.locator("#json-sha256").inner_text()
    assert NOTE.encode() in content
