"""Uploading a CSV file in a real browser, imported by a real worker process, followed live on
Tasks Logs, then found on the tab its checkbox sent it to."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tasks_logs.models import TaskLog

pytestmark = pytest.mark.browser


def upload(page, live_server, tmp_path, name, content, *checkboxes):
    path = tmp_path / name
    path.write_text(content)
    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    form.get_by_label("Choose File").set_input_files(path)
    for label in checkboxes:
        form.get_by_label(label, exact=True).check()
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()


def task_row(page, name):
    return page.locator("tbody tr", has_text=name)


@pytest.mark.worker
def test_upload_approved_numbers_follow_progress_and_find_them_on_blacklisted_leads(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    upload(page, live_server, tmp_path, "approved.csv", "Phone Number\n(415) 555-0170\n415.555.0171\nnot a number\n",
           "Mark all dnc leads as approved")

    expect(page.get_by_role("heading", name="Tasks Logs")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("approved.csv: 3 rows queued for import into “Internal”.")
    row = task_row(page, "approved.csv")
    expect(row).to_contain_text("100% (3/3)", timeout=30_000)
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("2 new · 0 raised · 0 unchanged · 0 duplicates · 1 invalid")

    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="Blacklists Management").click()
    page.get_by_role("link", name="Blacklisted Leads", exact=True).click()
    expect(page.locator("tbody tr", has_text="(415) 555-0170")).to_contain_text("Approved")
    expect(page.locator("tbody tr", has_text="(415) 555-0171")).to_contain_text("Approved")


@pytest.mark.worker
def test_upload_without_a_checkbox_sends_the_numbers_for_review(logged_in_page, live_server, celery_worker_process, tmp_path):
    page = logged_in_page
    upload(page, live_server, tmp_path, "review.csv", "2125550172\n")

    expect(task_row(page, "review.csv")).to_contain_text("Succeeded", timeout=30_000)
    task_row(page, "review.csv").get_by_role("link", name="Import blacklist review.csv").click()
    expect(page.get_by_role("heading", name="Import blacklist: review.csv")).to_be_visible()

    page.goto(f"{live_server.url}/blacklist/review/")
    expect(page.locator("tbody tr", has_text="(212) 555-0172")).to_be_visible()
    page.goto(f"{live_server.url}/blacklist/approved/")
    expect(page.locator("tbody tr", has_text="(212) 555-0172")).to_have_count(0)


def test_a_bad_file_is_refused_on_the_add_tab(logged_in_page, live_server, tmp_path):
    page = logged_in_page
    upload(page, live_server, tmp_path, "two-columns.csv", "4155550100,Jane\n")

    expect(page).to_have_url(re.compile(r"/blacklist/add/$"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Line 1 has 2 values (4155550100, Jane): the file must have one column of phone numbers.")
    assert not TaskLog.objects.exists()


def test_running_rows_update_in_place_without_a_page_reload(logged_in_page, live_server):
    running = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="live.csv", state=TaskLog.State.RUNNING,
                                     total=50_000, processed=5_000, started_at=timezone.now())
    page = logged_in_page
    page.goto(f"{live_server.url}/tasks/")
    row = task_row(page, "live.csv")
    expect(row).to_contain_text("10% (5,000/50,000)")
    page.evaluate("window.notReloaded = true")

    TaskLog.objects.filter(pk=running.pk).update(processed=35_000)
    expect(row).to_contain_text("70% (35,000/50,000)")
    TaskLog.objects.filter(pk=running.pk).update(processed=50_000, state=TaskLog.State.SUCCEEDED,
                                                 finished_at=timezone.now())
    expect(row).to_contain_text("100% (50,000/50,000)")
    expect(row).to_contain_text("Succeeded")

    assert page.evaluate("window.notReloaded") is True
