import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_admin_logs_in_and_reaches_blacklists_management_from_the_menu(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/tasks/")
    expect(page.get_by_role("heading", name="Tasks Logs")).to_be_visible()

    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="Blacklists Management").click()

    expect(page.get_by_role("heading", name="Blacklists Management")).to_be_visible()
    for tab in ["Add Blacklisted Leads", "Blacklisted Leads for Review", "Blacklisted Leads"]:
        expect(page.get_by_role("link", name=tab, exact=True)).to_be_visible()


def test_anonymous_visitor_is_shown_the_login_form(page, live_server):
    page.goto(f"{live_server.url}/blacklist/review/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert "/accounts/login/?next=/blacklist/review/" in page.url
