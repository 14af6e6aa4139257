"""The screenshots in README.md and docs/ are taken here, by using the real app in Chromium as a
person does (hand entry, an upload imported by a real worker, a bulk action), so they show the
pages as they are. Every run checks the journey; `make screenshots` keeps the pictures in
docs/screenshots/ (SCREENSHOTS_DIR), to be committed with the change that altered a page."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1200, "height": 760}  # wide enough for the tables, small enough for small files


@pytest.fixture
def shoot(tmp_path):
    """shoot(page, "name") → saves the visible page as name.png (docs/screenshots/ under `make screenshots`)."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=path, animations="disabled", caret="hide")
        return path

    return save


def test_screenshots_of_the_review_tab_tasks_logs_and_activity(
    logged_in_page, live_server, celery_worker_process, tmp_path, shoot
):
    page = logged_in_page
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{live_server.url}/blacklist/add/")
    typed = [f"(415) 555-{i:04d}" for i in range(100, 112)] + ["+1 212 555 0100 ext 5", "646.555.0199"]
    page.get_by_label("Numbers").fill("\n".join(typed))
    with page.expect_navigation():
        page.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("Added 14 new number(s)")

    csv = tmp_path / "optouts-november.csv"
    csv.write_text("Phone Number\n" + "\n".join(f"212-555-{i:04d}" for i in range(200, 240)) + "\n4.15555E+09\n")
    form = page.locator("#upload-form")
    page.goto(f"{live_server.url}/blacklist/add/")
    form.get_by_label("Choose File").set_input_files(csv)
    form.get_by_label("Mark all dnc leads as approved", exact=True).check()
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()
    row = page.locator("tbody tr", has_text="optouts-november.csv")
    expect(row).to_contain_text("Succeeded", timeout=30_000)
    expect(row).to_contain_text("40 new · 0 raised · 0 unchanged · 0 duplicates · 1 invalid")
    page.set_viewport_size({**VIEWPORT, "height": 400})  # one row: no empty page below it
    tasks_logs = shoot(page, "tasks-logs")
    page.set_viewport_size(VIEWPORT)

    page.goto(f"{live_server.url}/blacklist/review/")
    for display in ("(415) 555-0100", "(415) 555-0101"):
        page.locator("table.blacklist-table tbody tr", has_text=display).get_by_role("checkbox").check()
    page.get_by_label("Bulk action").select_option(label="Approve")
    page.get_by_label("Which records").select_option(label="Selected (2)")
    with page.expect_navigation():
        page.get_by_role("button", name="OK", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Approved 2 numbers.")
    # a row chosen, as for a bulk action
    page.locator("table.blacklist-table tbody tr").first.get_by_role("checkbox").check()
    review_tab = shoot(page, "review-tab")

    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    activity = shoot(page, "activity")

    page.goto(f"{live_server.url}/blacklist/lists/")
    new = page.get_by_role("form", name="New list")
    new.get_by_label("Name of the new list").fill("Campaign: Solar West")
    new.get_by_label("Description of the new list").fill("Door-to-door, west region")
    with page.expect_navigation():
        new.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("Added the list “Campaign: Solar West”.")
    page.set_viewport_size({**VIEWPORT, "height": 560})
    lists = shoot(page, "lists")

    assert all(path.stat().st_size > 10_000 for path in (tasks_logs, review_tab, activity, lists))  # pictures, not blanks
    assert TaskLog.objects.get().state == TaskLog.State.SUCCEEDED
    assert BlacklistedNumber.objects.filter(status=Status.REVIEW).count() == 12
    assert BlacklistedNumber.objects.filter(status=Status.APPROVED).count() == 42
    assert Event.objects.filter(action=Event.Action.APPROVED).count() == 2
