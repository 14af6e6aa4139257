"""A Manager loads the national registry's full list of an area code through the Registry page (a
real worker loads it), sees it fresh, a dialer checks a listed number with registry=1, the Manager
loads a change list that deletes it, and the dialer's next check finds it no longer listed."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.tests.files import changes, flat, numbers, zipped
from tests.test_api_journey import check

pytestmark = pytest.mark.browser
LISTED = numbers(201, 1)[0]  # 2012000000, a valid New Jersey number


def load(page, path, kind: str, area_code: str = "") -> None:
    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="National Registry").click()
    page.get_by_label("Registry file", exact=True).set_input_files(path)
    page.get_by_label(kind).check()
    page.get_by_label("Area code", exact=True).fill(area_code)
    with page.expect_navigation():
        page.get_by_role("button", name="Load").click()


@pytest.mark.worker
def test_load_a_full_list_see_it_fresh_check_apply_a_change_list_check_again(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    full = tmp_path / "201-full.zip"
    full.write_bytes(zipped(("201.txt", flat(numbers(201, 1_500)))))  # as the registry sends it
    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="National Registry").click()
    expect(page.get_by_text("No area code loaded yet.")).to_be_visible()

    load(page, full, "Full list (replaces its area codes)", "201")

    expect(page.get_by_role("heading", name="Tasks Logs")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "201-full.zip: done. 1,500 added · 0 deleted · 0 unchanged · 0 unreadable.", timeout=30_000)
    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="National Registry").click()
    expect(page.locator("#registry-freshness")).to_have_text("1 area code loaded; all fresh.")
    row = page.locator("#area-code-201")
    for shown in ("NJ", "1,500", timezone.localdate().isoformat(), "0 days", "Fresh", "201-full.zip"):
        expect(row).to_contain_text(shown)

    page.get_by_role("link", name="API", exact=True).click()
    page.get_by_label("Name").fill("Dialer")
    with page.expect_navigation():
        page.get_by_role("button", name="Create API key").click()
    key = page.get_by_label("New API key").input_value()
    status, answer = check(live_server.url, key, str(LISTED), registry="1")
    assert status == 200 and answer["blocked"] is True
    assert answer["national_registry"] == {"listed": True, "data_date": timezone.localdate().isoformat(),
                                           "area_code_loaded": True}
    assert answer["blocked_by"] == [{"source": "national_registry", "data_date": timezone.localdate().isoformat()}]

    removal = tmp_path / "201-changes.txt"
    removal.write_bytes(changes([(LISTED, "D")]))
    load(page, removal, "Change list")
    expect(page.get_by_role("alert")).to_have_text(
        "201-changes.txt: done. 0 added · 1 deleted · 0 unchanged · 0 unreadable.", timeout=30_000)

    status, answer = check(live_server.url, key, str(LISTED), registry="1")
    assert status == 200 and answer["blocked"] is False and answer["blocked_by"] == []
    assert answer["national_registry"]["listed"] is False
    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="National Registry").click()
    expect(page.locator("#area-code-201")).to_contain_text("1,499")

