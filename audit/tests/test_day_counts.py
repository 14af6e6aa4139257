"""The Activity chart's per-day counts (audit.models.DayCount, migration 0007): on PostgreSQL a
trigger keeps them equal to counting the events, whichever path writes them, with days in
TIME_ZONE; the chart draws the same figures from them as from counting events, on both databases."""

import importlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from audit import chart, tasks
from audit.events import Source
from audit.models import DayCount, Event
from blacklist import csv_files, services
from blacklist.models import BlacklistedNumber, DncList, Status

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps no counts")
day_counts_migration = importlib.import_module("audit.migrations.0007_day_counts")


def counted() -> dict:
    """(day, action, list) → n, as the counts hold them (summed: a row per writing statement until compacted)."""
    rows = DayCount.objects.order_by().values_list("day", "action", "dnc_list_id").annotate(Sum("n"))
    return {(day, action, dnc_list): n for day, action, dnc_list, n in rows}


def grouped() -> dict:
    """The same from a GROUP BY over the events, days in the current time zone (TIME_ZONE)."""
    rows = (Event.objects.order_by().annotate(day=TruncDate("at"), list_id=Coalesce("dnc_list_id", 0))
            .values_list("day", "action", "list_id").annotate(n=Count("id")))
    return {(day, action, dnc_list): n for day, action, dnc_list, n in rows}


