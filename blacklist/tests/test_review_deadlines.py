"""Deadlines on the review tab (docs/compliance.md): each number's age and deadline, due-soon and
overdue rows marked, the Due soon / Overdue filters across pages, the sort by deadline, the overdue
count in the tab label, and late approvals shown as late where events are shown.

"Today" is Wednesday 9 December 2026 (timezone.now is pinned); the numbers are added through
services.add_numbers with their received dates, the service the upload and hand-entry forms call.
"""

import re
from datetime import UTC, date, datetime
from urllib.parse import urljoin

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.events import Source
from audit.models import Event
from blacklist import deadlines, services, views
from blacklist.models import BlacklistedNumber, Status
from blacklist.request_details import RequestDetails
from blacklist.tests.test_page_through import open_page

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
# received on → its deadline (US calendar: Thanksgiving, Thursday 26 November 2026, is no business day)
OVERDUE_RECEIVED, OVERDUE_DEADLINE = date(2026, 11, 2), date(2026, 11, 17)  # Veterans Day skipped
LATE_RECEIVED, LATE_DEADLINE = date(2026, 11, 23), date(2026, 12, 8)  # overdue by 1 business day today
SOON_RECEIVED, SOON_DEADLINE = date(2026, 11, 25), date(2026, 12, 10)  # due tomorrow
LATER_RECEIVED, LATER_DEADLINE = date(2026, 12, 7), date(2026, 12, 21)  # not due yet


@pytest.fixture(autouse=True)
def today(monkeypatch, settings):
    settings.HOLIDAY_CALENDAR = "US"
    settings.HONOUR_WITHIN_BUSINESS_DAYS = 10
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return TODAY


def add(phones, received_on: date, status=Status.REVIEW):
    received_at = datetime.combine(received_on, datetime.min.time(), tzinfo=UTC).replace(hour=10)
    services.add_numbers(phones, status, source=Source(Event.Via.HAND), details=RequestDetails(received_at=received_at))


@pytest.fixture
def queue(db):
    """40 overdue (30 long, 10 by one business day), 30 due soon, 30 not yet due for review; 20 approved
    long ago (honoured: never overdue). More than a page of each kind the filters pick."""
    add([f"+1212555{i:04d}" for i in range(30)], OVERDUE_RECEIVED)
    add([f"+1212555{i:04d}" for i in range(30, 40)], LATE_RECEIVED)
    add([f"+1312555{i:04d}" for i in range(30)], SOON_RECEIVED)
    add([f"+1415555{i:04d}" for i in range(30)], LATER_RECEIVED)
    add([f"+1646555{i:04d}" for i in range(20)], OVERDUE_RECEIVED, Status.APPROVED)
    return {
        "overdue": {f"+1212555{i:04d}" for i in range(40)},
        "due_soon": {f"+1312555{i:04d}" for i in range(30)},
        "later": {f"+1415555{i:04d}" for i in range(30)},
    }


def walk_next(client, url: str) -> list[str]:
    """The numbers of every page, following the Next link each page offers (25 a page)."""
    phones, pages = [], 0
    while True:
        page = open_page(client, url)
        phones += page.phones
        pages += 1
        if "next" not in page.links or pages > 20:
            return phones
        url = urljoin(url, page.links["next"])


def test_deadlines_are_counted_in_business_days_skipping_weekends_and_holidays(queue, settings):
    stored = dict(BlacklistedNumber.objects.values_list("phone", "deadline"))
    assert [stored["+12125550000"], stored["+12125550030"], stored["+13125550000"], stored["+14155550000"]] == [
        OVERDUE_DEADLINE, LATE_DEADLINE, SOON_DEADLINE, LATER_DEADLINE]
    # Without Thanksgiving (a calendar that does not keep it) the same request is due a day earlier.
    settings.HOLIDAY_CALENDAR = "GB"
    assert deadlines.honour_by_day(SOON_RECEIVED) == date(2026, 12, 9)
    assert deadlines.business_days_between(LATE_DEADLINE, TODAY) == 1
    assert deadlines.business_days_late(date(2026, 12, 4), NOW) == 3  # Friday → Wednesday: Mon, Tue, Wed
    assert deadlines.business_days_late(TODAY, NOW) == 0  # on the deadline itself: in time


