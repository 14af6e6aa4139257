"""Selecting and acting on numbers on the list tabs in a real browser, over numbers typed into the
Add tab's form and moved by the tabs' own actions: the scope follows the ticks, a wider scope is
confirmed, the selection outlives a cancel, the bulk bar is a few Tab stops away and stays in view,
compact row actions named with their number, and the tab at a phone's width."""

import re

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.browser


def add_by_hand(page, live_server, count):
    """`count` numbers (646) 555-0000 … typed into the Add tab, for review, for a reason nothing keeps."""
    page.goto(f"{live_server.url}/blacklist/add/")
    hand = page.locator("form", has=page.get_by_label("Numbers"))
    page.get_by_label("Numbers").fill("\n".join(f"(646) 555-{i:04d}" for i in range(count)))
    hand.get_by_label("Reason").select_option(label="Other")
    with page.expect_navigation():
        hand.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Added {count} new number(s)")


def row(page, display):
    return page.locator("table.blacklist-table tbody tr", has_text=display)


def scope_label(page) -> str:
    return page.get_by_label("Which records").evaluate("select => select.selectedOptions[0].textContent")


def ticked(page) -> list[str]:
    return page.locator('input[name="ids"]:checked').evaluate_all("boxes => boxes.map(box => box.value)")


def test_ticks_set_the_scope_and_a_wider_scope_says_so_before_it_runs(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, 30)
    page.goto(f"{live_server.url}/blacklist/review/?sort=phone")
    header = page.get_by_label("Select all on this page")

    page.get_by_label("Select (646) 555-0000").check()
    page.get_by_label("Select (646) 555-0001").check()
    assert scope_label(page) == "Selected (2)"
    expect(page.locator("#selection-count")).to_have_text("2 of 25 selected")
    expect(page.locator("#selection-count")).to_have_attribute("aria-live", "polite")
    assert header.evaluate("box => box.indeterminate") and not header.is_checked()
    page.get_by_label("Select (646) 555-0001").uncheck()
    page.get_by_label("Select (646) 555-0000").uncheck()
    expect(page.locator("#selection-count")).to_have_text("")
    assert scope_label(page) == "Selected (0)"

    # Two ticked, then the scope changed by hand to the whole page: the server says so first.
    page.get_by_label("Select (646) 555-0000").check()
    page.get_by_label("Select (646) 555-0001").check()
    page.get_by_label("Bulk action").select_option(label="Approve")
    page.get_by_label("Which records").select_option(label="All records on this page")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.locator("#beyond-ticks")).to_have_text("You ticked 2 numbers; this acts on all 25 on this page.")
    confirm = page.get_by_role("button", name="Yes, approve 25 numbers")
    expect(confirm).to_have_class(re.compile(r"\bbtn-primary\b"))  # harmless: not red
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").click()

    # Back on the same page with the same ticks, action and scope; nothing was approved.
    assert sorted(ticked(page)) == sorted(str(pk) for pk in BlacklistedNumber.objects.filter(
        phone__in=["+16465550000", "+16465550001"]).values_list("pk", flat=True))
    expect(page.get_by_label("Bulk action")).to_have_value("approve")
    expect(page.get_by_label("Which records")).to_have_value("page")
    assert not BlacklistedNumber.objects.filter(status=Status.APPROVED).exists()

    # The header ticks the page; the banner offers every match, and clears.
    header.check()
    expect(page.locator("#selection-count")).to_have_text("25 of 25 selected")
    expect(page.locator("#select-banner")).to_contain_text("All 25 on this page are selected.")
    page.get_by_role("button", name="Select all 30 matching the filter").click()
    expect(page.get_by_label("Which records")).to_have_value("all")
    expect(page.locator("#select-banner")).to_contain_text("All 30 matching the filter are selected.")
    page.get_by_role("button", name="Clear selection").click()
    assert ticked(page) == [] and not header.is_checked()
    expect(page.locator("#select-banner")).to_be_hidden()

    # The ticks alone: exactly those two are approved, and the result shows in the bar.
    page.get_by_label("Select (646) 555-0003").check()
    page.get_by_label("Select (646) 555-0004").check()
    page.get_by_label("Bulk action").select_option(label="Approve")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.locator(".bulk-bar").get_by_role("alert")).to_contain_text("Approved 2 numbers.")
    assert ticked(page) == []  # done: nothing given back
    assert sorted(BlacklistedNumber.objects.filter(status=Status.APPROVED).values_list("phone", flat=True)) == [
        "+16465550003", "+16465550004"]


def test_a_refusal_keeps_the_ticks_and_a_bulk_remove_says_remove_in_red(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, 30)
    page.goto(f"{live_server.url}/blacklist/review/?sort=phone")
    page.get_by_label("Select (646) 555-0002").check()
    with page.expect_navigation():  # no action chosen
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.locator(".bulk-bar").get_by_role("alert")).to_contain_text("Nothing was changed.")
    expect(page.get_by_label("Select (646) 555-0002")).to_be_checked()
    assert scope_label(page) == "Selected (1)"

    page.get_by_label("Select (646) 555-0005").check()
    page.get_by_label("Bulk action").select_option(label="Remove")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.get_by_role("heading", name="Remove 2 numbers from the blacklist? They can be called again.")
           ).to_be_visible()
    confirm = page.get_by_role("button", name="Yes, remove 2 numbers")
    expect(confirm).to_have_class(re.compile(r"\bbtn-danger\b"))
    with page.expect_navigation():
        confirm.click()
    expect(page.locator(".bulk-bar").get_by_role("alert")).to_contain_text("Removed 2 numbers from the blacklist.")
    assert ticked(page) == []  # it ran: the earlier ticks are not given back
    assert BlacklistedNumber.objects.count() == 28


