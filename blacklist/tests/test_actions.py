"""Per-row and page-bottom bulk actions on the two list tabs."""

import pytest
from django.urls import reverse

from blacklist import services
from blacklist.models import BlacklistedNumber, Status, internal_list_id
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db


def statuses():
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def row_action(client, tab, number, action, follow=False, **data):
    url = reverse("blacklist:row_action", args=[tab, action])
    return client.post(url, {"pk": number.pk, **data}, follow=follow)


def bulk(client, tab, follow=True, **data):
    return client.post(reverse("blacklist:bulk_action", args=[tab]), data, follow=follow)


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def fill(count, status, prefix="+1212"):
    BlacklistedNumber.objects.bulk_create(
        BlacklistedNumber(phone=f"{prefix}{i:07d}", status=status) for i in range(count)
    )


# Per-row actions


@pytest.mark.parametrize("tab, start, action, end, message", [
    ("review", Status.REVIEW, "approve", Status.APPROVED, "Approved 1 number."),
    ("review", Status.REVIEW, "approve_permanently", Status.PERMANENT, "Permanently approved 1 number."),
    ("approved", Status.APPROVED, "unapprove", Status.REVIEW, "Unapproved 1 number: they are back for review."),
    ("approved", Status.APPROVED, "approve_permanently", Status.PERMANENT, "Permanently approved 1 number."),
])
def test_row_action_changes_the_number_and_returns_to_the_same_page(admin_client, make_numbers, tab, start,
                                                                    action, end, message):
    (number,) = make_numbers(start)
    query = "phone=415&sort=phone&page=2"

    response = row_action(admin_client, tab, number, action, query=query)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse(f'blacklist:{tab}')}?{query}"
    assert page_messages(admin_client.get(response["Location"])) == [message]
    number.refresh_from_db()
    assert number.status == end


@pytest.mark.parametrize("tab, status", [("review", Status.REVIEW), ("approved", Status.APPROVED)])
def test_row_remove_deletes_the_number(admin_client, make_numbers, tab, status):
    (number,) = make_numbers(status, reason="other")  # not kept for retention (test_retention.py)
    response = row_action(admin_client, tab, number, "remove", follow=True)
    assert page_messages(response) == ["Removed 1 number from the blacklist."]
    assert not BlacklistedNumber.objects.exists()


@pytest.mark.parametrize("action", ["remove", "unapprove", "approve_permanently"])
def test_row_actions_never_touch_a_permanent_number(admin_client, make_numbers, action):
    (permanent,) = make_numbers(Status.PERMANENT)

    response = row_action(admin_client, "approved", permanent, action, follow=True)

    assert "0 numbers" in page_messages(response)[0]
    assert "permanently approved number was skipped" in page_messages(response)[0]
    assert statuses() == {permanent.phone: Status.PERMANENT}


def test_permanent_rows_offer_no_action_buttons(admin_client, make_numbers):
    make_numbers(Status.PERMANENT)
    page = admin_client.get(reverse("blacklist:approved")).content.decode()
    assert "Permanently approved" in page
    assert "locked" in page and 'aria-label="Remove ' not in page and 'aria-label="Unapprove ' not in page


def test_row_action_for_a_number_on_another_tab_changes_nothing(admin_client, make_numbers):
    (approved,) = make_numbers(Status.APPROVED)
    response = row_action(admin_client, "review", approved, "remove", follow=True)
    assert page_messages(response) == ["That number is no longer on this tab. Nothing was changed."]
    assert BlacklistedNumber.objects.filter(pk=approved.pk).exists()


