"""Blacklists Management in a real browser, clicking exactly as the help text describes."""

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id

pytestmark = pytest.mark.browser


@pytest.fixture
def numbers(transactional_db):
    default_reason_id()  # the built-in reasons, after an earlier test's flush
    other = Reason.objects.get(slug="other")  # removable: not kept for retention (blacklist/tests/test_retention.py)
    BlacklistedNumber.objects.bulk_create([
        BlacklistedNumber(phone="+14155550100", status=Status.REVIEW, reason=other),
        BlacklistedNumber(phone="+14155550101", status=Status.REVIEW, reason=other),
        BlacklistedNumber(phone="+14155550102", status=Status.REVIEW, reason=other),
        BlacklistedNumber(phone="+12125550100", status=Status.PERMANENT, reason=other),
        BlacklistedNumber(phone="+12125550101", status=Status.APPROVED, reason=other),
    ])


def row(page, display):
    return page.locator("table.blacklist-table tbody tr", has_text=display)


def bulk(page, action, scope):
    """The page-bottom bulk form: action dropdown, which-records dropdown, OK."""
    page.get_by_label("Bulk action").select_option(label=action)
    page.get_by_label("Which records").select_option(label=scope)
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()


def test_approve_two_selected_then_unapprove_one_back(logged_in_page, live_server, numbers):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/review/")
    row(page, "(415) 555-0100").get_by_role("checkbox").check()
    row(page, "(415) 555-0101").get_by_role("checkbox").check()

    bulk(page, "Approve", "Selected (2)")

    expect(page.get_by_role("alert")).to_contain_text("Approved 2 numbers.")
    expect(row(page, "(415) 555-0100")).to_have_count(0)
    expect(row(page, "(415) 555-0102")).to_have_count(1)
    page.get_by_role("link", name="Blacklisted Leads", exact=True).click()
    expect(row(page, "(415) 555-0100")).to_contain_text("Approved")
    expect(row(page, "(415) 555-0101")).to_contain_text("Approved")

    with page.expect_navigation():
        row(page, "(415) 555-0100").get_by_role("button", name="Unapprove (415) 555-0100").click()

    expect(page.get_by_role("alert")).to_contain_text("Unapproved 1 number")
    expect(row(page, "(415) 555-0100")).to_have_count(0)
    assert BlacklistedNumber.objects.get(phone="+14155550100").status == Status.REVIEW


def test_every_path_to_remove_a_permanent_number_is_refused(logged_in_page, live_server, numbers):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/approved/")
    permanent = row(page, "(212) 555-0100")
    expect(permanent).to_contain_text("Permanently approved")
    expect(permanent.get_by_role("button")).to_have_count(0)  # no row action at all

    permanent.get_by_role("checkbox").check()
    bulk(page, "Remove", "Selected (1)")
    expect(page.get_by_role("heading", name="Remove (212) 555-0100 from the blacklist?")).to_be_visible()
    expect(page.get_by_text("1 permanently approved number will be skipped.")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, remove 1 number").click()
    expect(page.get_by_role("alert")).to_contain_text("1 permanently approved number was skipped.")

    bulk(page, "Remove", "All records on this page")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, remove 2 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("Removed 1 number from the blacklist. "
                                                     "1 permanently approved number was skipped.")
    expect(row(page, "(212) 555-0100")).to_contain_text("Permanently approved")
    assert BlacklistedNumber.objects.get(phone="+12125550100").status == Status.PERMANENT


def test_delete_all_matching_a_filter_after_confirming(logged_in_page, live_server, numbers):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/review/")
    page.get_by_label("Number").fill("415 555 010")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("Which records")).to_contain_text("All 3 records matching the filter")

    bulk(page, "Remove", "All 3 records matching the filter")
    expect(page.get_by_role("heading", name="Remove 3 numbers from the blacklist?")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, remove 3 numbers").click()

    expect(page.get_by_role("alert")).to_contain_text("Removed 3 numbers from the blacklist.")
    assert page.get_by_label("Number").input_value() == "415 555 010"  # back on the same filter
    assert sorted(BlacklistedNumber.objects.values_list("phone", flat=True)) == ["+12125550100", "+12125550101"]


def test_row_remove_asks_in_the_browser_first(logged_in_page, live_server, numbers):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/review/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="More actions for (415) 555-0102").click()
    page.get_by_role("button", name="Remove (415) 555-0102").click()
    expect(row(page, "(415) 555-0102")).to_have_count(1)
    assert BlacklistedNumber.objects.filter(phone="+14155550102").exists()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="More actions for (415) 555-0102").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Remove (415) 555-0102").click()
    expect(page.get_by_role("alert")).to_contain_text("Removed 1 number from the blacklist.")
    assert not BlacklistedNumber.objects.filter(phone="+14155550102").exists()
