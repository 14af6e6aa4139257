"""The Content-Security-Policy in a real browser: Chromium reports every script, handler or
style it refuses on the console. Every page opened here, with its menus and live progress, reports
none, and the things scripts do (the menu, a confirmation, the progress poll) still work."""

import re

import pytest
from playwright.sync_api import expect

from api import services as api_services
from blacklist import services
from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.browser
PATHS = ["/blacklist/review/", "/blacklist/approved/", "/blacklist/add/", "/blacklist/review/?list=all",
         "/blacklist/lists/", "/tasks/", "/activity/", "/activity/history/?phone=%2B14155550103", "/api/", "/roles/", "/accounts/password_change/",
         "/admin/", "/admin/blacklist/blacklistednumber/"]


@pytest.fixture
def refusals(logged_in_page):
    """What Chromium refused under the policy, as it reports it on the console."""
    refused = []
    logged_in_page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(
        f"{logged_in_page.url}: {message.text}"))
    return refused


def test_no_page_needs_anything_the_policy_refuses(logged_in_page, live_server, refusals, django_user_model):
    admin = django_user_model.objects.get(username="admin")
    default_reason_id()  # the built-in reasons, after an earlier test's flush
    other = Reason.objects.get(slug="other")  # removable: not kept for retention
    BlacklistedNumber.objects.bulk_create([BlacklistedNumber(phone=f"+1415555010{i}", status=status, reason=other)
                                           for i, status in enumerate([Status.REVIEW, Status.APPROVED, Status.PERMANENT,
                                                                       Status.REVIEW])])
    services.remove(BlacklistedNumber.objects.filter(phone="+14155550103"), admin)
    for state in TaskLog.State:
        TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name=f"{state}.csv", created_by=admin, state=state,
                               total=10, processed=4)
    api_services.create_key("Five9", can_check=True, can_add=False, can_approve=False, expires_at=None, user=admin)
    page = logged_in_page

    for path in PATHS:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")

    assert refusals == []


def test_scripts_still_work_under_the_policy(logged_in_page, live_server, refusals, make_numbers):
    make_numbers(Status.REVIEW, reason="other")  # not kept for retention: removable without a justification
    page = logged_in_page
    page.goto(f"{live_server.url}/blacklist/review/")

    page.get_by_role("button", name="Leads & Campaigns").click()  # Bootstrap's dropdown (a static script)
    expect(page.get_by_role("link", name="Blacklists Management")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # blacklist.js asks before an irreversible action
    page.get_by_role("button", name=re.compile("^More actions for ")).first.click()  # Bootstrap's dropdown
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Remove ")).click()

    expect(page.get_by_role("alert")).to_contain_text("1 number")
    assert not BlacklistedNumber.objects.exists()
    assert refusals == []
