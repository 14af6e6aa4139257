"""The Blacklists Management pages: login required, the three tabs, adding numbers by hand."""

import pytest
from django.urls import reverse

from blacklist.models import BlacklistedNumber, Status
from roles.groups import assign

pytestmark = pytest.mark.django_db

TAB_NAMES = ["Add Blacklisted Leads", "Blacklisted Leads for Review", "Blacklisted Leads"]


@pytest.mark.parametrize("url_name", ["blacklist:add", "blacklist:review", "blacklist:approved", "tasks_logs:list", "home"])
def test_anonymous_users_are_sent_to_log_in(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_login_page_is_open_and_logging_in_lands_on_blacklists_management(client, django_user_model):
    agent = django_user_model.objects.create_user("agent", password="s3cret-pass-word")
    assign(agent, "Reviewer")  # a role that sees all three tabs
    assert client.get(reverse("login")).status_code == 200

    response = client.post(reverse("login"), {"username": "agent", "password": "s3cret-pass-word"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("blacklist:review")
    page = response.content.decode()
    for label in ["Leads &amp; Campaigns", "Blacklists Management", "Tasks Logs", *TAB_NAMES]:
        assert label in page


def test_wrong_password_is_refused(client, django_user_model):
    django_user_model.objects.create_user("agent", password="s3cret-pass-word")
    response = client.post(reverse("login"), {"username": "agent", "password": "nope"})
    assert "didn't match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_review_tab_lists_review_numbers_only(admin_client, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED)
    page = admin_client.get(reverse("blacklist:review")).content.decode()
    assert "(415) 555-0100" in page and 'title="+14155550100"' in page
    assert "(415) 555-0101" not in page


def test_blacklisted_tab_lists_approved_and_permanent_with_a_lock_badge(admin_client, make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    page = admin_client.get(reverse("blacklist:approved")).content.decode()
    assert "(415) 555-0100" not in page
    assert "(415) 555-0101" in page and "(415) 555-0102" in page
    assert "Permanently approved" in page


def test_adding_numbers_by_hand_normalizes_and_merges(admin_client, make_numbers):
    (existing,) = make_numbers(Status.REVIEW)
    data = {"numbers": "+1 (415) 555-0100\n\n212.555.1234\n212-555-1234\n", "approve": "on"}

    response = admin_client.post(reverse("blacklist:add"), data, follow=True)

    assert "Added 1 new number(s); raised the status of 1; 0 already listed" in response.content.decode()
    assert dict(BlacklistedNumber.objects.values_list("phone", "status")) == {
        existing.phone: Status.APPROVED,
        "+12125551234": Status.APPROVED,
    }


def test_permanent_checkbox_wins_over_approved(admin_client):
    admin_client.post(reverse("blacklist:add"), {"numbers": "212 555 1234", "approve": "on", "approve_permanently": "on",
                                                 "confirmed": "on"})
    assert BlacklistedNumber.objects.get().status == Status.PERMANENT


def test_hand_entry_with_a_bad_line_adds_nothing_and_names_the_line(admin_client):
    response = admin_client.post(reverse("blacklist:add"), {"numbers": "212 555 1234\n12345\nCALL ME"})

    page = response.content.decode()
    assert "Nothing was added." in page
    assert "Line 2 (12345): too short." in page
    assert "Line 3 (CALL ME): contains letters." in page
    assert not BlacklistedNumber.objects.exists()


def test_hand_entry_is_limited_to_a_thousand_numbers(admin_client):
    numbers = "\n".join(f"+1212555{i:04d}" for i in range(1001))
    response = admin_client.post(reverse("blacklist:add"), {"numbers": numbers})
    assert "1,001 numbers given; at most 1,000 at a time." in response.content.decode()
    assert not BlacklistedNumber.objects.exists()


def test_empty_hand_entry_is_refused(admin_client):
    response = admin_client.post(reverse("blacklist:add"), {"numbers": "  \n"})
    assert "This field is required." in response.content.decode()


def test_tab_pages_refuse_post(admin_client):
    assert admin_client.post(reverse("blacklist:review")).status_code == 405
