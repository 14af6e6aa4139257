"""Export CSV: exactly what the tab's filter shows, all pages, streamed, safe in a spreadsheet."""

import csv
import io
import os
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from blacklist.exports import spreadsheet_safe
from blacklist.models import BlacklistedNumber, Status, default_reason_id, internal_list_id
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
    defaults = {"reason_id": default_reason_id(), "dnc_list_id": internal_list_id()}  # not a query per number
    BlacklistedNumber.objects.bulk_create(
        (BlacklistedNumber(phone=f"+1212{i:07d}", **defaults) for i in range(100_000)), batch_size=10_000
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


@pytest.fixture
def varied_numbers(make_user):
    """More than a page of numbers over three lists, added through the service by users with risky
    names, from uploads with quotes, commas, newlines, formula starts and non-ASCII in their file
    names, by nobody, as prefix entries, some approved later; dates in winter and in summer."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from blacklist import services
    from blacklist.models import DncList

    lists = [DncList.objects.create(name=name) for name in ('Solar, "West"', "-Ütility\nnorth", "@Acme")]
    users = [make_user("Reviewer", name) for name in ("rita", "-dash", "@at.someone", "=eq+sign")]
    uploads = [TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name=name)
               for name in ('opt "outs", march.csv', "line\nbreak.csv", "=SUM(1).csv", "+1.csv", "Ünïcødé ☎.csv",
                            "", "\tleading tab.csv", "＋wide.csv", "+14155550100\n", "+14155550100", "+0123", "+1",
                            "+123456789012345", "+12+34", "+1٢٣", "+44\n\n")]
    for i, dnc_list in enumerate([None, *lists]):
        for j, upload in enumerate([None, *uploads]):
            user = None if (i + j) % 5 == 0 else users[(i + j) % len(users)]
            phones = [f"+1{415 + i}555{j:02d}{k:02d}" for k in range(4)] + [f"+1{212 + i}{j:02d}*"]
            services.add_numbers(phones, Status.REVIEW if j % 2 else Status.APPROVED, user=user, source_task=upload,
                                 dnc_list=dnc_list)
    services.approve(BlacklistedNumber.objects.filter(phone__endswith="01"), users[0])
    summer = datetime(2026, 7, 4, 23, 59, 59, 999_999, tzinfo=ZoneInfo("UTC"))
    BlacklistedNumber.objects.filter(phone__endswith="2").update(added_at=summer)
    assert BlacklistedNumber.objects.count() > 200  # more than a page, and more than one COPY chunk's rows


@pytest.mark.parametrize("tab, query", [
    ("review", {"list": "all"}),
    ("approved", {"list": "all", "sort": "-phone"}),
    ("approved", {"list": "all", "sort": "added_at", "phone": "415"}),
    ("review", {"sort": "-status_changed_at"}),
])
@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
def test_the_export_is_byte_for_byte_what_the_python_writer_makes(admin_client, varied_numbers, monkeypatch, tab,
                                                                  query, zone):
    from blacklist import views
    from blacklist.exports import csv_download, number_rows

    url = reverse("blacklist:export", args=[tab])
    with timezone.override(zone):
        sent = b"".join(admin_client.get(url, query).streaming_content)
        monkeypatch.setattr(views, "numbers_download", lambda numbers, name: csv_download(number_rows(numbers), name))
        written = b"".join(admin_client.get(url, query).streaming_content)

    assert sent.count(b"\r\n") > 20
    assert sent == written


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's COPY")
@pytest.mark.django_db(transaction=True)  # the cancelled COPY is its own transaction, as in production
def test_an_export_the_client_leaves_early_frees_the_connection(varied_numbers, monkeypatch):
    from blacklist.exports import copied_rows

    monkeypatch.setattr("blacklist.exports.COPY_CHUNK_BYTES", 100)  # many chunks: the reader is still busy
    with timezone.override("Asia/Kolkata"):
        chunks = copied_rows(BlacklistedNumber.objects.order_by("id"))
        next(chunks), next(chunks)
        chunks.close()

    first = BlacklistedNumber.objects.order_by("id").values_list("added_at", flat=True)[0]
    assert first.utcoffset() == timedelta(0) and first == BlacklistedNumber.objects.order_by("id")[0].added_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone')")
        assert cursor.fetchone() == ("UTC",)  # as Django reads every date
