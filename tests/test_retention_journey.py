"""Retention in a real browser: a number the consumer asked for is kept; a Manager removes it
early only by writing why, and the justification is on its event (docs/compliance.md)."""

import pytest
from playwright.sync_api import expect

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.browser


def test_a_manager_removes_a_retained_number_only_with_a_justification(logged_in_page, live_server,
                                                                         transactional_db):
    BlacklistedNumber.objects.bulk_create([BlacklistedNumber(phone="+14155550100", status=Status.APPROVED)])
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/approved/")
    row = page.locator("table.blacklist-table tbody tr", has_text="(415) 555-0100")

    page.once("dialog", lambda dialog: dialog.accept())  # blacklist.js asks before an irreversible action
    row.get_by_role("button", name="More actions for (415) 555-0100").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Remove (415) 555-0100").click()
    expect(page.get_by_text("1 number will be kept for retention.")).to_be_visible()
    expect(page.locator("#kept-for-retention")).to_contain_text("It is kept until")
    with page.expect_navigation():  # no justification: it stays
        page.get_by_role("button", name="Yes, remove 1 number").click()
    expect(page.get_by_role("alert")).to_contain_text("1 number was kept for retention.")
    assert BlacklistedNumber.objects.filter(phone="+14155550100").exists()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="More actions for (415) 555-0100").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Remove (415) 555-0100").click()
    page.get_by_label("To remove the 1 number kept for retention too").fill("Our own office line, listed by mistake.")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, remove 1 number").click()

    expect(page.get_by_role("alert")).to_contain_text("Removed 1 number from the blacklist.")
    assert not BlacklistedNumber.objects.exists()
    assert Event.objects.get().note == "Our own office line, listed by mistake."