@pytest.mark.parametrize("due, kind", [("overdue", "overdue"), ("due_soon", "due_soon")])
@pytest.mark.parametrize("sort", ["", "-added_at", "-deadline", "phone"])
def test_the_deadline_filters_return_exactly_their_rows_across_pages(admin_client, queue, due, kind, sort):
    url = reverse("blacklist:review") + f"?due={due}" + (f"&sort={sort}" if sort else "")
    phones = walk_next(admin_client, url)
    assert len(phones) == len(set(phones))  # none twice
    assert set(phones) == queue[kind]
    deadline_of = dict(BlacklistedNumber.objects.values_list("phone", "deadline"))
    if not sort:  # filtered by deadline: the oldest deadline first unless another sort is chosen
        assert [deadline_of[phone] for phone in phones] == sorted(deadline_of[phone] for phone in phones)


def test_the_deadline_filter_matching_count_and_all_matching_scope(admin_client, queue):
    response = admin_client.get(reverse("blacklist:review"), {"due": "overdue"})
    assert response.context["matching"] == (40, True)
    response = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                                 {"action": "approve", "scope": "all", "query": "due=due_soon"})
    assert response.status_code == 302
    assert set(BlacklistedNumber.objects.filter(status=Status.APPROVED).values_list("phone", flat=True)) == (
        queue["due_soon"] | {f"+1646555{i:04d}" for i in range(20)})


def test_an_unknown_deadline_filter_matches_nothing(admin_client, queue):
    response = admin_client.get(reverse("blacklist:review"), {"due": "yesterday"})
    assert response.context["page"].rows == []
    assert "Select a valid choice" in response.content.decode()


def test_the_approved_tab_has_no_deadline_filter_or_sort(admin_client, queue):
    response = admin_client.get(reverse("blacklist:approved"), {"due": "overdue", "sort": "deadline"})
    assert len(response.context["page"].rows) == 20  # the parameter is not the approved tab's: ignored
    assert response.context["table"].order_by == ("-added_at",)
    assert 'name="due"' not in response.content.decode()


def test_rows_show_age_and_deadline_and_mark_due_soon_and_overdue_in_words(admin_client, queue):
    page = admin_client.get(reverse("blacklist:review"), {"sort": "deadline", "per_page": 100}).content.decode()
    rows = {re.search(r'title="(\+\d+)"', row).group(1): row for row in re.findall(r"<tr[^>]*>.*?</tr>", page)
            if 'title="+' in row}
    assert len(rows) == 100
    late = rows["+12125550030"]
    assert late.startswith('<tr class="overdue">')
    assert "2026-12-08" in late and "Overdue by 1 business day<" in late
    assert "11 business days" in late  # its age: received Monday 23 November, Thanksgiving skipped
    assert "<span>Consumer request</span> <span class=\"text-body-secondary\">· Other</span>" in late
    assert "Overdue by 15 business days" in rows["+12125550000"]  # 17 November → 9 December
    soon = rows["+13125550000"]
    assert soon.startswith('<tr class="due-soon">') and "Due soon: in 1 business day" in soon
    later = rows["+14155550000"]
    assert later.startswith("<tr>") and "2026-12-21" in later and "2 business days" in later
    assert "Overdue" not in later and "Due soon" not in later


