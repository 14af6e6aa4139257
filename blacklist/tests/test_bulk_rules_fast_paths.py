"""Issue 17's faster bulk paths change nothing the rules do: the skipped counts read only the
statuses a selection can hold, PostgreSQL changes or deletes the rows it locked by their
addresses, and a bulk job's transaction has more memory for its sorts (BULK_WORK_MEM_MB)."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import events
from audit.models import Event
from blacklist import services
from blacklist.filters import matching_numbers
from blacklist.models import BlacklistedNumber, Reason, Status, internal_list_id
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("numbers", "possible"), [
    (lambda: BlacklistedNumber.objects.for_review(), {Status.REVIEW}),
    (lambda: BlacklistedNumber.objects.approved(), {Status.APPROVED, Status.PERMANENT}),
    (lambda: BlacklistedNumber.objects.approved().changeable(), {Status.APPROVED}),
    (lambda: BlacklistedNumber.objects.exclude(status=Status.REVIEW), {Status.APPROVED, Status.PERMANENT}),
    (lambda: BlacklistedNumber.objects.filter(status__in=[1, 2]).filter(status__lte=1), {Status.REVIEW}),
    (lambda: matching_numbers("review", "phone=415", None), {Status.REVIEW}),
    # No condition on the status, or one this cannot read: every status stays possible.
    (lambda: BlacklistedNumber.objects.filter(pk__in=[1, 2]), set(Status)),
    (lambda: BlacklistedNumber.objects.filter(phone__startswith="+1415"), set(Status)),
])
def test_statuses_possible_reads_the_selections_own_status_conditions(numbers, possible):
    assert services.statuses_possible(numbers()) == possible


def test_approving_the_review_tab_counts_no_skipped_statuses_yet_reports_the_same(make_numbers, admin_user):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)

    with CaptureQueriesContext(connection) as queries:
        outcome = services.approve(matching_numbers("review", "", None), admin_user)

    assert (outcome.changed, outcome.skipped) == (1, {})
    assert not [q for q in queries if "COUNT(" in q["sql"]]
    # Everything selected, the skipped ones are counted as before.
    make_numbers(Status.REVIEW, start=200)
    outcome = services.approve(BlacklistedNumber.objects.all(), admin_user)
    assert (outcome.changed, outcome.skipped) == (1, {"already approved": 2, "permanently approved": 1})


def test_removing_from_the_approved_tab_counts_its_permanent_numbers(make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.APPROVED, Status.PERMANENT, reason="other")

    outcome = services.remove(matching_numbers("approved", "", None))

    assert (outcome.changed, outcome.skipped) == (2, {"permanently approved": 1})
    assert sorted(BlacklistedNumber.objects.values_list("status", flat=True)) == [Status.REVIEW, Status.PERMANENT]


def act_while_another_writer_changes(rule, number, other, **change):
    """`rule` (a service: services.remove, services.approve, …) of `number` and `other` while
    another transaction has made `change` to `number` and holds its row lock for a second: the
    rule waits for it, then acts."""
    updated = threading.Event()

    def change_it_and_hold_the_lock():
        try:
            with transaction.atomic():
                BlacklistedNumber.objects.filter(pk=number.pk).update(**change)
                updated.set()
                time.sleep(1)  # while remove waits for this row's lock
        finally:
            connection.close()

    writer = threading.Thread(target=change_it_and_hold_the_lock)
    writer.start()
    assert updated.wait(10)
    outcome = rule(BlacklistedNumber.objects.filter(pk__in=[number.pk, other.pk]))
    writer.join()
    return outcome


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: no lock to wait for")
@pytest.mark.django_db(transaction=True)
def test_remove_deletes_a_number_another_writer_changed_while_it_waited_for_the_lock(make_numbers):
    """The row's newest version is deleted (not missed: its address changed, its id did not),
    and its event records the status the other writer gave it."""
    number, other = make_numbers(Status.REVIEW, Status.REVIEW, reason="other")

    outcome = act_while_another_writer_changes(services.remove, number, other, status=Status.APPROVED, note="raised meanwhile")

    assert (outcome.changed, outcome.skipped) == (2, {})
    assert not BlacklistedNumber.objects.exists()
    assert dict(Event.objects.filter(action=Event.Action.REMOVED).values_list("phone", "from_status")) == {
        number.phone: Status.APPROVED, other.phone: Status.REVIEW}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: no lock to wait for")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", [
    {"status": Status.PERMANENT},  # nothing removes a permanent number
    {"reason_id": "consumer_request"},  # kept for retention now: not without a justification
])
def test_remove_leaves_a_number_another_writer_made_unremovable_while_it_waited_for_the_lock(make_numbers, change):
    """The version it locks is checked again: the lock drops it, so the delete (by the locked
    versions' addresses) never reaches it, and no event says it was removed."""
    number, other = make_numbers(Status.APPROVED, Status.APPROVED, reason="other")
    if "reason_id" in change:
        change = {"reason_id": Reason.objects.get(slug=change["reason_id"]).pk}

    outcome = act_while_another_writer_changes(services.remove, number, other, **change)

    assert outcome.changed == 1
    assert list(BlacklistedNumber.objects.values_list("pk", flat=True)) == [number.pk]
    assert list(Event.objects.filter(action=Event.Action.REMOVED).values_list("phone", flat=True)) == [other.phone]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite: one statement under its one write lock")
@pytest.mark.django_db(transaction=True)
def test_a_number_added_between_the_lock_and_the_delete_is_left_listed_without_an_event(make_numbers, monkeypatch):
    """The delete removes the rows the lock took, by address, and nothing else: a matching number
    another writer adds in between stays listed, and the counts and events agree."""
    number, = make_numbers(Status.APPROVED, reason="other")
    add_between_the_lock_and_the_change(monkeypatch, lambda: make_numbers(Status.APPROVED, start=200, reason="other"))

    outcome = services.remove(BlacklistedNumber.objects.approved())

    assert outcome.changed == 1
    assert list(BlacklistedNumber.objects.values_list("phone", flat=True)) == ["+14155550200"]
    assert list(Event.objects.filter(action=Event.Action.REMOVED).values_list("phone", flat=True)) == [number.phone]


@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_job_gives_its_own_transaction_more_memory_on_postgresql(admin_user, make_numbers, monkeypatch,
                                                                               settings):
    if connection.vendor != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    settings.BULK_WORK_MEM_MB = 64
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]
    seen = []
    approve = services.RULES["approve"]

    def approve_seeing_the_memory(numbers, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            seen.append(cursor.fetchone()[0])
        return approve(numbers, *args, **kwargs)

    monkeypatch.setitem(services.RULES, "approve", approve_seeing_the_memory)
    make_numbers(Status.REVIEW, Status.REVIEW)
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.BULK_APPROVE, created_by=admin_user,
                                      params={"tab": "review", "action": "approve", "query": "",
                                              "list": internal_list_id()})

    services.run_bulk_action(task_log)

    task_log.refresh_from_db()
    assert (task_log.state, task_log.changed) == (TaskLog.State.SUCCEEDED, 2)
    assert seen == ["64MB"]
    with connection.cursor() as cursor:  # the job's transaction over, the connection is as it was
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before != "64MB"


