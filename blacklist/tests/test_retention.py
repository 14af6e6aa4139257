"""Retention (docs/compliance.md): a number the consumer asked for (a reason marked retained)
stays listed RETENTION_YEARS after the request, whatever the path that would remove it (row,
bulk, the background job, the admin), unless a Manager writes a justification in the
confirmation step; the justification is recorded on each removed number's event."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from blacklist import deadlines, services, views
from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db
WHY = "The consumer's number was entered by mistake: it belongs to our own office (ticket 4411)."


@pytest.fixture
def listed(db):
    """listed(status, reason slug, received days ago) → a saved number, phones in order of making."""
    made = []

    def make(status=Status.APPROVED, reason="consumer_request", days_ago=30):
        default_reason_id()  # the built-in reasons, after an earlier test's flush
        number = BlacklistedNumber(phone=f"+1415555{100 + len(made):04d}", status=status,
                                   reason=Reason.objects.get(slug=reason),
                                   received_at=timezone.now() - timedelta(days=days_ago))
        BlacklistedNumber.objects.bulk_create([number])
        made.append(number.phone)
        return BlacklistedNumber.objects.get(phone=number.phone)

    return make


def row_remove(client, number, tab="approved", **data):
    return client.post(reverse("blacklist:row_action", args=[tab, "remove"]), {"pk": number.pk, **data})


def bulk_remove(client, numbers, tab="approved", **data):
    data = {"action": "remove", "scope": "selected", "ids": [n.pk for n in numbers], "query": "", **data}
    return client.post(reverse("blacklist:bulk_action", args=[tab]), data)


def page_messages(client) -> list[str]:
    return [str(message) for message in client.get(reverse("blacklist:approved")).context["messages"]]


def phones() -> list[str]:
    return sorted(BlacklistedNumber.objects.values_list("phone", flat=True))


def kept_until(number) -> str:
    return f"{timezone.localdate(deadlines.retained_until(number.received_at)):%Y-%m-%d}"


# The rule: a QuerySet filter, like changeable()


def test_retained_numbers_are_those_of_a_retained_reason_within_retention(listed, settings):
    settings.RETENTION_YEARS = 2
    recent, revoked, old, wrong, permanent = (
        listed(reason="consumer_request", days_ago=30), listed(reason="consent_revoked", days_ago=700),
        listed(reason="consumer_request", days_ago=2 * 366 + 1), listed(reason="wrong_number", days_ago=1),
        listed(Status.PERMANENT, days_ago=1),
    )
    now = timezone.now()

    retained = set(BlacklistedNumber.objects.retained(now).values_list("phone", flat=True))
    removable = set(BlacklistedNumber.objects.removable(now).values_list("phone", flat=True))

    assert retained == {recent.phone, revoked.phone, permanent.phone}
    assert removable == {old.phone, wrong.phone}  # never a permanent one either


def test_retention_ends_at_the_instant_retained_until_gives(listed, settings):
    settings.RETENTION_YEARS = 5
    number = listed(days_ago=10)
    until = deadlines.retained_until(number.received_at)
    numbers = BlacklistedNumber.objects.all()

    assert numbers.retained(until - timedelta(seconds=1)).exists()
    assert not numbers.retained(until).exists()
    assert numbers.removable(until).exists()


# Row action


def test_a_reviewer_cannot_remove_a_retained_number_and_is_told_until_when(reviewer_client, listed):
    number = listed()

    response = row_remove(reviewer_client, number)

    assert response.status_code == 302
    (message,) = page_messages(reviewer_client)
    assert message.startswith("Removed 0 numbers from the blacklist. 1 number was kept for retention.")
    assert f"It is kept until {kept_until(number)} for retention" in message
    assert phones() == [number.phone]
    assert not Event.objects.exists()


def test_a_manager_row_remove_of_a_retained_number_asks_for_a_justification(manager_client, listed):
    number = listed()

    response = row_remove(manager_client, number)

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 number will be kept for retention." in page
    assert f"It is kept until {kept_until(number)} for retention" in page
    assert 'name="justification"' in page and f'name="ids" value="{number.pk}"' in page
    assert phones() == [number.phone] and not Event.objects.exists()


def test_a_manager_who_writes_no_justification_keeps_the_number(manager_client, listed):
    number = listed()

    response = bulk_remove(manager_client, [number], confirmed="on", justification="   ")

    assert response.status_code == 302
    assert "1 number was kept for retention." in page_messages(manager_client)[0]
    assert phones() == [number.phone] and not Event.objects.exists()


def test_a_manager_removes_a_retained_number_with_a_justification_recorded_on_its_event(manager_client, listed):
    number, other = listed(), listed(reason="other")

    response = bulk_remove(manager_client, [number, other], confirmed="on", justification=f"  {WHY}\n")

    assert response.status_code == 302
    assert page_messages(manager_client) == ["Removed 2 numbers from the blacklist."]
    assert phones() == []
    assert sorted(Event.objects.values_list("phone", "action", "note", "reason", "actor")) == [
        (number.phone, Event.Action.REMOVED, WHY, "Consumer request", "manager"),
        (other.phone, Event.Action.REMOVED, WHY, "Other", "manager"),
    ]


def test_a_justification_over_500_characters_changes_nothing(manager_client, listed):
    number, other = listed(), listed(reason="other")

    bulk_remove(manager_client, [number, other], confirmed="on", justification="x" * 501)

    (message,) = page_messages(manager_client)
    assert "The justification is 501 characters long; at most 500 are kept." in message
    assert message.endswith("Nothing was changed.")
    assert phones() == [number.phone, other.phone] and not Event.objects.exists()


def test_a_reviewer_may_not_send_a_justification(reviewer_client, listed):
    number, other = listed(), listed(reason="other")

    response = bulk_remove(reviewer_client, [number, other], confirmed="on", justification=WHY)

    assert response.status_code == 403
    assert phones() == [number.phone, other.phone] and not Event.objects.exists()


def test_the_service_refuses_a_justification_from_one_who_may_not_give_it(listed, make_user):
    number = listed()
    with pytest.raises(services.NotJustified, match="Only a Manager"):
        services.remove(BlacklistedNumber.objects.all(), make_user("Reviewer"), justification=WHY)
    with pytest.raises(services.NotJustified, match="Only a Manager"):
        services.remove(BlacklistedNumber.objects.all(), None, justification=WHY)
    assert phones() == [number.phone] and not Event.objects.exists()


@pytest.mark.parametrize("reason, days_ago", [
    ("consumer_request", 5 * 366 + 1),  # past its retention
    ("consent_revoked", 5 * 366 + 1),
    ("wrong_number", 1),  # a reason not retained
    ("litigator", 1),
])
def test_a_reviewer_removes_a_number_not_kept_for_retention(reviewer_client, listed, reason, days_ago):
    number = listed(reason=reason, days_ago=days_ago)

    row_remove(reviewer_client, number)

    assert page_messages(reviewer_client) == ["Removed 1 number from the blacklist."]
    assert phones() == []
    assert list(Event.objects.values_list("phone", "action", "note")) == [(number.phone, "removed", "")]


def test_a_shorter_retention_setting_frees_numbers_sooner(reviewer_client, listed, settings):
    settings.RETENTION_YEARS = 1
    number = listed(days_ago=367)
    row_remove(reviewer_client, number)
    assert phones() == []


# Bulk action


def test_the_bulk_confirmation_counts_numbers_kept_for_retention_beside_permanent_ones(reviewer_client, listed):
    kept = [listed(), listed(reason="consent_revoked", days_ago=400)]
    permanent, removable = listed(Status.PERMANENT), listed(reason="other")
    everything = [*kept, permanent, removable]

    page = bulk_remove(reviewer_client, everything).content.decode()

    assert "Remove 4 numbers from the blacklist?" in page
    assert "1 permanently approved number will be skipped." in page
    assert "2 numbers will be kept for retention." in page
    assert f"the last until {kept_until(kept[0])}" in page
    assert 'name="justification"' not in page  # a Reviewer may not override
    assert len(phones()) == 4

    bulk_remove(reviewer_client, everything, confirmed="on")

    (message,) = page_messages(reviewer_client)
    assert message.startswith("Removed 1 number from the blacklist. 1 permanently approved number was skipped."
                              " 2 numbers were kept for retention. They are kept for retention")
    assert phones() == sorted([*[n.phone for n in kept], permanent.phone])


def test_a_manager_sees_the_justification_box_only_when_the_selection_has_retained_numbers(manager_client, listed):
    retained, other = listed(), listed(reason="other")
    assert 'name="justification"' in bulk_remove(manager_client, [retained, other]).content.decode()
    assert 'name="justification"' not in bulk_remove(manager_client, [other]).content.decode()


def test_the_background_job_keeps_retained_numbers_and_counts_them(admin_client, listed, monkeypatch):
    listed(), listed(), listed(Status.PERMANENT), listed(reason="other")
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 1)

    admin_client.post(reverse("blacklist:bulk_action", args=["approved"]),
                      {"action": "remove", "scope": "all", "query": "", "confirmed": "on"})
    task_log = TaskLog.objects.get()
    assert "justification" not in task_log.params
    services.run_bulk_action(task_log)  # what the worker runs (test_bulk_worker.py runs it in one)
    task_log.refresh_from_db()

    assert (task_log.state, task_log.changed, task_log.skipped) == (TaskLog.State.SUCCEEDED, 1, 3)
    assert task_log.message == "1 permanently approved number was skipped. 2 numbers were kept for retention."
    assert BlacklistedNumber.objects.count() == 3


def test_the_background_job_carries_the_justification(admin_client, listed, monkeypatch):
    kept, permanent = [listed(), listed()], listed(Status.PERMANENT)
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 1)

    admin_client.post(reverse("blacklist:bulk_action", args=["approved"]),
                      {"action": "remove", "scope": "all", "query": "", "confirmed": "on", "justification": WHY})
    task_log = TaskLog.objects.get()
    services.run_bulk_action(task_log)
    task_log.refresh_from_db()

    assert task_log.params["justification"] == WHY
    assert (task_log.state, task_log.changed, task_log.skipped) == (TaskLog.State.SUCCEEDED, 2, 1)
    assert phones() == [permanent.phone]
    assert set(Event.objects.values_list("phone", "note", "via", "task")) == {
        (number.phone, WHY, Event.Via.BULK_TASK, task_log.pk) for number in kept}


def test_a_background_job_whose_starter_lost_the_permission_changes_nothing(manager_client, listed, monkeypatch):
    number = listed()
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 0)
    manager_client.post(reverse("blacklist:bulk_action", args=["approved"]),
                 {"action": "remove", "scope": "all", "query": "", "confirmed": "on", "justification": WHY})
    task_log = TaskLog.objects.get()
    from roles.groups import assign
    assign(task_log.created_by, "Reviewer")  # demoted before the worker ran it

    with pytest.raises(services.NotJustified):
        services.run_bulk_action(task_log)
    task_log.refresh_from_db()

    assert task_log.state == TaskLog.State.FAILED
    assert "Only a Manager may remove numbers kept for retention." in task_log.message
    assert phones() == [number.phone] and not Event.objects.exists()


# The Django admin


def test_the_admin_action_keeps_retained_numbers_and_says_where_to_remove_them(admin_client, listed):
    retained, other = listed(), listed(reason="other")
    data = {"action": "remove", "_selected_action": [retained.pk, other.pk]}

    response = admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), data, follow=True)

    page = response.content.decode()
    assert "Removed 1 number(s). 1 number was kept for retention." in page
    assert "a Manager may remove one earlier from its Blacklists tab, with a written justification" in page
    assert phones() == [retained.phone]


def test_the_admin_offers_no_delete_for_a_retained_number(admin_client, listed):
    retained, other = listed(), listed(reason="other")

    refused = admin_client.post(reverse("admin:blacklist_blacklistednumber_delete", args=[retained.pk]), {"post": "yes"})
    allowed = admin_client.post(reverse("admin:blacklist_blacklistednumber_delete", args=[other.pk]), {"post": "yes"})

    assert refused.status_code == 403
    assert allowed.status_code == 302
    assert phones() == [retained.phone]
    assert list(Event.objects.values_list("phone", "via")) == [(other.phone, Event.Via.ADMIN)]