def test_row_action_the_tab_does_not_offer_is_not_found(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    assert row_action(admin_client, "review", review, "unapprove").status_code == 404
    assert row_action(admin_client, "nowhere", review, "remove").status_code == 404
    assert admin_client.post(reverse("blacklist:row_action", args=["review", "remove"]), {"pk": "x"}).status_code == 404
    assert statuses() == {review.phone: Status.REVIEW}


def test_actions_refuse_get(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    assert admin_client.get(reverse("blacklist:row_action", args=["review", "remove"])).status_code == 405
    assert admin_client.get(reverse("blacklist:bulk_action", args=["review"])).status_code == 405
    assert BlacklistedNumber.objects.exists()


def test_actions_refuse_anonymous_users(client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    response = row_action(client, "review", review, "remove")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = bulk(client, "review", follow=False, action="remove", scope="all", confirmed="on")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert BlacklistedNumber.objects.exists()


def test_actions_require_the_csrf_token(make_numbers, admin_user):
    from django.test import Client

    (review,) = make_numbers(Status.REVIEW)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert row_action(client, "review", review, "remove").status_code == 403
    assert BlacklistedNumber.objects.exists()


# Bulk actions


def test_bulk_approve_selected(admin_client, make_numbers):
    first, second, third = make_numbers(Status.REVIEW, Status.REVIEW, Status.REVIEW)

    response = bulk(admin_client, "review", action="approve", scope="selected", ids=[first.pk, second.pk])

    assert page_messages(response) == ["Approved 2 numbers."]
    assert statuses() == {first.phone: Status.APPROVED, second.phone: Status.APPROVED, third.phone: Status.REVIEW}


def test_bulk_unapprove_this_page_skips_and_counts_permanent(admin_client, make_numbers):
    approved, permanent, other = make_numbers(Status.APPROVED, Status.PERMANENT, Status.APPROVED)

    response = bulk(admin_client, "approved", action="unapprove", scope="page", page_ids=[approved.pk, permanent.pk])

    assert page_messages(response) == ["Unapproved 1 number: they are back for review. "
                                       "1 permanently approved number was skipped."]
    assert statuses() == {approved.phone: Status.REVIEW, permanent.phone: Status.PERMANENT, other.phone: Status.APPROVED}


def test_bulk_with_nothing_selected_warns_and_changes_nothing(admin_client, make_numbers):
    make_numbers(Status.REVIEW)
    before = statuses()
    response = bulk(admin_client, "review", action="approve", scope="selected")
    assert page_messages(response) == [
        "Tick the numbers to act on, or choose another set of records. Nothing was changed."]
    assert statuses() == before


def test_bulk_without_an_action_warns(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    response = bulk(admin_client, "review", action="", scope="selected", ids=[review.pk])
    assert page_messages(response) == ["Choose an action and which records. Nothing was changed."]


def test_bulk_action_the_tab_does_not_offer_is_refused(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    bulk(admin_client, "review", action="unapprove", scope="selected", ids=[review.pk])
    assert statuses() == {review.phone: Status.REVIEW}


def test_bulk_acts_only_within_the_tab_on_screen(admin_client, make_numbers):
    review, approved = make_numbers(Status.REVIEW, Status.APPROVED)
    bulk(admin_client, "review", action="approve_permanently", scope="selected", ids=[review.pk, approved.pk],
         confirmed="on")
    assert statuses() == {review.phone: Status.PERMANENT, approved.phone: Status.APPROVED}


def test_bulk_delete_asks_first_with_the_exact_count_and_lists_no_rows(admin_client, make_numbers):
    numbers = make_numbers(Status.APPROVED, Status.APPROVED, Status.PERMANENT)

    response = bulk(admin_client, "approved", action="remove", scope="all", query="")

    page = response.content.decode()
    assert "Remove 3 numbers from the blacklist?" in page
    assert "Yes, remove 3 numbers" in page and "btn btn-danger" in page
    assert "1 permanently approved number will be skipped." in page
    assert numbers[0].phone not in page
    assert BlacklistedNumber.objects.count() == 3


def test_confirmed_bulk_delete_of_all_matching_the_filter(admin_client, make_numbers):
    make_numbers(Status.APPROVED, Status.APPROVED, Status.PERMANENT, reason="other")
    fill(3, Status.APPROVED)  # +1212…: outside the filter

    response = bulk(admin_client, "approved", action="remove", scope="all", query="phone=415555&sort=phone",
                    confirmed="on")

    assert page_messages(response) == [
        "Removed 2 numbers from the blacklist. 1 permanently approved number was skipped."]
    assert response.redirect_chain[-1][0] == reverse("blacklist:approved") + "?phone=415555&sort=phone"
    assert sorted(statuses()) == ["+12120000000", "+12120000001", "+12120000002", "+14155550102"]


def test_approve_permanently_asks_first(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    response = bulk(admin_client, "review", action="approve_permanently", scope="selected", ids=[review.pk])
    page = response.content.decode()
    assert f'Approve <span class="phone" title="{review.phone}">{review.display_phone}</span> permanently?' in page
    assert "Yes, approve 1 number permanently" in page and "btn btn-dark" in page
    assert statuses() == {review.phone: Status.REVIEW}


def test_large_approvals_ask_first(admin_client):
    fill(1001, Status.REVIEW)
    response = bulk(admin_client, "review", action="approve", scope="all", query="")
    assert "Approve 1,001 numbers?" in response.content.decode()
    assert not BlacklistedNumber.objects.approved().exists()
    response = bulk(admin_client, "review", action="approve", scope="all", query="", confirmed="on")
    assert page_messages(response) == ["Approved 1,001 numbers."]


def test_all_matching_a_filter_that_matches_nothing(admin_client, make_numbers):
    make_numbers(Status.REVIEW)
    response = bulk(admin_client, "review", action="approve", scope="all", query="phone=999")
    assert page_messages(response) == ["Approved 0 numbers."]
    assert not BlacklistedNumber.objects.approved().exists()


def test_all_matching_an_invalid_filter_changes_nothing(admin_client, make_numbers):
    make_numbers(Status.REVIEW, Status.REVIEW)
    response = bulk(admin_client, "review", action="remove", scope="all", query="added_after=not-a-date",
                    confirmed="on")
    assert page_messages(response) == ["The filter is not valid, so no records match it. Nothing was changed."]
    assert BlacklistedNumber.objects.count() == 2


def test_over_ten_thousand_matching_runs_as_a_background_task(admin_client, django_capture_on_commit_callbacks):
    fill(10_001, Status.REVIEW)
    fill(2, Status.APPROVED, prefix="+1415")

    with django_capture_on_commit_callbacks() as callbacks:
        response = bulk(admin_client, "review", action="approve", scope="all", query="", confirmed="on",
                        follow=False)

    assert response["Location"] == reverse("tasks_logs:list")
    task_log = TaskLog.objects.get()
    assert (task_log.kind, task_log.state, task_log.params) == (
        TaskLog.Kind.BULK_APPROVE, TaskLog.State.QUEUED,
        {"tab": "review", "action": "approve", "query": "", "list": internal_list_id()})
    assert len(callbacks) == 1  # the Celery message, sent only once the TaskLog is committed
    assert not BlacklistedNumber.objects.approved().filter(phone__startswith="+1212").exists()

    services.run_bulk_action(task_log)

    task_log.refresh_from_db()
    assert (task_log.state, task_log.changed, task_log.skipped, task_log.processed) == (
        TaskLog.State.SUCCEEDED, 10_001, 0, 10_001)
    assert BlacklistedNumber.objects.for_review().count() == 0


def test_a_redelivered_bulk_task_changes_nothing_more(admin_user, make_numbers):
    make_numbers(Status.APPROVED, Status.PERMANENT)
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.BULK_UNAPPROVE, created_by=admin_user,
                                      params={"tab": "approved", "action": "unapprove", "query": ""})

    services.run_bulk_action(task_log)
    services.run_bulk_action(task_log)

    task_log.refresh_from_db()
    assert (task_log.state, task_log.changed, task_log.skipped) == (TaskLog.State.SUCCEEDED, 1, 1)
    assert task_log.message == "1 permanently approved number was skipped."
    assert sorted(statuses().values()) == [Status.REVIEW, Status.PERMANENT]


def test_a_bulk_task_with_a_broken_filter_fails_cleanly(admin_user, make_numbers):
    make_numbers(Status.APPROVED)
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.BULK_REMOVE, created_by=admin_user,
                                      params={"tab": "approved", "action": "remove", "query": "added_after=x"})
    services.run_bulk_action(task_log)
    task_log.refresh_from_db()
    assert (task_log.state, task_log.message) == (TaskLog.State.FAILED, "The filter is not valid. Nothing was changed.")
    assert BlacklistedNumber.objects.count() == 1
