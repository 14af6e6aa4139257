"""Expiry (docs/compliance.md): numbers whose expiry has come are removed by a beat task, each
with an `expired` event, in batches of a transaction each; permanent numbers never expire."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import Event
from blacklist import services, tasks
from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id
from blacklist_admin.celery import app
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def expiring(db):
    """expiring(count, in_seconds, status, prefix) → phones of `count` wrong numbers expiring then (None: never)."""

    def make(count, in_seconds, status=Status.APPROVED, prefix="+1212555"):
        now = timezone.now()
        expires = None if in_seconds is None else now + timedelta(seconds=in_seconds)
        default_reason_id()  # the built-in reasons, after an earlier test's flush
        wrong = Reason.objects.get(slug="wrong_number")
        numbers = [BlacklistedNumber(phone=f"{prefix}{i:04d}", status=status, reason=wrong, expires_at=expires)
                   for i in range(count)]
        BlacklistedNumber.objects.bulk_create(numbers)
        return [number.phone for number in numbers]

    return make


def phones() -> set[str]:
    return set(BlacklistedNumber.objects.values_list("phone", flat=True))


def test_expired_numbers_are_removed_with_an_expired_event_each(expiring):
    expired = expiring(3, -60, prefix="+1212555")
    expiring(2, 3600, prefix="+1312555")  # later
    expiring(2, None, prefix="+1412555")  # never
    expiring(1, -60, status=Status.PERMANENT, prefix="+1512555")  # never: nothing removes a permanent number

    assert services.remove_expired() == 3

    assert not phones() & set(expired)
    assert len(phones()) == 5
    assert sorted(Event.objects.values_list("phone", "action", "from_status", "to_status", "actor", "reason")) == [
        (phone, Event.Action.EXPIRED, Status.APPROVED, None, "system", "Wrong number") for phone in expired]


def test_a_number_expires_at_its_instant_not_before(expiring):
    (phone,) = expiring(1, 0)
    expires_at = BlacklistedNumber.objects.get().expires_at

    assert services.remove_expired(now=expires_at - timedelta(microseconds=1)) == 0
    assert services.remove_expired(now=expires_at) == 1
    assert phones() == set()


def test_expiry_runs_in_batches_of_one_transaction_each(expiring, monkeypatch):
    expiring(5, -60)
    batches = []
    one_batch = services._remove_expired_batch

    def counted(*args):
        batches.append(one_batch(*args))
        return batches[-1]

    monkeypatch.setattr(services, "_remove_expired_batch", counted)

    assert services.remove_expired(batch=2) == 5
    assert batches == [2, 2, 1]
    assert Event.objects.filter(action=Event.Action.EXPIRED).count() == 5


def test_running_it_twice_changes_nothing_more(expiring):
    expiring(4, -60)
    expiring(1, 3600, prefix="+1312555")
    assert services.remove_expired(batch=3) == 4

    assert services.remove_expired(batch=3) == 0
    assert tasks.remove_expired.apply().successful()  # the beat's task, in this process

    assert Event.objects.count() == 4
    assert len(phones()) == 1


def test_more_than_a_page_of_expiries_are_all_removed(expiring):
    expiring(1_234, -1)
    assert services.remove_expired(batch=500) == 1_234
    assert phones() == set()
    assert Event.objects.filter(action=Event.Action.EXPIRED).count() == 1_234


def test_the_beat_schedules_the_expiry_task_on_the_bulk_queue():
    (entry,) = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
                if entry["task"] == "blacklist.tasks.remove_expired"]
    assert entry["schedule"] == settings.EXPIRY_SWEEP_SECONDS
    assert settings.CELERY_TASK_ROUTES["blacklist.tasks.remove_expired"] == {"queue": "bulk"}
    assert "blacklist.tasks.remove_expired" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_the_worker_removes_expired_numbers(expiring, celery_worker_process):
    expired = expiring(3, -60)
    kept = expiring(2, 3600, prefix="+1312555")

    tasks.remove_expired.delay()

    assert wait_until(lambda: phones() == set(kept), 30, "the worker to remove the expired numbers")
    assert set(Event.objects.values_list("phone", "action")) == {(phone, "expired") for phone in expired}


def test_the_planner_setting_of_a_batch_does_not_outlive_it(expiring):
    from django.db import connection

    def random_page_cost():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('random_page_cost')" if connection.vendor == "postgresql"
                           else "SELECT 'n/a'")
            return cursor.fetchone()[0]

    expiring(3, -60)
    before = random_page_cost()
    assert services.remove_expired(batch=2) == 3  # inside this test's transaction
    assert random_page_cost() == before


def test_expiry_is_per_entry_the_same_number_on_another_list_stays(db):
    """Issue 15: each (list, number) entry has its own expiry; its `expired` event names its list."""
    from blacklist.models import DncList, internal_list_id
    from blacklist.request_details import RequestDetails

    default_reason_id()
    campaign = DncList.objects.create(name="Campaign: Solar West")
    client_list = DncList.objects.create(name="Client: Acme")
    wrong = Reason.objects.get(slug="wrong_number")
    numbers = [f"+1212555{i:04d}" for i in range(30)]  # more than a batch below
    soon = RequestDetails(reason=wrong, expires_at=timezone.now() + timedelta(seconds=1))
    services.add_numbers(numbers, Status.APPROVED, details=soon)  # Internal: expiring
    services.add_numbers(numbers, Status.APPROVED, details=soon, dnc_list=client_list)  # expiring too
    services.add_numbers(numbers[:20], Status.APPROVED, details=RequestDetails(reason=wrong), dnc_list=campaign)
    later = timezone.now() + timedelta(seconds=2)

    assert services.remove_expired(now=later, batch=7) == 60

    assert list(BlacklistedNumber.objects.values_list("phone", "dnc_list").order_by("phone")) == [
        (phone, campaign.pk) for phone in numbers[:20]]
    expired = Event.objects.filter(action=Event.Action.EXPIRED)
    assert sorted(expired.values_list("phone", "dnc_list")) == sorted(
        [(phone, internal_list_id()) for phone in numbers] + [(phone, client_list.pk) for phone in numbers])
    assert services.remove_expired(now=later) == 0
