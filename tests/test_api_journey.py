"""An admin makes an API key in the web app, a dialer checks a number with it, the admin revokes
it, and the dialer is refused."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.browser


def check(base_url: str, key: str, phone: str, **params: str) -> tuple[int, dict]:
    """What a dialer does: a plain HTTP call, no browser, no cookies (`params`: more of the query)."""
    url = f"{base_url}/api/v1/blacklist/check?{urllib.parse.urlencode({'phone': phone, **params})}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_admin_creates_a_key_the_dialer_checks_with_it_then_it_is_revoked(logged_in_page, live_server):
    BlacklistedNumber.objects.create(phone="+14155550123", status=Status.APPROVED)
    page = logged_in_page

    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_role("heading", name="API", exact=True)).to_be_visible()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label("Name").fill("Five9 production")
    expect(page.get_by_label("Check and scrub numbers")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Create API key").click()

    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    key = page.get_by_label("New API key").input_value()
    assert key.startswith("dnc_")
    expect(page.locator("#example-check")).to_contain_text(f"Bearer {key}")

    status, verdict = check(live_server.url, key, "(415) 555-0123")
    assert status == 200
    assert (verdict["phone"], verdict["blocked"], verdict["status"]) == ("+14155550123", True, "approved")

    page.get_by_role("link", name="Back to API keys").click()
    row = page.get_by_role("row", name="Five9 production")
    expect(row).to_contain_text(key[:12])
    expect(row).to_contain_text("active")
    expect(page.get_by_text(key)).to_have_count(0)  # shown once, never again

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke Five9 production").click()

    expect(page.get_by_text("Revoked the API key “Five9 production”")).to_be_visible()
    expect(row).to_contain_text("revoked")
    assert check(live_server.url, key, "(415) 555-0123") == (401, {"error": "This API key has been revoked."})
