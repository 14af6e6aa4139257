"""Roles in a real browser: a Reviewer cannot approve permanently (no option, and a forged POST
is refused); a Manager approves permanently and finds the event in the number's history and on
the Activity page."""

import pytest
from playwright.sync_api import expect

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status
from roles.groups import assign
from tests.helpers import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def numbers(transactional_db):
    BlacklistedNumber.objects.bulk_create([
        BlacklistedNumber(phone="+14155550100", status=Status.REVIEW),
        BlacklistedNumber(phone="+14155550101", status=Status.REVIEW),
    ])


def log_in_as(page, live_server, django_user_model, role):
    user = django_user_model.objects.create_user(role.lower(), password="journey-pass-123")
    assign(user, role)
    log_in(page, live_server.url, user.username, "journey-pass-123")


def row(page, display):
    return page.locator("table.blacklist-table tbody tr", has_text=display)


def test_a_reviewer_has_no_permanent_option_and_a_forged_post_is_refused(page, live_server, django_user_model,
                                                                          numbers):
    log_in_as(page, live_server, django_user_model, "Reviewer")
    page.goto(f"{live_server.url}/blacklist/review/")

    expect(row(page, "(415) 555-0100").get_by_role("button", name="Approve (415) 555-0100")).to_be_visible()
    expect(page.locator('button[aria-label^="Approve permanently"]')).to_have_count(0)  # not even in a row menu
    expect(page.get_by_label("Bulk action").locator("option", has_text="Approve permanently")).to_have_count(0)
    expect(page.get_by_role("link", name="Add Blacklisted Leads")).to_be_visible()
    page.get_by_role("link", name="Add Blacklisted Leads").click()
    expect(page.get_by_label("Mark all dnc leads as approved permanently")).to_have_count(0)
    page.go_back()

    pk = BlacklistedNumber.objects.get(phone="+14155550100").pk
    forged = page.evaluate(
        """async ([pk]) => {
            const form = new FormData(document.getElementById("row-action"));
            form.append("pk", pk);
            const answer = await fetch("/blacklist/review/numbers/approve_permanently/", {method: "POST", body: form});
            const bulk = new FormData(document.getElementById("bulk-form"));
            bulk.set("action", "approve_permanently"); bulk.set("scope", "all"); bulk.set("confirmed", "on");
            const bulkAnswer = await fetch("/blacklist/review/bulk/", {method: "POST", body: bulk});
            return [answer.status, bulkAnswer.status];
        }""",
        [pk],
    )

    assert forged == [403, 403]
    assert set(BlacklistedNumber.objects.values_list("status", flat=True)) == {Status.REVIEW}
    assert not Event.objects.exists()


def test_a_manager_approves_permanently_and_finds_it_in_history_and_activity(page, live_server, django_user_model,
                                                                             numbers):
    log_in_as(page, live_server, django_user_model, "Manager")
    page.goto(f"{live_server.url}/blacklist/review/")
    page.once("dialog", lambda dialog: dialog.accept())  # "Approve … permanently? It can never be …"
    page.get_by_role("button", name="More actions for (415) 555-0100").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Approve permanently (415) 555-0100").click()
    expect(page.get_by_role("alert")).to_contain_text("Permanently approved 1 number")

    page.get_by_role("link", name="Blacklisted Leads", exact=True).click()
    row(page, "(415) 555-0100").get_by_role("link", name="(415) 555-0100").click()
    expect(page.get_by_role("heading", name="History of (415) 555-0100")).to_be_visible()
    expect(page.locator(".current-status")).to_contain_text("Permanently approved")
    history = page.locator("table.history-table tbody tr").first
    expect(history).to_contain_text("Approved permanently")
    expect(history).to_contain_text("For review → Permanently approved")
    expect(history).to_contain_text("manager")
    expect(history).to_contain_text("Row action")

    page.get_by_role("link", name="Activity").click()
    newest = page.locator("table.events-table tbody tr").first
    expect(newest).to_contain_text("(415) 555-0100")
    expect(newest).to_contain_text("Approved permanently")
    expect(newest).to_contain_text("manager")
    expect(page.locator("svg.activity-chart").first).to_be_visible()  # the wide chart; the phone's is hidden
