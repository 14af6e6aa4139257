"""Issue 14's journey, end to end in a real browser with a real worker: an upload with a reason
and an old received date → the review tab shows it overdue → approve → the compliance report
counts it as late → its evidence record shows all of it."""

import datetime
import hashlib
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from blacklist.deadlines import business_days_between, honour_by_day

pytestmark = pytest.mark.browser


@pytest.mark.worker
def test_an_old_request_uploaded_shows_overdue_is_approved_late_and_its_record_says_so(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    received = timezone.localdate() - datetime.timedelta(days=30)
    deadline = honour_by_day(received)
    overdue_by = business_days_between(deadline, timezone.localdate())
    path = tmp_path / "revocations.csv"
    path.write_text("phone\n(415) 555-0170\n")

    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    form.get_by_label("Choose File").set_input_files(path)
    form.get_by_label("Reason").select_option(label="Consent revoked")
    form.get_by_label("Request received (date)").fill(received.isoformat())
    form.get_by_label("Note").fill("Revoked on a recorded call")
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()
    expect(page.locator("tbody tr", has_text="revocations.csv")).to_contain_text("Succeeded", timeout=30_000)

    page.goto(f"{live_server.url}/blacklist/review/")
    expect(page.get_by_role("link", name=re.compile("Blacklisted Leads for Review"))).to_contain_text("1 overdue")
    page.get_by_label("Deadline").select_option(label="Overdue")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr", has_text="(415) 555-0170")
    expect(row).to_contain_text("Consent revoked")
    expect(row).to_contain_text(f"Overdue by {overdue_by} business day")
    with page.expect_navigation():
        row.get_by_role("button", name="Approve (415) 555-0170").click()
    expect(page.locator("tbody tr", has_text="(415) 555-0170")).to_have_count(0)

    page.get_by_role("link", name="Compliance").click()
    page.get_by_role("link", name="Per month").click()
    totals = page.locator("#compliance-report tfoot tr td")  # received, in time, late, days late, …
    expect(totals.nth(0)).to_have_text("1")
    expect(totals.nth(1)).to_have_text("0")
    expect(totals.nth(2)).to_have_text("1")

    page.goto(f"{live_server.url}/activity/history/?phone=%2B14155550170")
    state = page.locator(".evidence-state")
    expect(state).to_contain_text("Consent revoked")
    expect(state).to_contain_text("Upload")
    expect(state).to_contain_text("revocations.csv, line 2")
    expect(page.locator(".deadline-outcome")).to_contain_text(f"met late by {overdue_by} business day")
    events = page.locator(".evidence-events tbody tr")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_contain_text("Revoked on a recorded call")
    expect(events.nth(1)).to_contain_text("Approved")
    with page.expect_download() as download:
        page.locator("#download-json").click()
    content = download.value.path().read_bytes()
    expect(page.locator("#json-sha256")).to_have_text(hashlib.sha256(content).hexdigest())