TO_STATUS = {"approve": Status.APPROVED, "approve_permanently": Status.PERMANENT, "unapprove": Status.REVIEW}


def events_of(rule):
    """{phone: from_status} of the events `rule` (a key of services.ACTIONS) wrote."""
    return dict(Event.objects.filter(action=services.ACTIONS[rule].event.value).values_list("phone", "from_status"))


def test_each_status_change_event_records_the_status_its_number_had(make_numbers):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)

    outcome = services.approve_permanently(BlacklistedNumber.objects.all())

    assert (outcome.changed, outcome.skipped) == (2, {"already permanently approved": 1})
    assert set(BlacklistedNumber.objects.values_list("status", flat=True)) == {Status.PERMANENT}
    assert events_of("approve_permanently") == {review.phone: Status.REVIEW, approved.phone: Status.APPROVED}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: no lock to wait for")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("rule", "status"), [("approve", Status.REVIEW), ("unapprove", Status.APPROVED)])
def test_a_number_another_writer_made_permanent_while_the_change_waited_for_the_lock_stays_permanent(
        make_numbers, rule, status):
    """The version the lock takes is checked again: no longer matching, it is dropped, so the
    update (by the locked versions' addresses) never reaches it, and no event names it."""
    number, other = make_numbers(status, status)

    outcome = act_while_another_writer_changes(getattr(services, rule), number, other, status=Status.PERMANENT)

    assert outcome.changed == 1
    assert BlacklistedNumber.objects.get(pk=number.pk).status == Status.PERMANENT
    assert BlacklistedNumber.objects.get(pk=other.pk).status == TO_STATUS[rule]
    assert events_of(rule) == {other.phone: status}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time: no lock to wait for")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("rule", "status", "change"), [
    ("approve_permanently", Status.REVIEW, {"status": Status.APPROVED}),  # raised meanwhile
    ("approve", Status.REVIEW, {"note": "asked again meanwhile"}),
    ("unapprove", Status.APPROVED, {"note": "asked again meanwhile"}),
])
def test_a_number_another_writer_changed_while_the_change_waited_for_the_lock_is_changed_from_its_new_status(
        make_numbers, rule, status, change):
    """The row's newest version is changed (not missed: its address changed, its id did not), and
    its event records the status that version had: the one the other writer gave it."""
    number, other = make_numbers(status, status)

    outcome = act_while_another_writer_changes(getattr(services, rule), number, other, **change)

    assert (outcome.changed, outcome.skipped) == (2, {})
    to_status = TO_STATUS[rule]
    assert list(BlacklistedNumber.objects.values_list("status", flat=True).distinct()) == [to_status]
    assert BlacklistedNumber.objects.get(pk=number.pk).note == change.get("note", "")
    assert events_of(rule) == {number.phone: change.get("status", status), other.phone: status}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite: one statement under its one write lock")
@pytest.mark.django_db(transaction=True)
def test_a_number_added_between_the_lock_and_the_update_is_left_for_review_without_an_event(make_numbers, monkeypatch):
    """The update changes the rows the lock took, by address, and nothing else: a matching number
    another writer adds in between stays for review, and the counts and events agree."""
    number, = make_numbers(Status.REVIEW)
    add_between_the_lock_and_the_change(monkeypatch, lambda: make_numbers(Status.REVIEW, start=200))

    outcome = services.approve(BlacklistedNumber.objects.for_review())

    assert outcome.changed == 1
    assert dict(BlacklistedNumber.objects.values_list("phone", "status")) == {
        number.phone: Status.APPROVED, "+14155550200": Status.REVIEW}
    assert events_of("approve") == {number.phone: Status.REVIEW}


def add_between_the_lock_and_the_change(monkeypatch, add) -> None:
    """Make the bulk statements' lock (audit.events) run `add` in another connection, committed,
    once it has locked its rows and before the UPDATE or DELETE of them."""
    lock = events._lock_addresses_in_phone_order

    def add_in_another_connection():
        try:
            add()
        finally:
            connection.close()

    def lock_then_another_writer_adds(rows):
        addresses = lock(rows)
        adding = threading.Thread(target=add_in_another_connection)
        adding.start()
        adding.join()
        return addresses

    monkeypatch.setattr(events, "_lock_addresses_in_phone_order", lock_then_another_writer_adds)
