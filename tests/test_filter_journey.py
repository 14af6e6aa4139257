"""Filtering in a real browser with the forms rendered from the FilterSets: two uploads imported by
a real worker process, then the review tab filtered by one of them and a date, Tasks Logs by kind,
user and state, Activity by user and number; the query strings keep their names, and Chromium
refuses nothing under the Content-Security-Policy."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber
from tasks_logs.models import TaskLog
from tests.test_upload_journey import task_row, upload

pytestmark = pytest.mark.browser


@pytest.mark.worker
def test_filter_a_tab_tasks_logs_and_activity_by_an_upload_a_date_and_a_user(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    upload(page, live_server, tmp_path, "first.csv", "4155550180\n4155550181\n")
    expect(task_row(page, "first.csv")).to_contain_text("Succeeded", timeout=30_000)
    upload(page, live_server, tmp_path, "second.csv", "4155550182\n")
    expect(task_row(page, "second.csv")).to_contain_text("Succeeded", timeout=30_000)
    first = TaskLog.objects.get(file_name="first.csv")
    today = timezone.localdate().isoformat()

    page.goto(f"{live_server.url}/blacklist/review/")
    filters = page.get_by_role("form", name="Filter")
    filters.get_by_label("Source upload").select_option(label=f"first.csv (#{first.pk}, {today})")
    filters.get_by_label("Added from").fill(today)
    with page.expect_navigation():
        filters.get_by_role("button", name="Filter").click()

    assert f"source={first.pk}" in page.url and f"added_after={today}" in page.url  # the names links keep
    rows = page.locator("table.blacklist-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="(415) 555-0182")).to_have_count(0)
    expect(filters.get_by_label("Source upload")).to_have_value(str(first.pk))
    expect(filters.get_by_label("Added from")).to_have_value(today)
    expect(page.get_by_label("Which records")).to_contain_text("All 2 records matching the filter")
    assert set(BlacklistedNumber.objects.filter(source_task=first).values_list("phone", flat=True)) == {
        "+14155550180", "+14155550181"}

    page.goto(f"{live_server.url}/tasks/")
    page.get_by_label("Kind").select_option(label="Import blacklist")
    page.get_by_label("User").select_option(label="admin")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("State").select_option(label="Failed")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody")).to_contain_text("No tasks yet.")
    assert re.search(r"kind=import&state=failed&created_by=\d+", page.url)

    page.goto(f"{live_server.url}/activity/")
    filters = page.get_by_role("form", name="Filter")
    filters.get_by_label("By").select_option(label="admin")
    filters.get_by_label("Number").fill("415 555 018")
    filters.get_by_label("From").fill(today)
    with page.expect_navigation():
        filters.get_by_role("button", name="Filter").click()
    expect(page.locator("table.events-table tbody tr")).to_have_count(3)
    expect(filters.get_by_label("Number")).to_have_value("415 555 018")

    page.goto(f"{live_server.url}/blacklist/review/?added_after=soon&source={first.pk}")  # a hand-edited link
    expect(page.get_by_text("The filter is not valid, so nothing is shown")).to_contain_text(
        "Added between: Enter a valid date.")
    expect(page.get_by_role("form", name="Filter").get_by_label("Added from")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("table.blacklist-table tbody tr", has_text="(415) 555-0180")).to_have_count(0)
    assert refused == []