@postgresql_only
def test_every_writing_path_keeps_the_counts_equal_to_the_events(admin_client, admin_user, make_numbers):
    make_numbers(Status.REVIEW, Status.REVIEW, Status.REVIEW, reason="other")  # +14155550100 … 0102, no events
    assert counted() == grouped() == {}

    admin_client.post(reverse("blacklist:add"), {"numbers": "415 555 0100\n415 555 0150"})  # hand: repeated, added
    assert counted() == grouped()

    upload = csv_files.read_csv("leads.csv", io.BytesIO(b"phone\n4155550101\n4155550160\n4155550161\n"))
    services.import_numbers(services.save_upload(upload, Status.APPROVED, admin_user))  # COPY, raised and added
    assert counted() == grouped()

    _, secret = api_services.create_key("dialer", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                        expires_at=None)
    response = admin_client.post(reverse("api:add_numbers"), ["+14155550170", "+14155550171"],
                                 content_type="application/json", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert counted() == grouped()

    row = BlacklistedNumber.objects.get(phone="+14155550170")
    assert admin_client.post(reverse("blacklist:row_action", args=["review", "approve"]),
                             {"pk": row.pk, "query": ""}).status_code == 302
    assert counted() == grouped()

    tasks.compact_day_counts()
    assert counted() == grouped() and DayCount.objects.count() == len(grouped())  # a row per day, action, list

    services.approve(BlacklistedNumber.objects.all(), admin_user, Source(Event.Via.BULK_TASK))  # all matching
    services.remove(BlacklistedNumber.objects.filter(phone__in=["+14155550150", "+14155550160"]), admin_user,
                    Source(Event.Via.BULK), justification="Added by mistake")
    assert counted() == grouped()

    BlacklistedNumber.objects.filter(phone="+14155550102").update(expires_at=timezone.now() - timedelta(days=1))
    assert services.remove_expired() == 1
    assert counted() == grouped()
    assert sum(counted().values()) == Event.objects.count() > 10
    tasks.compact_day_counts()
    assert counted() == grouped() and DayCount.objects.count() == len(grouped())


@postgresql_only
def test_a_truncate_of_the_events_empties_the_counts(admin_user):
    """Only with the truncate guard lifted, as the tests' clean-up and the benchmarks do."""
    truncate_guard = importlib.import_module("audit.migrations.0002_truncate_guard")
    services.add_numbers(["+14155550100"], Status.REVIEW, admin_user)
    assert counted() != {}
    with connection.schema_editor() as editor:
        truncate_guard.drop_guard(None, editor)
        editor.execute("TRUNCATE audit_event")
        truncate_guard.create_guard(None, editor)

    assert counted() == grouped() == {}


@postgresql_only
def test_a_day_is_the_local_day_in_time_zone(settings, admin_user):
    """Kiritimati is UTC+14: its midnight is 10:00 UTC, so events ten minutes apart fall on two days."""
    settings.TIME_ZONE = "Pacific/Kiritimati"
    with connection.schema_editor() as editor:  # counted again in that zone, as after a change of TIME_ZONE
        day_counts_migration.stop_counting(None, editor)
        DayCount.objects.all().delete()
        day_counts_migration.count_days(None, editor)
    before, after = datetime(2026, 3, 1, 9, 55, tzinfo=UTC), datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    Event.objects.bulk_create([Event(phone="+14155550100", action=Event.Action.ADDED, at=at, actor="admin",
                                     via=Event.Via.HAND, dnc_list_id=1) for at in (before, before, after)])

    assert counted() == grouped() == {
        (timezone.localdate(before), Event.Action.ADDED, 1): 2,
        (timezone.localdate(after), Event.Action.ADDED, 1): 1,
    }
    assert timezone.localdate(after) - timezone.localdate(before) == timedelta(days=1)


@postgresql_only
def test_the_counts_serve_the_chart_only_where_they_have_the_filter(admin_user, settings):
    from audit.filters import EventFilter

    def counts_for(**query):
        return chart.day_counts(EventFilter(query, queryset=Event.objects.all()))

    assert counts_for() is not None
    assert counts_for(action="approved", dnc_list="1", date_after="2026-01-01") is not None
    assert counts_for(phone="+14155550100") is None  # a number: its own few events, by its index
    assert counts_for(actor=f"user:{admin_user.pk}") is None
    settings.TIME_ZONE = "Pacific/Kiritimati"  # the counts' days are UTC's: the chart counts events
    assert counts_for() is None


@pytest.fixture
def month_of_events(admin_user, django_user_model):
    """Events over five weeks on two lists, around local midnights, of every charted action and others."""
    other = DncList.objects.create(name="Acme")
    rita = django_user_model.objects.create_user("rita")
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    actions = [Event.Action.ADDED, Event.Action.APPROVED, Event.Action.APPROVED_PERMANENTLY, Event.Action.REMOVED,
               Event.Action.RAISED]
    Event.objects.bulk_create([
        Event(phone=f"+1415555{i:04d}", action=actions[i % len(actions)], actor="rita" if i % 3 else "admin",
              user=rita if i % 3 else admin_user, via=Event.Via.HAND, dnc_list_id=other.pk if i % 4 else 1,
              at=midnight - timedelta(days=i // 7) + timedelta(seconds=(-1) ** i * (i % 5 + 1)))
        for i in range(250)
    ])
    return other


@pytest.mark.parametrize("query", [
    {}, {"action": "approved"}, {"action": "raised"}, {"dnc_list": "list"}, {"date_after": "day-20"},
    {"date_before": "day-10"}, {"date_after": "day-30", "date_before": "day-3", "action": "removed"},
    {"actor": "user"}, {"phone": "+1415555001"},
])
def test_the_chart_draws_the_same_figures_from_the_counts_as_from_the_events(admin_client, monkeypatch,
                                                                              month_of_events, admin_user, query):
    today = timezone.localdate()
    query = {name: str(month_of_events.pk) if value == "list" else f"user:{admin_user.pk}" if value == "user"
             else (today - timedelta(days=int(value[4:]))).isoformat() if value.startswith("day-") else value
             for name, value in query.items()}
    from_counts = charts(admin_client.get(reverse("audit:activity"), query))
    monkeypatch.setattr(chart, "day_counts", lambda filterset: None)
    from_events = charts(admin_client.get(reverse("audit:activity"), query))

    assert from_counts == from_events
    assert ("<rect" in from_counts) == (query.get("action") != "raised")  # raised is in no series


def charts(response) -> str:
    """The page's charts (wide and phone) and its table of figures: not its per-response nonces."""
    page = response.content.decode()
    assert response.status_code == 200
    return page[page.index("<main"):page.index("events-table")]


def test_the_events_table_shows_one_page_newest_first(admin_client, month_of_events):
    page = admin_client.get(reverse("audit:activity")).content.decode()
    table = page[page.index("events-table"):page.index("</table>", page.index("events-table"))]

    newest = Event.objects.order_by("-at", "-id").values_list("phone", flat=True)[:50]
    assert table.count("<tr>") == 1 + 50  # the header's row and a page of events
    assert [cell.split("?phone=%2B")[1].split('"')[0] for cell in table.split('class="phone" href=')[1:]] == [
        phone.lstrip("+") for phone in newest]
