"""The compliance report in a real browser: a request received weeks ago is approved on the
review tab, and a Reviewer finds it counted as late, per week and per month, and in the CSV."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import Status
from blacklist.request_details import RequestDetails
from roles.groups import assign
from tests.helpers import log_in

pytestmark = pytest.mark.browser


def test_a_late_approval_is_counted_late_on_the_report_and_in_its_csv(page, live_server, django_user_model,
                                                                       transactional_db, tmp_path):
    received = timezone.now() - timedelta(days=40)
    services.add_numbers(["+14155550100"], Status.REVIEW, source=Source(Event.Via.HAND),
                         details=RequestDetails(received_at=received))
    services.add_numbers(["+14155550101"], Status.REVIEW, source=Source(Event.Via.HAND),
                         details=RequestDetails(received_at=timezone.now()))
    user = django_user_model.objects.create_user("rita", password="journey-pass-123")
    assign(user, "Reviewer")
    log_in(page, live_server.url, "rita", "journey-pass-123")

    page.goto(f"{live_server.url}/blacklist/review/")
    with page.expect_navigation():
        page.locator("tr", has_text="(415) 555-0100").get_by_role("button", name="Approve (415) 555-0100").click()

    page.get_by_role("link", name="Compliance").click()
    totals = page.locator("#compliance-report tfoot tr")
    # received, in time, late, days late, withdrawn, open, overdue
    cells = totals.locator("td")
    expect(cells.nth(0)).to_have_text("2")
    expect(cells.nth(1)).to_have_text("0")
    expect(cells.nth(2)).to_have_text("1")
    expect(cells.nth(5)).to_have_text("1")
    expect(cells.nth(6)).to_have_text("0")
    expect(page.locator("#compliance-report tbody tr")).to_have_count(12)  # weeks
    page.get_by_role("link", name="Per month").click()
    expect(page.locator("#compliance-report thead")).to_contain_text("Month of receipt")
    expect(page.locator("#compliance-report tbody tr")).to_have_count(12)  # months
    expect(totals.locator("td").nth(2)).to_have_text("1")
    page.screenshot(path=str(tmp_path / "compliance.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith('"period","from","to","received","honoured in time","honoured late"')
    assert lines[-1].startswith('"total",') and ',"2","0","1",' in lines[-1]
