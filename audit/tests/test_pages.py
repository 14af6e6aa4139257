"""A number's history (from a tab's row, or searched, also once removed) and the Activity page:
filters, CSV export and the per-day chart."""

import csv
import html
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows_shown(page: str) -> int:
    return page[page.index("events-table"):].count("· its history")


@pytest.fixture
def story(admin_user, django_user_model):
    """+14155550100: added by hand, approved by rita, removed by admin. +14155550101 added and kept."""
    rita = django_user_model.objects.create_user("rita")
    services.add_numbers(["+14155550100", "+14155550101"], Status.REVIEW, admin_user, source=Source(Event.Via.HAND))
    services.approve(BlacklistedNumber.objects.filter(phone="+14155550100"), rita, Source(Event.Via.ROW))
    services.remove(BlacklistedNumber.objects.filter(phone="+14155550100"), admin_user, Source(Event.Via.BULK),
                    justification="Added by mistake")  # kept for retention otherwise
    return rita


def test_each_row_of_a_tab_links_to_its_history(admin_client, make_numbers):
    make_numbers(Status.REVIEW)
    page = text(admin_client.get(reverse("blacklist:review")))

    assert f'href="{reverse("audit:history")}?phone=%2B14155550100"' in page


def test_a_removed_numbers_history_is_found_by_searching_it(admin_client, story):
    page = text(admin_client.get(reverse("audit:history"), {"phone": "(415) 555-0100"}))

    assert "History of (415) 555-0100" in page and 'title="+14155550100">(415) 555-0100</span>' in page
    assert "Not on <strong>Internal</strong> now: Removed on " in page and "by admin" in page
    rows = page[page.index("<tbody>"):]
    assert rows.index("Added") < rows.index("Approved") < rows.index("Removed")  # oldest first
    assert "For review → Approved" in rows and "rita" in rows and "Row action" in rows and "Added by hand" in rows


def test_history_of_a_listed_number_shows_its_status(admin_client, story):
    page = text(admin_client.get(reverse("audit:history"), {"phone": "+14155550101"}))
    assert "On <strong>Internal</strong>: <strong>For review</strong>" in page


def test_history_refuses_what_is_not_a_number(admin_client):
    response = admin_client.get(reverse("audit:history"), {"phone": "CALL ME"}, follow=True)
    assert "is not a phone number" in text(response)


def test_activity_lists_every_event_newest_first_and_is_in_the_menu(admin_client, story):
    page = text(admin_client.get(reverse("audit:activity")))

    assert f'href="{reverse("audit:activity")}">Activity</a>' in page
    table = page[page.index("events-table"):]
    assert table.index("Removed") < table.index("Approved") < table.index("Added")
    assert rows_shown(page) == 4


@pytest.mark.parametrize("query, expected", [
    ({"action": "added"}, 2),
    ({"action": "removed"}, 1),
    ({"phone": "415 555 0100"}, 3),
    ({"phone": "+1415555010"}, 4),  # a prefix
    ({"date_after": "2000-01-01", "date_before": "2000-01-02"}, 0),
])
def test_activity_filters(admin_client, story, query, expected):
    page = text(admin_client.get(reverse("audit:activity"), query))
    assert rows_shown(page) == expected


def test_activity_filters_by_actor(admin_client, story):
    page = text(admin_client.get(reverse("audit:activity"), {"actor": f"user:{story.pk}"}))
    assert rows_shown(page) == 1 and "rita" in page[page.index("events-table"):]


def test_activity_export_is_the_filtered_events_as_csv(admin_client, story):
    response = admin_client.get(reverse("audit:export"), {"phone": "4155550100"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")  # a byte order mark, as on every download: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:7] == ["when", "number", "list", "action", "from status", "to status", "by"]
    assert [row[1:8] for row in rows[1:]] == [
        ["+14155550100", "Internal", "Removed", "Approved", "", "admin", "Bulk action"],
        ["+14155550100", "Internal", "Approved", "For review", "Approved", "rita", "Row action"],
        ["+14155550100", "Internal", "Added", "", "For review", "admin", "Added by hand"],
    ]


def test_the_chart_counts_added_approved_and_removed_per_day(admin_client, story):
    today = timezone.localdate()
    page = text(admin_client.get(reverse("audit:activity")))

    assert '<svg class="activity-chart"' in page
    assert f"<title>{today:%Y-%m-%d}: 2 added</title>" in page
    assert f"<title>{today:%Y-%m-%d}: 1 approved</title>" in page
    assert f"<title>{today:%Y-%m-%d}: 1 removed</title>" in page
    # From the first event's day (today) to today, a week at least: not a month of empty days.
    assert f"<title>{today - timedelta(days=6):%Y-%m-%d}: 0 added</title>" in page
    assert f"<title>{today - timedelta(days=7):%Y-%m-%d}: 0 added</title>" not in page


def test_the_chart_follows_the_chosen_range(admin_client, story):
    page = text(admin_client.get(reverse("audit:activity"), {"date_after": "2026-01-01", "date_before": "2026-01-03"}))
    chart = page.split('<div class="d-none d-sm-block">')[1].split("</svg>")[0]  # the wide chart, not the phone's
    assert chart.count("<rect") == 3 * 3


def test_history_takes_a_number_as_stored_even_if_metadata_would_refuse_it_now(admin_client, admin_user):
    services.add_numbers(["+12000123456"], Status.REVIEW, admin_user)  # area code 200: not valid today
    page = text(admin_client.get(reverse("audit:history"), {"phone": "+12000123456"}))
    assert "History of +1 200-012-3456" in page and "On <strong>Internal</strong>: " in page
