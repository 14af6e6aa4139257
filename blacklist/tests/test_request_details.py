"""What each number records about its request, and how adding it again merges (docs/compliance.md):
the deadline in business days, the earliest request counting, repeats recorded as events, and
every event carrying the request it is about. On both databases."""

import importlib
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit import events
from audit.events import Change, Source
from audit.models import Event
from blacklist import deadlines, services
from blacklist.models import BlacklistedNumber, Channel, Reason, Status
from blacklist.request_details import Entry, RequestDetails
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db
A = Event.Action


def reason(slug: str) -> Reason:
    return Reason.objects.get(slug=slug)


def at(day: str, hour: int = 15) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(("received", "due"), [
    ("2026-11-27", date(2026, 12, 11)),  # Friday after Thanksgiving (Thursday 26th, not counted before it)
    ("2026-11-25", date(2026, 12, 10)),  # Wednesday before it: Thanksgiving is skipped
    ("2026-12-18", date(2027, 1, 5)),  # Christmas and New Year's Day fall in the ten days
    ("2026-11-28", date(2026, 12, 11)),  # a Saturday counts from the Monday after, as a Friday does
])
def test_the_deadline_is_ten_business_days_later_skipping_weekends_and_us_holidays(received, due):
    assert deadlines.honour_by(at(received)) == due
    assert deadlines.business_days_between(at(received).date(), due) == 10


def test_the_deadline_follows_the_configured_calendar_and_number_of_days(settings):
    settings.HOLIDAY_CALENDAR, settings.HONOUR_WITHIN_BUSINESS_DAYS = "GB", 3
    # 25 and 28 December 2026 are holidays in England (Christmas, Boxing Day moved to Monday)
    assert deadlines.honour_by(at("2026-12-24")) == date(2026, 12, 31)
    settings.HOLIDAY_CALENDAR = "US"
    assert deadlines.honour_by(at("2026-12-24")) == date(2026, 12, 30)


def test_business_days_between_counts_backwards_too():
    assert deadlines.business_days_between(date(2026, 12, 11), date(2026, 11, 27)) == -10
    assert deadlines.business_days_between(date(2026, 11, 27), date(2026, 11, 27)) == 0


def test_retention_ends_the_same_day_years_later_and_29_february_on_the_28th(settings):
    settings.RETENTION_YEARS = 5
    assert deadlines.retained_until(at("2026-11-27")) == at("2031-11-27")
    assert deadlines.retained_until(at("2028-02-29")) == at("2033-02-28")


def test_added_numbers_record_their_request_and_the_event_says_the_same(admin_user):
    received = at("2026-11-20", 9)
    details = RequestDetails(reason("consent_revoked"), Channel.LETTER, received, "Letter of 18 Nov, ref 42")
    services.add_numbers([Entry("+14155550100", line=7), "+14155550101"], Status.REVIEW, admin_user, details=details)

    number = BlacklistedNumber.objects.get(phone="+14155550100")
    assert (number.reason.slug, number.channel, number.received_at, number.deadline, number.note, number.source_line) == (
        "consent_revoked", Channel.LETTER, received, date(2026, 12, 7), "Letter of 18 Nov, ref 42", 7)
    assert BlacklistedNumber.objects.get(phone="+14155550101").source_line is None
    event = Event.objects.get(phone="+14155550100")
    assert (event.action, event.reason, event.channel, event.received_at, event.deadline, event.note, event.line) == (
        A.ADDED, "Consent revoked", Channel.LETTER, received, date(2026, 12, 7), "Letter of 18 Nov, ref 42", 7)


def test_without_details_a_number_is_a_consumer_request_received_when_added():
    before = timezone.now()
    services.add_numbers(["+14155550100"], Status.REVIEW)
    number = BlacklistedNumber.objects.get()
    assert number.reason.slug == Reason.DEFAULT and number.channel == Channel.OTHER and number.note == ""
    assert before <= number.received_at <= timezone.now()
    assert number.deadline == deadlines.honour_by(number.received_at)


