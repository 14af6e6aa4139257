"""Every path that changes a number writes one event per changed number, with its actor and
source, set-based in the same transaction: hand entry, upload (import), API, row and bulk
actions, the background bulk task, the Django admin."""

import io

import pytest
from django.db import transaction
from django.urls import reverse

from api import services as api_services
from audit.events import Source
from audit.models import Event
from blacklist import csv_files, services
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db
A, R, P = Event.Action, Status.REVIEW, Status.PERMANENT


def events(**filters):
    """(phone, action, from, to, actor, via) of the events, oldest first."""
    return list(Event.objects.filter(**filters).order_by("id").values_list(
        "phone", "action", "from_status", "to_status", "actor", "via"))


def test_hand_entry_records_added_and_raised_numbers_by_the_user(admin_client, make_numbers):
    make_numbers(Status.REVIEW, Status.PERMANENT)  # +14155550100, +14155550101
    data = {"numbers": "415 555 0100\n415 555 0101\n415 555 0199", "approve": "on"}
    admin_client.post(reverse("blacklist:add"), data)

    assert sorted(events()) == [
        ("+14155550100", A.RAISED, R, Status.APPROVED, "admin", Event.Via.HAND),
        ("+14155550199", A.ADDED, None, Status.APPROVED, "admin", Event.Via.HAND),
    ]  # the permanent number was left alone: no event
    assert Event.objects.filter(user__username="admin").count() == 2


def test_an_upload_records_its_task_on_each_event(admin_user, make_numbers):
    make_numbers(Status.REVIEW)
    upload = csv_files.read_csv("leads.csv", io.BytesIO(b"phone\n4155550100\n4155550177\n"))
    task_log = services.import_numbers(services.save_upload(upload, Status.APPROVED, admin_user))

    assert events(task=task_log) == [
        ("+14155550177", A.ADDED, None, Status.APPROVED, "admin", Event.Via.UPLOAD),
        ("+14155550100", A.RAISED, R, Status.APPROVED, "admin", Event.Via.UPLOAD),
    ]


def test_api_additions_name_the_key_as_the_actor(client, admin_user):
    key, secret = api_services.create_key("Five9", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                          expires_at=None)
    response = client.post(reverse("api:add_numbers"), ["+14155550142"], content_type="application/json",
                           headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.action, event.to_status, event.via, event.api_key_id, event.user_id) == (
        A.ADDED, R, Event.Via.API, key.pk, None)
    assert event.actor == f"API key “Five9” (#{key.pk})"


def test_row_action_records_the_change_and_the_user(admin_client, make_numbers):
    number, = make_numbers(Status.REVIEW)
    admin_client.post(reverse("blacklist:row_action", args=["review", "approve"]), {"pk": number.pk})

    assert events() == [(number.phone, A.APPROVED, R, Status.APPROVED, "admin", Event.Via.ROW)]


def test_bulk_approve_permanently_records_each_numbers_previous_status(admin_client, make_numbers):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    data = {"action": "approve_permanently", "scope": "selected", "ids": [approved.pk, permanent.pk],
            "confirmed": "on"}
    admin_client.post(reverse("blacklist:bulk_action", args=["approved"]), data)

    assert events() == [(approved.phone, A.APPROVED_PERMANENTLY, Status.APPROVED, P, "admin", Event.Via.BULK)]


def test_bulk_remove_records_numbers_that_no_longer_exist(admin_client, make_numbers):
    first, second = make_numbers(Status.REVIEW, Status.REVIEW, reason="other")
    data = {"action": "remove", "scope": "page", "page_ids": [first.pk, second.pk], "confirmed": "on"}
    admin_client.post(reverse("blacklist:bulk_action", args=["review"]), data)

    assert not BlacklistedNumber.objects.exists()
    assert events() == [(first.phone, A.REMOVED, R, None, "admin", Event.Via.BULK),
                        (second.phone, A.REMOVED, R, None, "admin", Event.Via.BULK)]


def test_the_background_bulk_task_records_its_task_and_whoever_started_it(admin_user, make_numbers):
    make_numbers(Status.APPROVED, Status.APPROVED, Status.PERMANENT)
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.BULK_UNAPPROVE, created_by=admin_user,
                                      params={"tab": "approved", "action": "unapprove", "query": ""})
    services.run_bulk_action(task_log)

    assert Event.objects.filter(task=task_log, via=Event.Via.BULK_TASK, actor="admin", action=A.UNAPPROVED,
                                from_status=Status.APPROVED, to_status=R).count() == 2
    assert Event.objects.count() == 2


def test_admin_actions_record_the_admin_as_source(admin_client, make_numbers):
    number, = make_numbers(Status.REVIEW, reason="other")
    data = {"action": "remove", "_selected_action": [number.pk]}
    admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), data)

    assert events() == [(number.phone, A.REMOVED, R, None, "admin", Event.Via.ADMIN)]


def test_services_called_without_a_source_still_record_events(make_numbers):
    number, = make_numbers(Status.REVIEW)
    services.approve(BlacklistedNumber.objects.all())

    assert events() == [(number.phone, A.APPROVED, R, Status.APPROVED, "system", Event.Via.OTHER)]


def test_no_change_no_event(admin_user, make_numbers):
    make_numbers(Status.APPROVED, Status.PERMANENT)
    services.approve(BlacklistedNumber.objects.all(), admin_user, Source(Event.Via.BULK))
    services.remove(BlacklistedNumber.objects.none(), admin_user)
    services.add_numbers(["+14155550100"], Status.REVIEW, admin_user)  # already listed higher

    assert not Event.objects.exists()


def test_a_change_that_fails_leaves_no_event(make_numbers):
    make_numbers(Status.REVIEW)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.approve(BlacklistedNumber.objects.all())
        raise RuntimeError("the caller's transaction fails later")

    assert not Event.objects.exists()
    assert BlacklistedNumber.objects.get().status == Status.REVIEW


def test_one_event_per_number_for_a_large_selection(admin_user):
    phones = [f"+1415555{n:04d}" for n in range(3000)]
    services.add_numbers(phones, Status.REVIEW, admin_user)
    services.approve(BlacklistedNumber.objects.all(), admin_user, Source(Event.Via.BULK))

    assert Event.objects.filter(action=A.ADDED).count() == 3000
    assert Event.objects.filter(action=A.APPROVED).count() == 3000
    assert set(Event.objects.filter(action=A.APPROVED).values_list("phone", flat=True)) == set(phones)
