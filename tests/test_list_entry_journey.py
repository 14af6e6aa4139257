"""A Manager, in a real browser, uploads a file into a chosen list (imported by a real worker)
and types a prefix block by hand, then finds it on the tab with its badge and coverage."""

import pytest
from playwright.sync_api import expect

from blacklist.models import BlacklistedNumber, DncList, Status
from tests.helpers import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def manager_page(page, live_server, make_user):
    make_user("Manager", "maria")
    log_in(page, live_server.url, "maria", "pass-pass-123")
    return page


@pytest.mark.worker
def test_a_manager_uploads_into_a_list_and_adds_a_prefix_block_seen_with_its_badge(
    manager_page, live_server, celery_worker_process, tmp_path
):
    page = manager_page
    solar = DncList.objects.create(name="Campaign: Solar West")
    DncList.objects.create(name="Client: Gone", archived_at=solar.created_at)
    path = tmp_path / "solar.csv"
    path.write_text("phone\n(201) 555-0100\n201.555.0101\n(646) 555-0102\n")

    page.goto(f"{live_server.url}/blacklist/add/")
    form = page.locator("#upload-form")
    expect(form.get_by_label("List")).to_have_value(str(DncList.objects.get(kind=DncList.Kind.INTERNAL).pk))
    expect(form.get_by_label("List").locator("option")).to_have_text(["Internal", "Campaign: Solar West"])
    form.get_by_label("List").select_option(label="Campaign: Solar West")
    form.get_by_label("Choose File").set_input_files(path)
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()

    row = page.locator("tbody tr", has_text="solar.csv")
    expect(row).to_contain_text("into Campaign: Solar West")
    expect(row).to_contain_text("3 new", timeout=30_000)
    # The message said "solar.csv: 3 rows queued for import into “Campaign: Solar West”." (the
    # client test says so); once the job has finished it says the result.
    expect(page.get_by_role("alert")).to_contain_text("solar.csv: done. 3 new")

    page.goto(f"{live_server.url}/blacklist/add/?list={solar.pk}")  # the list chosen above the tabs
    hand = page.locator("form", has=page.get_by_label("Numbers"))
    expect(hand.get_by_label("List")).to_have_value(str(solar.pk))
    page.get_by_label("Numbers").fill("+1 201*")
    with page.expect_navigation():
        hand.get_by_role("button", name="Add numbers").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Added 1 new number(s); raised the status of 0; 0 already listed were left as they were,"
        " on the list “Campaign: Solar West”.")
    page.goto(f"{live_server.url}/blacklist/review/?list={solar.pk}")
    prefix_row = page.locator("table.blacklist-table tbody tr", has_text="+1 201…")
    expect(prefix_row.locator(".badge", has_text="prefix")).to_be_visible()
    expect(prefix_row).to_contain_text("covers 2 listed numbers")
    expect(page.locator("table.blacklist-table tbody tr", has_text="(201) 555-0100").locator(".badge")).to_have_count(0)
    assert dict(BlacklistedNumber.objects.filter(dnc_list=solar).values_list("phone", "status")) == {
        "+12015550100": Status.REVIEW, "+12015550101": Status.REVIEW, "+16465550102": Status.REVIEW,
        "+1201*": Status.REVIEW}