def test_each_entry_may_bring_its_own_details():  # 2 November 2026: Veterans Day (11th) is skipped
    early = RequestDetails(reason("complaint"), Channel.EMAIL, at("2026-11-02"))
    services.add_numbers([Entry("+14155550100", early), "+14155550101"], Status.REVIEW,
                         details=RequestDetails(channel=Channel.API))
    rows = dict(BlacklistedNumber.objects.values_list("phone", "channel"))
    assert rows == {"+14155550100": Channel.EMAIL, "+14155550101": Channel.API}
    assert BlacklistedNumber.objects.get(phone="+14155550100").deadline == date(2026, 11, 17)


def test_an_earlier_request_replaces_a_later_one_and_is_recorded():
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-20")))
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-02")))

    number = BlacklistedNumber.objects.get()
    assert (number.received_at, number.deadline, number.status) == (at("2026-11-02"), date(2026, 11, 17), Status.REVIEW)
    repeated = Event.objects.get(action=A.REPEATED)
    assert (repeated.from_status, repeated.to_status, repeated.received_at, repeated.deadline) == (
        Status.REVIEW, Status.REVIEW, at("2026-11-02"), date(2026, 11, 17))


def test_a_later_request_changes_nothing_and_records_nothing_new():
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-02")))
    outcome = services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-20")))

    assert outcome == services.MergeOutcome(new=0, raised=0, unchanged=1)
    assert BlacklistedNumber.objects.get().received_at == at("2026-11-02")
    assert list(Event.objects.values_list("action", flat=True)) == [A.ADDED]


def test_another_reason_or_a_note_is_recorded_as_an_event_not_written_over_the_number():
    received = at("2026-11-02")
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=received, note="first"))
    services.add_numbers(["+14155550100"], Status.REVIEW,
                         details=RequestDetails(reason("litigator"), Channel.EMAIL, at("2026-11-20"), "second"))

    number = BlacklistedNumber.objects.get()
    assert (number.reason.slug, number.note, number.received_at) == (Reason.DEFAULT, "first", received)
    repeated = Event.objects.get(action=A.REPEATED)
    assert (repeated.reason, repeated.channel, repeated.note, repeated.deadline) == (
        "Litigator / legal", Channel.EMAIL, "second", number.deadline)


def test_raising_a_status_records_the_repeat_on_the_raised_event(admin_user):
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-20")))
    outcome = services.add_numbers(["+14155550100", "+14155550101"], Status.APPROVED, admin_user,
                                   details=RequestDetails(received_at=at("2026-11-10"), note="called back"))

    assert outcome == services.MergeOutcome(new=1, raised=1, unchanged=0)
    number = BlacklistedNumber.objects.get(phone="+14155550100")
    assert (number.status, number.received_at, number.status_changed_by) == (Status.APPROVED, at("2026-11-10"), admin_user)
    raised = Event.objects.get(action=A.RAISED)
    assert (raised.from_status, raised.to_status, raised.note, raised.deadline) == (
        Status.REVIEW, Status.APPROVED, "called back", date(2026, 11, 25))
    assert not Event.objects.filter(action=A.REPEATED).exists()


def test_a_permanent_number_added_again_with_an_earlier_request_keeps_its_status():
    services.add_numbers(["+14155550100"], Status.PERMANENT, details=RequestDetails(received_at=at("2026-11-20")))
    services.add_numbers(["+14155550100"], Status.REVIEW, details=RequestDetails(received_at=at("2026-11-02")))
    number = BlacklistedNumber.objects.get()
    assert (number.status, number.received_at) == (Status.PERMANENT, at("2026-11-02"))


