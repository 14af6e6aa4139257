"""Giving a request's details in a real browser: an upload with a reason, a channel, an old
received date and a note for the whole file, imported by a real worker; hand entry refusing a
received date in the future, keeping what was typed."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from blacklist.deadlines import honour_by_day
from blacklist.models import BlacklistedNumber
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.browser


@pytest.mark.worker
def test_an_upload_gives_its_request_details_to_every_number_it_adds(
    logged_in_page, live_server, celery_worker_process, tmp_path
):
    page = logged_in_page
    received = timezone.localdate() - datetime.timedelta(days=30)
    path = tmp_path / "letters.csv"
    path.write_text("phone\n(415) 555-0170\n415.555.0171\n")
    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    expect(form.get_by_label("Channel")).to_have_value("upload")  # the upload's own default
    form.get_by_label("Choose File").set_input_files(path)
    form.get_by_label("Reason").select_option(label="Consent revoked")
    form.get_by_label("Channel").select_option(label="Letter")
    form.get_by_label("Request received (date)").fill(received.isoformat())
    form.get_by_label("Note").fill("<i>Scanned</i> letters of the week")
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()

    expect(page.locator("tbody tr", has_text="letters.csv")).to_contain_text("Succeeded", timeout=30_000)
    assert TaskLog.objects.get().new == 2
    numbers = BlacklistedNumber.objects.order_by("phone")
    assert [(n.reason.name, n.channel, timezone.localdate(n.received_at), n.deadline, n.note, n.source_line)
            for n in numbers] == [
        ("Consent revoked", "letter", received, honour_by_day(received), "<i>Scanned</i> letters of the week", line)
        for line in (2, 3)]


def test_hand_entry_refuses_a_request_received_in_the_future_and_keeps_what_was_typed(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("form", has=page.get_by_role("button", name="Add numbers"))
    expect(form.get_by_label("Channel")).to_have_value("phone")  # hand entry's default
    form.get_by_label("Numbers").fill("(415) 555-0180")
    form.get_by_label("Request received").fill((timezone.localtime() + datetime.timedelta(days=2))
                                               .strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Note").fill("<script>window.hacked = 1</script>")
    with page.expect_navigation():
        form.get_by_role("button", name="Add numbers").click()

    form = page.locator("form", has=page.get_by_role("button", name="Add numbers"))
    expect(form).to_contain_text("“Received” is in the future")
    expect(form.get_by_label("Numbers")).to_have_value("(415) 555-0180")
    expect(form.get_by_label("Note")).to_have_value("<script>window.hacked = 1</script>")
    assert page.evaluate("window.hacked") is None
    assert not BlacklistedNumber.objects.exists()
