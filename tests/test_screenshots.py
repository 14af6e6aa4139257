"""The screenshots in README.md and docs/ are taken here, by using the real app in Chromium as a
person does (hand entry, an upload imported by a real worker, a bulk action), so they show the
pages as they are, on a laptop and on a phone. Every run checks the journey; `make screenshots`
keeps the pictures in docs/screenshots/ (SCREENSHOTS_DIR), to be committed with the change that
altered a page."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status
from registry.tests.files import flat, numbers, zipped
from tasks_logs.models import TaskLog
from tests.helpers import add_list, wait_until_finished

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shoot(tmp_path):
    """shoot(page, "name") → name-desktop.png and name-phone.png of the page as it is now (in
    docs/screenshots/ under `make screenshots`). The desktop one is the window; the phone one the
    whole page when `whole_page_on_phone` (short pages), else the window (a tab's 25 rows are long)."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, whole_page_on_phone: bool = True) -> None:
        for size, viewport, full_page in (("desktop", DESKTOP, False), ("phone", PHONE, whole_page_on_phone)):
            page.set_viewport_size(viewport)
            path = folder / f"{name}-{size}.png"
            page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
            assert path.stat().st_size > 10_000, f"{path.name} is blank"
        page.set_viewport_size(DESKTOP)

    return save


def test_screenshots_of_the_main_pages_at_both_sizes(logged_in_page, live_server, celery_worker_process,
                                                      tmp_path, shoot):
    page, url = logged_in_page, live_server.url
    page.set_viewport_size(DESKTOP)
    page.goto(f"{url}/blacklist/add/")
    typed = [f"(415) 555-{i:04d}" for i in range(100, 112)] + ["+1 212 555 0100 ext 5", "646.555.0199"]
    page.get_by_label("Numbers").fill("\n".join(typed))
    with page.expect_navigation():
        page.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("Added 14 new number(s)")
    shoot(page, "add-tab", whole_page_on_phone=False)

    csv = tmp_path / "optouts-november.csv"
    csv.write_text("Phone Number\n" + "\n".join(f"212-555-{i:04d}" for i in range(200, 240)) + "\n4.15555E+09\n")
    form = page.locator("#upload-form")
    form.locator("input[type=file]").set_input_files(csv)
    form.get_by_label("Mark all dnc leads as approved", exact=True).check()  # the seed's words for "approved"
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()
    upload = wait_until_finished(TaskLog.objects.get(file_name=csv.name))
    assert upload.state == TaskLog.State.SUCCEEDED, upload.message
    page.reload()  # the finished row, whatever the live updates show meanwhile
    shoot(page, "tasks-logs")
    page.goto(f"{url}/tasks/{upload.pk}/")
    shoot(page, "task")

    page.goto(f"{url}/blacklist/review/")
    rows = page.locator("table.blacklist-table tbody tr")
    for display in ("(415) 555-0100", "(415) 555-0101"):
        rows.filter(has_text=display).locator("input[type=checkbox]").check()
    page.get_by_label("Bulk action").select_option("approve")
    page.get_by_label("Which records").select_option("selected")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Approved 2 numbers.")
    for row in range(2):  # rows chosen, as for a bulk action
        rows.nth(row).locator("input[type=checkbox]").check()
    shoot(page, "review-tab", whole_page_on_phone=False)
    page.goto(f"{url}/blacklist/approved/")
    shoot(page, "approved-tab", whole_page_on_phone=False)

    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    shoot(page, "activity", whole_page_on_phone=False)
    page.goto(f"{url}/activity/history/?phone=%2B14155550100")
    shoot(page, "history")
    page.goto(f"{url}/activity/compliance/")
    shoot(page, "compliance")

    page.goto(f"{url}/blacklist/lists/")
    add_list(page, "Campaign: Solar West", "Door-to-door, west region")
    expect(page.get_by_role("alert")).to_contain_text("Added the list “Campaign: Solar West”.")
    shoot(page, "lists")

    page.goto(f"{url}/registry/")  # two area codes' full lists, one loaded 40 days ago: stale
    for code, days_old in ((201, 3), (212, 40)):
        registry_file = tmp_path / f"{code}-full.zip"
        registry_file.write_bytes(zipped((f"{code}.txt", flat(numbers(code, 2_000)))))
        page.get_by_label("Registry file", exact=True).set_input_files(registry_file)
        page.get_by_label("Full list (replaces its area codes)").check()
        page.get_by_label("Date of the data").fill((timezone.localdate() - timedelta(days=days_old)).isoformat())
        with page.expect_navigation():
            page.get_by_role("button", name="Load").click()
        assert wait_until_finished(TaskLog.objects.get(file_name=registry_file.name)).state == TaskLog.State.SUCCEEDED
        page.goto(f"{url}/registry/")
    expect(page.locator("#area-code-212")).to_contain_text("Stale")
    shoot(page, "registry")

    assert BlacklistedNumber.objects.filter(status=Status.REVIEW).count() == 12
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 42
    assert Event.objects.filter(action=Event.Action.APPROVED).count() == 2