def test_row_actions_are_one_button_and_a_menu_named_with_the_number(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, 30)
    page.goto(f"{live_server.url}/blacklist/review/?sort=phone")
    first = row(page, "(646) 555-0000")
    expect(first.get_by_role("button")).to_have_count(2)  # Approve, and the menu's toggle

    page.get_by_role("button", name="More actions for (646) 555-0000").click()
    expect(page.get_by_role("button", name="Approve permanently (646) 555-0000")).to_be_visible()
    remove = page.get_by_role("button", name="Remove (646) 555-0000")
    expect(remove).to_have_class(re.compile(r"\btext-danger\b"))
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        remove.click()
    assert questions == ["Remove (646) 555-0000 from the blacklist? It can be called again."]
    expect(page.locator(".bulk-bar").get_by_role("alert")).to_contain_text("Removed 1 number from the blacklist.")

    with page.expect_navigation():
        page.get_by_role("button", name="Approve (646) 555-0001").click()
    expect(page.locator(".bulk-bar").get_by_role("alert")).to_contain_text("Approved 1 number.")
    page.get_by_role("button", name="More actions for (646) 555-0002").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Approve permanently (646) 555-0002").click()

    page.goto(f"{live_server.url}/blacklist/approved/?sort=phone")
    expect(row(page, "(646) 555-0002")).to_contain_text("locked")
    expect(row(page, "(646) 555-0002").get_by_role("button")).to_have_count(0)
    expect(row(page, "(646) 555-0001").get_by_role("button", name="Unapprove (646) 555-0001")).to_be_visible()
    assert BlacklistedNumber.objects.get(phone="+16465550002").status == Status.PERMANENT


@pytest.mark.parametrize("per_page", [25, 100])
def test_the_bulk_bar_is_a_few_tab_stops_from_the_table_and_stays_in_view(logged_in_page, live_server, per_page):
    page = logged_in_page
    add_by_hand(page, live_server, 110)
    page.goto(f"{live_server.url}/blacklist/review/?per_page={per_page}")
    expect(page.locator("table.blacklist-table tbody tr")).to_have_count(per_page)

    if page.locator(".skip-link").count():  # base.html's skip link (layout): it leads to the numbers
        page.keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()
        expect(page.locator(".skip-link")).to_have_text("Skip to the numbers")
        page.keyboard.press("Enter")
    else:
        page.locator("#numbers").focus()
    expect(page.locator("#numbers")).to_be_focused()
    stops = 0
    while stops < 10 and page.evaluate("document.activeElement.id") != "bulk-action":
        page.keyboard.press("Tab")
        stops += 1
    expect(page.get_by_label("Bulk action")).to_be_focused()  # within 10 Tab stops

    page.locator('input[name="ids"]').last.check()
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("window.scrollY > 500")
    bar = page.locator(".bulk-bar").bounding_box()
    assert 0 <= bar["y"] <= 5  # stuck to the top of the window
    expect(page.locator("#selection-count")).to_have_text(f"1 of {per_page} selected")


def test_a_phone_sized_tab_never_scrolls_sideways_and_keeps_numbers_whole(logged_in_page, live_server):
    page = logged_in_page
    add_by_hand(page, live_server, 30)
    page.set_viewport_size({"width": 390, "height": 844})
    for tab in ("review", "approved"):
        page.goto(f"{live_server.url}/blacklist/{tab}/?sort=phone")
        if tab == "approved":
            expect(page.get_by_text("No approved numbers yet.")).to_be_visible()
            continue
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        number = page.get_by_role("link", name="(646) 555-0000")
        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
        assert number.bounding_box()["height"] < 1.5 * line  # on one line
        approve = page.get_by_role("button", name="Approve (646) 555-0000")
        assert approve.bounding_box()["height"] < 2 * line
        page.get_by_label("Select (646) 555-0000").check()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        bar = page.locator(".bulk-bar").bounding_box()
        assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 390 and 0 <= bar["y"] <= 5


def test_an_empty_review_tab_leads_to_the_add_tab_and_an_empty_filter_to_its_reset(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/review/")
    expect(page.get_by_text("Nothing to review.")).to_be_visible()
    page.get_by_role("link", name="Upload a file or add numbers by hand").click()
    expect(page.get_by_label("Numbers")).to_be_visible()

    add_by_hand(page, live_server, 3)
    page.goto(f"{live_server.url}/blacklist/review/?phone=212")
    expect(page.get_by_text("No numbers match the filter.")).to_be_visible()
    page.locator(".empty-state").get_by_role("link", name="Reset").click()
    expect(page.locator("table.blacklist-table tbody tr")).to_have_count(3)
