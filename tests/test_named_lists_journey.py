"""Issue 15's journey, in a real browser with a real worker and a dialer calling the API over
HTTP: a Manager creates a list, uploads a file into it, approves it; the dialer checks a number
with `lists=` and without; the Manager adds a prefix block and a number under it is blocked with
the prefix named; the list is archived and still blocks."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, DncList, Status
from tests.helpers import add_list

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def check(base_url: str, key: str, phone: str, lists: str | None = None) -> tuple[int, dict]:
    """What a dialer does: a plain HTTP call, no browser, no cookies."""
    query = {"phone": phone, **({"lists": lists} if lists is not None else {})}
    request = urllib.request.Request(f"{base_url}/api/v1/blacklist/check?{urllib.parse.urlencode(query)}",
                                     headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def blockers(verdict: dict) -> set[tuple]:
    return {(entry["list"], entry["status"], entry["prefix"]) for entry in verdict["blocked_by"]}


def test_a_list_made_filled_approved_checked_prefixed_and_archived_still_blocks(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page, url = logged_in_page, live_server.url

    # A list, made on the Lists page.
    page.goto(f"{url}/blacklist/lists/")
    add_list(page, "Client: Acme")
    expect(page.get_by_role("alert")).to_contain_text("Added the list “Client: Acme”.")
    acme = DncList.objects.get(name="Client: Acme")

    # A file uploaded into it, imported by the worker.
    upload = tmp_path / "acme.csv"
    upload.write_text("phone\n(415) 555-0100\n415.555.0101\n+1 646 555 0102\n")
    page.goto(f"{url}/blacklist/add/?list={acme.pk}")
    form = page.locator("#upload-form")
    expect(form.get_by_label("List")).to_have_value(str(acme.pk))
    form.get_by_label("Choose File").set_input_files(upload)
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()
    expect(page.locator("tbody tr", has_text="acme.csv")).to_contain_text("3 new", timeout=30_000)

    # Approved, all of them, on that list's review tab.
    page.goto(f"{url}/blacklist/review/?list={acme.pk}")
    expect(page.locator("table.blacklist-table tbody tr")).to_have_count(3)
    page.get_by_label("Bulk action").select_option(label="Approve")
    page.get_by_label("Which records").select_option(label="All records on this page")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Approved 3 numbers.")
    assert set(BlacklistedNumber.objects.filter(dnc_list=acme).values_list("status", flat=True)) == {Status.APPROVED}

    # A key for the dialer, made on the API page.
    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Name").fill("Dialer")
    with page.expect_navigation():
        page.get_by_role("button", name="Create API key").click()
    key = page.get_by_label("New API key").input_value()

    status, verdict = check(url, key, "(415) 555-0100")
    assert (status, verdict["blocked"], blockers(verdict)) == (200, True, {("Client: Acme", "approved", None)})
    status, verdict = check(url, key, "(415) 555-0100", lists="Internal")
    assert (status, verdict["blocked"], verdict["blocked_by"]) == (200, False, [])
    status, verdict = check(url, key, "(415) 555-0100", lists=f"Internal,{acme.pk}")
    assert (status, verdict["blocked"]) == (200, True)
    status, verdict = check(url, key, "(415) 555-0100", lists="Client: Nobody")
    assert status == 400 and "Client: Nobody" in verdict["error"]

    # A prefix block, typed by hand into the list: a number under it is blocked, the prefix named.
    page.goto(f"{url}/blacklist/add/?list={acme.pk}")
    page.get_by_label("Numbers").fill("+1 201*")
    with page.expect_navigation():
        page.locator("form", has=page.get_by_label("Numbers")).get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("on the list “Client: Acme”")
    page.goto(f"{url}/blacklist/review/?list={acme.pk}")
    expect(page.locator("table.blacklist-table tbody tr", has_text="+1 201…").locator(".badge")).to_have_text("prefix")
    status, verdict = check(url, key, "201-555-0199")
    assert (status, verdict["blocked"], blockers(verdict)) == (200, True, {("Client: Acme", "review", "+1201*")})

    # Archived on the Lists page: it takes nothing new, and still blocks.
    page.goto(f"{url}/blacklist/lists/")
    with page.expect_navigation():
        page.get_by_role("button", name="Archive Client: Acme").click()
    expect(page.locator(f"#list-{acme.pk} .list-state")).to_contain_text("archived")
    status, verdict = check(url, key, "201-555-0199")
    assert (status, verdict["blocked"], blockers(verdict)) == (200, True, {("Client: Acme", "review", "+1201*")})
    status, verdict = check(url, key, "(415) 555-0100", lists="Client: Acme")
    assert (status, verdict["blocked"]) == (200, True)
    page.goto(f"{url}/blacklist/add/")
    expect(page.locator("#upload-form").get_by_label("List").locator("option")).to_have_text(["Internal"])
