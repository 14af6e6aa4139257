"""Paging past the first page in a real browser, over numbers typed into the Add tab's form (one
batch: one timestamp for all, so the id breaks every tie between pages)."""

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber

pytestmark = pytest.mark.browser


def shown(page) -> list[str]:
    return page.locator("table.blacklist-table tbody tr td a[title]").evaluate_all("links => links.map(a => a.title)")


def test_next_pages_through_hand_entered_numbers_and_previous_comes_back(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/add/")
    page.get_by_label("Numbers").fill("\n".join(f"(646) 555-{i:04d}" for i in range(60)))
    with page.expect_navigation():
        page.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("Added 60 new number(s)")
    page.get_by_role("link", name="Blacklisted Leads for Review").click()

    pages = [shown(page)]
    while page.get_by_role("link", name="Next ›").count():
        with page.expect_navigation():
            page.get_by_role("link", name="Next ›").click()
        pages.append(shown(page))
    expect(page.get_by_text("Page 3", exact=True)).to_be_visible()
    back = [shown(page)]
    while page.get_by_role("link", name="‹ Previous").count():
        with page.expect_navigation():
            page.get_by_role("link", name="‹ Previous").click()
        back.append(shown(page))

    assert [len(rows) for rows in pages] == [25, 25, 10]
    assert sorted(phone for rows in pages for phone in rows) == sorted(
        BlacklistedNumber.objects.values_list("phone", flat=True))
    assert back == pages[::-1]