def test_actions_record_the_numbers_request_and_a_justification(admin_client, admin_user):
    details = RequestDetails(reason("complaint"), Channel.SMS, at("2026-11-02"))
    services.add_numbers(["+14155550100", "+14155550101"], Status.REVIEW, details=details)
    number = BlacklistedNumber.objects.get(phone="+14155550100")
    admin_client.post(reverse("blacklist:row_action", args=["review", "approve"]), {"pk": number.pk})
    change = Change(A.REMOVED, None, timezone.now(), admin_user, Source(Event.Via.OTHER), note="court order 12-34")
    events.delete(BlacklistedNumber.objects.filter(phone="+14155550101"), change)

    approved = Event.objects.get(action=A.APPROVED)
    assert (approved.reason, approved.channel, approved.received_at, approved.deadline, approved.note) == (
        "Complaint", Channel.SMS, at("2026-11-02"), date(2026, 11, 17), "")
    assert approved.at.date() > approved.deadline  # approved today: past its deadline, and the event shows it
    removed = Event.objects.get(action=A.REMOVED)
    assert (removed.phone, removed.reason, removed.note) == ("+14155550101", "Complaint", "court order 12-34")


def test_a_batch_of_numbers_at_many_dates_gets_each_its_own_deadline():
    start = at("2026-01-01")
    entries = [Entry(f"+1415555{i:04d}", RequestDetails(received_at=start + timedelta(days=i))) for i in range(400)]
    services.add_numbers(entries, Status.REVIEW)
    stored = dict(BlacklistedNumber.objects.values_list("phone", "deadline"))
    assert stored == {entry.phone: deadlines.honour_by(entry.details.received_at) for entry in entries}
    assert Event.objects.filter(action=A.ADDED).count() == 400


def test_migration_0007_gives_existing_numbers_a_consumer_request_received_when_added(admin_user):
    migration = importlib.import_module("blacklist.migrations.0007_request_details")
    upload = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="old.csv")
    added = at("2026-11-25", 23)
    BlacklistedNumber.objects.bulk_create([
        BlacklistedNumber(phone=phone, added_at=added, received_at=at("2020-01-01"), deadline=date(2020, 1, 2),
                          channel=Channel.SMS, reason=reason("other"), source_task=task)
        for phone, task in [("+14155550100", upload), ("+14155550101", None), ("+14155550102", None)]
    ])
    Event.objects.create(phone="+14155550101", action=A.ADDED, actor="key", via=Event.Via.API)

    migration.fill_existing_numbers(apps, SimpleNamespace(connection=connection))  # all it uses of a schema editor

    rows = BlacklistedNumber.objects.order_by("phone").values_list("reason__slug", "channel", "received_at", "deadline")
    assert list(rows) == [(Reason.DEFAULT, channel, added, date(2026, 12, 10)) for channel in ["upload", "api", "other"]]


def expiring(days: int, slug: str = "wrong_number") -> RequestDetails:
    return RequestDetails(reason(slug), expires_at=timezone.now() + timedelta(days=days))


def test_a_repeat_keeps_the_longest_expiry_and_one_without_expiry_ends_it():
    services.add_numbers(["+14155550100", "+14155550101", "+14155550102"], Status.REVIEW, details=expiring(30))
    services.add_numbers(["+14155550100"], Status.REVIEW, details=expiring(10))  # shorter: nothing new
    services.add_numbers(["+14155550101"], Status.REVIEW, details=expiring(90))  # longer: kept
    services.add_numbers(["+14155550102"], Status.REVIEW)  # a consumer's request: listed for good

    expiries = dict(BlacklistedNumber.objects.values_list("phone", "expires_at"))
    assert (expiries["+14155550100"] - timezone.now()).days == 29
    assert (expiries["+14155550101"] - timezone.now()).days == 89
    assert expiries["+14155550102"] is None
    assert sorted(Event.objects.filter(action=A.REPEATED).values_list("phone", flat=True)) == [
        "+14155550101", "+14155550102"]


def test_a_number_made_permanent_never_expires_by_any_path(admin_user):
    services.add_numbers(["+14155550100", "+14155550101"], Status.REVIEW, details=expiring(30))
    services.add_numbers(["+14155550100"], Status.PERMANENT, admin_user, details=expiring(30))
    services.approve_permanently(BlacklistedNumber.objects.filter(phone="+14155550101"), admin_user)

    assert list(BlacklistedNumber.objects.values_list("status", "expires_at").distinct()) == [(Status.PERMANENT, None)]
