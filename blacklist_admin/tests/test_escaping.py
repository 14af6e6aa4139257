"""Names and values people send come back inert: HTML escaped on every page that shows them
(tabs, Tasks Logs, Activity, number history), formula-looking cells neutralized in every export."""

import csv
import io

import pytest
from django.urls import reverse

from blacklist import csv_files, services
from blacklist.models import Status
from blacklist.phones import E164

HOSTILE_NAME = '=1+2 "<img src=x onerror=alert(1)>.csv'
ESCAPED_NAME = "&lt;img src=x onerror=alert(1)&gt;"
CONTENT = b"phone\n4155550100\n<b>bold</b>\n=HYPERLINK(\"http://evil.example\")\n@SUM(A1)\n"


@pytest.fixture
def hostile_import(db, admin_user):
    csv_file = csv_files.read_csv(HOSTILE_NAME, io.BytesIO(CONTENT))
    task_log = services.import_numbers(services.save_upload(csv_file, Status.REVIEW, admin_user))
    assert task_log.new == 1 and task_log.invalid == 3
    return task_log


@pytest.mark.parametrize("url_name", ["blacklist:review", "tasks_logs:list", "tasks_logs:detail", "audit:activity",
                                  "audit:history"])
def test_a_hostile_file_name_and_rejected_values_are_shown_escaped(admin_client, hostile_import, url_name):
    # (not `page`: that name is Playwright's browser-page fixture)
    args = [hostile_import.pk] if url_name == "tasks_logs:detail" else []
    query = "?phone=4155550100" if url_name == "audit:history" else ""

    html = admin_client.get(reverse(url_name, args=args) + query).content.decode()

    assert "<img src=x" not in html and "<b>bold</b>" not in html
    if url_name != "audit:history":
        assert ESCAPED_NAME in html
    if url_name == "tasks_logs:detail":
        assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_a_hostile_filter_value_is_echoed_escaped(admin_client, db):
    html = admin_client.get(reverse("blacklist:review"), {"phone": '"><script>alert(1)</script>'}).content.decode()

    assert "<script>alert(1)</script>" not in html


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_every_export_neutralizes_formula_cells(admin_client, hostile_import):
    rejected = csv_rows(admin_client.get(reverse("tasks_logs:rejected_csv", args=[hostile_import.pk])))
    numbers = csv_rows(admin_client.get(reverse("blacklist:export", args=["review"])))
    activity = csv_rows(admin_client.get(reverse("audit:export")))

    assert [row[1] for row in rejected[1:]] == ["<b>bold</b>", "'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1)"]
    for rows in (numbers, activity):
        cells = [cell for row in rows[1:] for cell in row if not E164.match(cell)]  # validated numbers stay as they are
        assert "'" + HOSTILE_NAME in cells
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
