"""Named lists in a real browser: a Manager's journey from the menu to the Lists page, a new list
added there, then picked above the tabs of Blacklists Management, whose labels, rows and links
then count and keep that list; "All lists" adds the List column."""

import pytest
from playwright.sync_api import expect

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import DncList, Status
from tests.helpers import add_list

pytestmark = pytest.mark.browser


def test_create_a_list_pick_it_above_the_tabs_and_see_its_counts(logged_in_page, live_server):
    page = logged_in_page
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    services.add_numbers(["+14155550100", "+14155550101"], Status.REVIEW, source=Source(Event.Via.HAND))

    page.goto(f"{live_server.url}/blacklist/review/")
    page.get_by_role("button", name="Leads & Campaigns").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Lists", exact=True).click()
    add_list(page, "Campaign: Solar West", "Door-to-door, west region")
    expect(page.get_by_role("alert")).to_contain_text("Added the list “Campaign: Solar West”.")
    solar = DncList.objects.get(name="Campaign: Solar West")
    expect(page.locator(f"#list-{solar.pk} .list-count")).to_have_text("0")

    # Numbers arrive on it (upload and hand entry into a list are another page's journey).
    services.add_numbers(["+14155550100", "+14155550102", "+14155550103"], Status.REVIEW, dnc_list=solar,
                         source=Source(Event.Via.HAND))
    services.add_numbers(["+14155550104"], Status.APPROVED, dnc_list=solar, source=Source(Event.Via.HAND))

    page.goto(f"{live_server.url}/blacklist/review/")
    expect(page.locator('[data-count="review"]')).to_have_text("2")  # Internal, the default
    with page.expect_navigation():
        page.get_by_label("List", exact=True).select_option(label="Campaign: Solar West")  # submits on change
    assert f"list={solar.pk}" in page.url
    expect(page.locator('[data-count="review"]')).to_have_text("3")
    expect(page.locator('[data-count="approved"]')).to_have_text("1")
    expect(page.locator("table.blacklist-table tbody tr")).to_have_count(3)
    expect(page.get_by_label("Which records")).to_contain_text("All 3 records matching the filter")

    with page.expect_navigation():
        page.locator(".nav-tabs").get_by_role("link", name="Blacklisted Leads", exact=True).click()
    assert page.url.endswith(f"/blacklist/approved/?list={solar.pk}")
    expect(page.locator("table.blacklist-table tbody tr")).to_have_count(1)
    expect(page.get_by_label("List", exact=True)).to_have_value(str(solar.pk))

    with page.expect_navigation():
        page.get_by_label("List", exact=True).select_option(label="All lists")
    with page.expect_navigation():
        page.locator(".nav-tabs").get_by_role("link", name="Blacklisted Leads for Review").click()
    expect(page.locator('[data-count="review"]')).to_have_text("5")
    table = page.locator("table.blacklist-table")
    expect(table.locator("thead")).to_contain_text("List")
    expect(table.locator("tbody tr").filter(has_text="(415) 555-0100")).to_have_count(2)
    expect(table.locator("tbody tr").filter(has_text="Campaign: Solar West")).to_have_count(3)
    assert refused == []
