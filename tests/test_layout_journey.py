"""The app on a phone (390×844) and a laptop: no page scrolls sideways, filters fold behind a
"Filters" button, the skip link, the favicon, and the Activity page's range, table and search.
The data is made as users make it: numbers typed on the add page, a CSV uploaded and imported
by a real worker, an API key created on the API page."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1400, "height": 900}

# What stands out past the right edge: named in the failure, so a test says which element to fix.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1)
    .filter(e => e.getClientRects().length).slice(-3)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


def assert_fits(page, what: str) -> None:
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["width"], f"{what} scrolls sideways at {measured}"


def add_by_hand(page, live_server, numbers: list[str]) -> None:
    page.goto(f"{live_server.url}/blacklist/add/")
    page.get_by_label("Numbers").fill("\n".join(numbers))
    with page.expect_navigation():
        page.locator("form", has=page.get_by_label("Numbers")).get_by_role("button", name="Add numbers").click()


def upload(page, live_server, tmp_path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    form.locator("input[type=file]").set_input_files(path)
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()


def test_no_page_scrolls_sideways_on_a_phone(logged_in_page, live_server, tmp_path, celery_worker_process):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    base = live_server.url

    page.goto(f"{base}/tasks/")
    expect(page.get_by_text("No tasks yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Add Blacklisted Leads")).to_be_visible()
    page.goto(f"{base}/activity/")
    expect(page.get_by_text("No activity yet.")).to_be_visible()
    assert_fits(page, "Activity with no events")
    page.goto(f"{base}/blacklist/lists/")
    expect(page.get_by_text("Only the built-in Internal list so far")).to_be_visible()
    page.goto(f"{base}/api/")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert_fits(page, "API keys with none")
    page.goto(f"{base}/activity/compliance/")
    expect(page.get_by_text("No requests were received in this range")).to_be_visible()
    page.goto(f"{base}/activity/history/?phone=%2B14155550199")
    expect(page.get_by_text("Not on the blacklist, and never was.")).to_be_visible()
    expect(page.get_by_role("link", name="Add Blacklisted Leads")).to_be_visible()

    add_by_hand(page, live_server, [f"+1 415 555 {i:04d}" for i in range(40)])
    upload(page, live_server, tmp_path, "a-rather-long-file-name-from-the-dialer-export-2026-11.csv",
           "phone\n(212) 555-0100\n(212) 555-0101\nnot-a-number-and-far-too-long-to-fit-on-one-phone-line-0123456789\n")
    page.goto(f"{base}/tasks/")
    expect(page.locator("tbody tr[data-state=succeeded]")).to_have_count(1, timeout=30_000)
    page.goto(f"{base}/api/")
    page.get_by_label("Name").fill("Five9 production dialer key")
    with page.expect_navigation():
        page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    assert_fits(page, "the key-created page")
    example = page.locator("#example-check")
    assert example.evaluate("e => e.scrollWidth <= e.clientWidth || e.tabIndex === 0")

    menu = page.get_by_role("button", name="Menu")
    page.goto(f"{base}/blacklist/add/")
    menu.click()
    expect(page.locator("#main-menu").get_by_role("link", name="Tasks Logs")).to_be_visible()
    assert_fits(page, "the navbar, open")
    menu.click()

    pages = {
        "Add Blacklisted Leads": "/blacklist/add/",
        "Tasks Logs": "/tasks/",
        "Activity": "/activity/",
        "a number's History": "/activity/history/?phone=%2B14155550001",
        "Compliance": "/activity/compliance/",
        "Lists": "/blacklist/lists/",
        "Reasons": "/blacklist/reasons/",
        "API keys": "/api/",
        "Roles": "/roles/",
    }
    for what, path in pages.items():
        page.goto(base + path)
        assert_fits(page, what)
    page.goto(f"{base}/tasks/")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("a-rather-long-file-name")).first.click()
    assert_fits(page, "the task page")

    phone = page.context.browser.new_page(viewport=PHONE)
    phone.goto(f"{base}/accounts/login/")
    assert_fits(phone, "login")
    phone.close()


def test_filters_fold_on_a_phone_and_stay_open_on_a_laptop(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, ["+1 415 555 0100", "+1 415 555 0101"])
    for path in ("/activity/", "/tasks/", "/blacklist/review/"):
        page.set_viewport_size(LAPTOP)
        page.goto(live_server.url + path)
        filters = page.locator("#filters")
        expect(filters).to_be_visible()
        expect(page.get_by_role("button", name="Filters")).to_be_hidden()

        page.set_viewport_size(PHONE)
        expect(filters).to_be_hidden()
        toggle = page.get_by_role("button", name="Filters")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(filters).to_be_visible()
        assert filters.evaluate("form => form.getBoundingClientRect().right <= window.innerWidth"), path

    page.goto(f"{live_server.url}/activity/?action=added&phone=415")
    expect(page.get_by_role("button", name="Filters (2)")).to_be_visible()
    expect(page.locator("#filters")).to_be_hidden()
    page.goto(f"{live_server.url}/activity/?date_after=2026-13-45")
    expect(page.locator("#filters")).to_be_visible()  # an error opens it
    expect(page.get_by_text("The filter is not valid")).to_be_visible()


def test_skip_link_moves_focus_to_the_content_and_the_favicon_is_served(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/activity/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    icons = page.locator("link[rel=icon]")
    expect(icons).to_have_count(2)
    for href in icons.evaluate_all("links => links.map(link => link.href)"):
        response = page.request.get(href)
        assert response.ok and response.headers["content-type"].startswith("image/")
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and response.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")


def test_activity_fits_its_data_shows_a_table_and_searches_one_number(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, [f"+1 415 555 {i:04d}" for i in range(100)])
    page.goto(f"{live_server.url}/blacklist/review/?phone=4155550007")
    with page.expect_navigation():
        page.locator("tbody").get_by_role("button", name=re.compile("^Approve")).first.click()

    page.goto(f"{live_server.url}/activity/")
    caption = page.locator("figcaption")
    expect(caption).to_contain_text("square-root scale")
    days = page.locator(".chart-table tbody tr")
    expect(days).to_have_count(7)  # today's events: a week up to today, not a fixed empty month
    # The one approval beside a hundred additions is a bar a tenth as high, not a hundredth.
    chart = page.locator(".d-sm-block svg")
    heights = {name: chart.locator("rect", has=page.locator(f"title:text-matches(': [0-9,]+ {name}$')"))
               .evaluate_all("rects => Math.max(...rects.map(r => r.getBBox().height))") for name in ("added", "approved")}
    assert heights["added"] > 100 and heights["approved"] >= heights["added"] / 10 - 1, heights

    page.get_by_text("Show as a table").click()
    today = days.last
    expect(today.get_by_role("cell").nth(0)).to_have_text("100")
    expect(today.get_by_role("cell").nth(1)).to_have_text("1")

    expect(page.get_by_role("searchbox")).to_have_count(1)
    page.get_by_role("searchbox", name="Number").fill("(415) 555-0007")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.locator(".events-table tbody tr")).to_have_count(2)  # added, approved
    expect(page.locator(".events-table a.phone").first).to_have_attribute("title", re.compile(r"^\+14155550007"))
    with page.expect_navigation():
        page.get_by_role("link", name="Full history of (415) 555-0007").click()
    expect(page.get_by_role("heading", name="History of (415) 555-0007")).to_be_visible()

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/activity/")
    expect(page.locator(".d-sm-none svg")).to_be_visible()
    assert_fits(page, "Activity with its chart")