def test_the_review_tab_label_shows_the_overdue_count(admin_client, queue, monkeypatch):
    page = admin_client.get(reverse("blacklist:add")).content.decode()
    assert re.search(r'data-count="overdue"[^>]*>40 overdue</span>', page)
    monkeypatch.setattr(views, "OVERDUE_SHOWN", 39)  # counted up to this many, never the whole queue
    page = admin_client.get(reverse("blacklist:review")).content.decode()
    assert re.search(r'data-count="overdue"[^>]*>39\+ overdue</span>', page)
    monkeypatch.setattr(views, "OVERDUE_SHOWN", 40)
    page = admin_client.get(reverse("blacklist:approved")).content.decode()
    assert re.search(r'data-count="overdue"[^>]*>40 overdue</span>', page)
    services.RULES["approve"](BlacklistedNumber.objects.filter(phone__in=queue["overdue"]), None, Source())
    page = admin_client.get(reverse("blacklist:review")).content.decode()
    assert 'data-count="overdue"' not in page  # none overdue: no badge


def test_a_late_approval_shows_as_late_in_activity_and_history(admin_client, queue):
    late, in_time = BlacklistedNumber.objects.get(phone="+12125550030"), BlacklistedNumber.objects.get(
        phone="+13125550000")
    for number in (late, in_time):
        response = admin_client.post(reverse("blacklist:row_action", args=["review", "approve"]),
                                     {"pk": number.pk, "query": ""})
        assert response.status_code == 302
    event = Event.objects.get(phone=late.phone, action="approved")
    assert (event.deadline, event.days_late) == (LATE_DEADLINE, 1)
    assert Event.objects.get(phone=in_time.phone, action="approved").days_late == 0
    activity = admin_client.get(reverse("audit:activity")).content.decode()
    # the late approval, and the 20 numbers added approved today for requests due 17 November
    assert activity.count("past its deadline") == 21
    assert "1 business day past its deadline 2026-12-08" in activity
    history = admin_client.get(reverse("audit:history"), {"phone": late.phone}).content.decode()
    assert "1 business day past its deadline 2026-12-08" in history
    history = admin_client.get(reverse("audit:history"), {"phone": in_time.phone}).content.decode()
    assert "past its deadline" not in history
    export = b"".join(admin_client.get(reverse("audit:export"), {"action": "approved"}).streaming_content)
    lines = export.decode("utf-8-sig").splitlines()
    assert lines[0].endswith('"deadline","business days late"')
    assert sorted(line.split(",")[1] + line.rsplit(",", 2)[1] + line.rsplit(",", 1)[1] for line in lines[1:]) == [
        '"+12125550030""2026-12-08""1"', '"+13125550000""2026-12-10"""']


def test_a_note_shows_escaped_as_the_reason_cells_tooltip(admin_client):
    services.add_numbers(["+12125559999"], Status.REVIEW,
                         details=RequestDetails(note='Said "stop" <script>alert(1)</script>'))
    page = admin_client.get(reverse("blacklist:review")).content.decode()
    assert 'title="Said &quot;stop&quot; &lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "<script>alert(1)" not in page


def test_adding_a_number_approved_after_its_deadline_is_late_and_unapproving_is_not(admin_client, queue):
    added = Event.objects.get(phone="+16465550000", action="added")
    assert added.days_late == 15  # listed approved today for a request due 17 November
    services.RULES["unapprove"](BlacklistedNumber.objects.filter(phone="+16465550000"), None, Source())
    assert Event.objects.get(phone="+16465550000", action="unapproved").days_late == 0


def test_the_deadline_index_exists_and_the_sqlite_guards_survive_its_migration():
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, BlacklistedNumber._meta.db_table)
    assert indexes["review_by_deadline"]["columns"] == ["deadline", "id"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                           [BlacklistedNumber._meta.db_table])
            assert len(cursor.fetchall()) >= 2


def test_the_export_follows_the_deadline_filter_and_its_order(admin_client, queue):
    response = admin_client.get(reverse("blacklist:export", args=["review"]), {"due": "overdue"})
    phones = [line.split(",")[0].strip('"') for line in
              b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[1:]]
    assert set(phones) == queue["overdue"] and len(phones) == 40
    assert phones[:30] == sorted(phones[:30]) and set(phones[:30]) == {f"+1212555{i:04d}" for i in range(30)}
