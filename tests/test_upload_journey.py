"""Uploading a CSV file in a real browser, imported by a real worker process, followed live on
Tasks Logs, then found on the tab its status choice sent it to."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber
from tasks_logs.models import MergeProgress, TaskLog

pytestmark = pytest.mark.browser


def upload(page, live_server, tmp_path, name, content, *choices):
    path = tmp_path / name
    path.write_text(content)
    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    form.get_by_label("Choose File").set_input_files(path)
    for label in choices:
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
    row = task_row(page, "approved.csv")
    expect(row).to_contain_text("into Internal, as approved")
    expect(row).to_contain_text("100% (3/3)", timeout=30_000)
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("2 new · 0 raised · 0 unchanged · 0 duplicates · 1 invalid")
    # The message that announced the job ("… 3 rows queued …") now says how it ended.
    expect(page.get_by_role("alert")).to_have_text(
        "approved.csv: done. 2 new · 0 raised · 0 unchanged · 0 duplicates · 1 invalid.")

    page.get_by_role("button", name="Leads & Campaigns").click()
    page.get_by_role("link", name="Blacklists Management").click()
    page.get_by_role("link", name="Blacklisted Leads", exact=True).click()
    expect(page.locator("tbody tr", has_text="(415) 555-0170")).to_contain_text("Approved")
    expect(page.locator("tbody tr", has_text="(415) 555-0171")).to_contain_text("Approved")


@pytest.mark.worker
def test_upload_for_review_sends_the_numbers_for_review(logged_in_page, live_server, celery_worker_process, tmp_path):
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


@pytest.mark.worker
def test_adding_permanently_asks_first_then_imports_and_shows_these_numbers(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    upload(page, live_server, tmp_path, "forever.csv", "2125550180\n2125550181\n",
           "Mark all dnc leads as approved permanently")

    expect(page.get_by_role("heading", name="Add the 2 rows of forever.csv to “Internal” as approved permanently?"))\
        .to_be_visible()
    expect(page.get_by_text("They can never be unapproved or removed.")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, add permanently")).to_have_class("btn btn-dark")
    assert TaskLog.objects.get().state == TaskLog.State.AWAITING  # stored, no worker takes it
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, add permanently").click()

    row = task_row(page, "forever.csv")
    expect(row).to_contain_text("into Internal, as approved permanently")
    expect(row).to_contain_text("Succeeded", timeout=30_000)
    expect(page.get_by_role("alert")).to_contain_text("forever.csv: done. 2 new")
    row.get_by_role("link", name="Import blacklist forever.csv").click()
    page.get_by_role("link", name="Show these numbers").click()

    expect(page).to_have_url(re.compile(r"/blacklist/approved/\?source=\d+&list=\d+$"))
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody tr", has_text="(212) 555-0180")).to_contain_text("Permanently approved")


def test_cancelling_a_permanent_upload_or_hand_entry_adds_nothing(logged_in_page, live_server, tmp_path):
    page = logged_in_page
    upload(page, live_server, tmp_path, "oops.csv", "2125550190\n", "Mark all dnc leads as approved permanently")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("oops.csv was not added; the uploaded file was deleted.")
    assert not TaskLog.objects.exists()

    page.get_by_label("Numbers").fill("212 555 0191\n212 555 0192")
    page.locator("form", has=page.get_by_label("Numbers")).get_by_label(
        "Mark all dnc leads as approved permanently").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("heading", name="Add the 2 numbers you typed to “Internal” as approved permanently?"))\
        .to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("Numbers")).to_have_value("212 555 0191\n212 555 0192")  # nothing to type again
    assert not BlacklistedNumber.objects.exists()


def test_a_running_import_shows_its_phase_and_its_bar_moves_through_the_merge(logged_in_page, live_server):
    running = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="phases.csv", state=TaskLog.State.RUNNING,
                                     phase=TaskLog.Phase.CHECKING, total=50_000, processed=30_000,
                                     started_at=timezone.now())
    page = logged_in_page
    page.goto(f"{live_server.url}/tasks/")
    row = task_row(page, "phases.csv")
    expect(row).to_contain_text("Checking numbers · 39%")

    TaskLog.objects.filter(pk=running.pk).update(phase=TaskLog.Phase.MERGING, processed=50_000)
    MergeProgress.objects.create(task_log=running, merged=25_000, total=50_000)
    expect(row).to_contain_text("Merging into the list · 82%")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "82")
