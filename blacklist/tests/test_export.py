"""Export CSV: exactly what the tab's filter shows, all pages, streamed, safe in a spreadsheet."""

import csv
import io
import os

import pytest
from django.urls import reverse

from blacklist.exports import spreadsheet_safe
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db


def exported(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")  # a byte order mark, as on every download: Excel reads UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_export_holds_what_the_filter_shows_on_every_page(admin_client, admin_user):
    upload = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="optouts.csv")
    BlacklistedNumber.objects.bulk_create(
        [BlacklistedNumber(phone=f"+1415555{i:04d}", status=Status.APPROVED, added_by=admin_user, source_task=upload)
         for i in range(30)]
        + [BlacklistedNumber(phone="+14155550999", status=Status.PERMANENT),
           BlacklistedNumber(phone="+14155550998", status=Status.REVIEW),
           BlacklistedNumber(phone="+12125550100", status=Status.APPROVED)]
    )

    response = admin_client.get(reverse("blacklist:export", args=["approved"]), {"phone": "415 555", "sort": "phone"})

    rows = exported(response)
    assert rows[0] == ["number", "status", "added", "added by", "source", "last status change", "list"]
    assert [row[0] for row in rows[1:]] == [f"+1415555{i:04d}" for i in range(30)] + ["+14155550999"]
    assert rows[1][1:2] + rows[1][3:5] == ["Approved", "admin", "optouts.csv"]
    assert rows[-1][1:2] + rows[-1][3:5] == ["Permanently approved", "", "manual"]
    assert 'attachment; filename="blacklist-approved-' in response["Content-Disposition"]


def test_export_cells_cannot_run_as_formulas(admin_client, django_user_model):
    sneaky = django_user_model.objects.create_user("=cmd|' /C calc'!A0")
    upload = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="@SUM(1+1).csv")
    BlacklistedNumber.objects.create(phone="+14155550100", added_by=sneaky, source_task=upload)

    rows = exported(admin_client.get(reverse("blacklist:export", args=["review"])))

    assert rows[1][0] == "+14155550100"  # the number itself stays as it is
    assert rows[1][3:5] == ["'=cmd|' /C calc'!A0", "'@SUM(1+1).csv"]


@pytest.mark.parametrize("cell, safe", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@A1", "'@A1"),
                                        ("\tx", "'\tx"), ("plain", "plain"), (None, ""),
                                        ("＝1+1", "'＝1+1"), ("＋1", "'＋1"), ("－2", "'－2"), ("＠A1", "'＠A1"),
                                        ("+14155550100", "+14155550100"), ("+1 415 555 0100", "'+1 415 555 0100")])
def test_spreadsheet_safe(cell, safe):
    assert spreadsheet_safe(cell) == safe


@pytest.mark.parametrize("file_name", ["＝HYPERLINK(\"http://x\").csv", "＋1＋1.csv", "－2.csv", "＠SUM(A1).csv"])
def test_export_neutralizes_full_width_formula_starts_like_their_ascii_forms(admin_client, file_name):
    # (Usernames cannot carry them: Django folds a username's full-width characters to ASCII.)
    upload = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name=file_name)
    BlacklistedNumber.objects.create(phone="+14155550100", source_task=upload)

    rows = exported(admin_client.get(reverse("blacklist:export", args=["review"])))

    assert rows[1][4] == "'" + file_name


def test_export_of_an_invalid_filter_exports_nothing(admin_client, make_numbers):
    make_numbers(Status.REVIEW)
    response = admin_client.get(reverse("blacklist:export", args=["review"]), {"added_after": "soon"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["The filter is not valid, so there is nothing to export."]


def test_export_refuses_anonymous_users_and_unknown_tabs(client, admin_client):
    assert client.get(reverse("blacklist:export", args=["review"])).status_code == 302
    assert admin_client.get(reverse("blacklist:export", args=["everything"])).status_code == 404


@pytest.mark.slow
def test_export_streams_100000_rows_in_flat_memory(admin_client):
    BlacklistedNumber.objects.bulk_create(
        (BlacklistedNumber(phone=f"+1212{i:07d}") for i in range(100_000)), batch_size=10_000
    )
    response = admin_client.get(reverse("blacklist:export", args=["review"]))
    before = peak = resident_bytes()
    lines = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        if lines % 5_000 == 0:
            peak = max(peak, resident_bytes())

    assert lines == 100_001
    # Holding 100,000 rows (model rows, or the CSV text) would take well over 10 MB more.
    assert peak - before < 10 * 1024 * 1024


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
