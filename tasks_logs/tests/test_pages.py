"""The Tasks Logs pages: the table with its filters and progress, the rows partial the live poll
fetches, a task's own page with its rejected rows, and their CSV download."""

import csv
import html
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tasks_logs.models import RejectedRow, TaskLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(admin_user, django_user_model):
    agent = django_user_model.objects.create_user("agent", password="pass-pass-123")
    started = timezone.now() - timedelta(seconds=75)
    running = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="running.csv", created_by=admin_user,
                                     state=TaskLog.State.RUNNING, total=50_000, processed=20_000, started_at=started)
    done = TaskLog.objects.create(
        kind=TaskLog.Kind.IMPORT, file_name="done.csv", created_by=agent, state=TaskLog.State.SUCCEEDED,
        total=12, processed=12, new=5, raised=2, unchanged=1, duplicates=1, invalid=3,
        started_at=started, finished_at=started + timedelta(seconds=1.25), params={"status": 2},
    )
    bulk = TaskLog.objects.create(kind=TaskLog.Kind.BULK_REMOVE, created_by=agent, state=TaskLog.State.FAILED,
                                  message="The filter is not valid. Nothing was changed.")
    return {"running": running, "done": done, "bulk": bulk}


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_tasks_logs_lists_newest_first_with_progress_counts_and_duration(admin_client, tasks):
    page = page_text(admin_client.get(reverse("tasks_logs:list")))

    assert page.index("Bulk remove") < page.index("done.csv") < page.index("running.csv")
    assert 'data-id="{}" data-state="running"'.format(tasks["running"].pk) in page
    assert 'aria-valuenow="40"' in page and "40% (20,000/50,000)" in page
    assert "100% (12/12)" in page
    assert "5 new · 2 raised · 1 unchanged · 1 duplicates · 3 invalid" in page
    assert "1.2 s" in page and "1 min 1" in page  # done took 1.25 s; running has run for 75 s so far
    assert f'href="{reverse("tasks_logs:detail", args=[tasks["done"].pk])}"' in page
    assert 'data-rows-url="/tasks/rows/"' in page and "js/tasks_logs.js" in page
    assert '<div class="small text-danger">The filter is not valid. Nothing was changed.</div>' in page  # why it failed


@pytest.mark.parametrize("query, shown", [
    ({"kind": "import"}, {"running", "done"}),
    ({"state": "succeeded"}, {"done"}),
    ({"kind": "bulk_remove", "state": "failed"}, {"bulk"}),
    ({"state": "queued"}, set()),
])
def test_tasks_logs_filter_by_kind_and_state(admin_client, tasks, query, shown):
    page = page_text(admin_client.get(reverse("tasks_logs:list"), query))
    assert {name for name, task in tasks.items() if f'data-id="{task.pk}"' in page} == shown
    if not shown:
        assert "No tasks yet." in page


def test_tasks_logs_filter_by_user(admin_client, tasks, django_user_model):
    agent = django_user_model.objects.get(username="agent")
    page = page_text(admin_client.get(reverse("tasks_logs:list"), {"created_by": agent.pk}))
    assert {name for name, task in tasks.items() if f'data-id="{task.pk}"' in page} == {"done", "bulk"}
    assert f'<option value="{agent.pk}" selected>agent</option>' in page


def test_the_rows_partial_renders_just_the_asked_rows_with_the_page_template(admin_client, tasks):
    running, done = tasks["running"], tasks["done"]
    TaskLog.objects.filter(pk=running.pk).update(processed=45_000)

    response = admin_client.get(reverse("tasks_logs:rows"), {"id": [running.pk, done.pk]})

    page = page_text(response)
    assert page.count("<tr ") == 2 and "<table" not in page and "<html" not in page
    assert "90% (45,000/50,000)" in page and "done.csv" in page and "Bulk remove" not in page


def test_task_page_shows_counts_run_and_paginated_rejected_rows(admin_client, tasks):
    done = tasks["done"]
    RejectedRow.objects.bulk_create(RejectedRow(task_log=done, line=n, value=f"bad {n}", reason="too short")
                                    for n in range(2, 62))

    page = page_text(admin_client.get(reverse("tasks_logs:detail", args=[done.pk])))

    assert "Import blacklist: done.csv" in page
    for label, value in [("New", 5), ("Invalid", 3), ("Duplicates within the file", 1)]:
        assert f"<dt class=\"col-6\">{label}</dt><dd class=\"col-6\"" in page and f">{value}</dd>" in page
    assert "Approved" in page and "Download rejected rows (CSV)" in page
    assert "bad 51" in page and "bad 52" not in page  # 50 rows a page
    second = page_text(admin_client.get(reverse("tasks_logs:detail", args=[done.pk]), {"page": 2}))
    assert "bad 52" in second and "bad 61" in second and "bad 51" not in second


def test_a_bulk_task_page_shows_its_message_and_no_rejected_rows(admin_client, tasks):
    page = page_text(admin_client.get(reverse("tasks_logs:detail", args=[tasks["bulk"].pk])))
    assert "The filter is not valid. Nothing was changed." in page
    assert "Rejected rows" not in page and "Changed" in page


def test_rejected_rows_download_is_streamed_csv_with_formula_cells_neutralized(admin_client, tasks):
    done = tasks["done"]
    RejectedRow.objects.bulk_create([
        RejectedRow(task_log=done, line=7, value="=cmd|' /C calc'!A0", reason="not a phone number (contains letters)"),
        RejectedRow(task_log=done, line=3, value="+1 800 FLOWERS", reason="not a phone number (contains letters)"),
        RejectedRow(task_log=done, line=5, value="-12", reason="too short"),
        RejectedRow(task_log=done, line=9, value="@SUM(1+1)", reason="not a phone number (contains letters)"),
        RejectedRow(task_log=done, line=4, value="12345", reason="too short"),
    ])

    response = admin_client.get(reverse("tasks_logs:rejected_csv", args=[done.pk]))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="rejected-rows-{done.pk}-done.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [
        ["line", "value", "reason"],
        ["3", "'+1 800 FLOWERS", "not a phone number (contains letters)"],
        ["4", "12345", "too short"],
        ["5", "'-12", "too short"],
        ["7", "'=cmd|' /C calc'!A0", "not a phone number (contains letters)"],
        ["9", "'@SUM(1+1)", "not a phone number (contains letters)"],
    ]


def test_rejected_rows_download_neutralizes_full_width_formula_starts(admin_client, tasks):
    done = tasks["done"]
    RejectedRow.objects.bulk_create([
        RejectedRow(task_log=done, line=line, value=value, reason="not a phone number (contains letters)")
        for line, value in [(1, "＝1+1"), (2, "＋1 800 FLOWERS"), (3, "－12"), (4, "＠SUM(A1)")]
    ])

    response = admin_client.get(reverse("tasks_logs:rejected_csv", args=[done.pk]))

    text = b"".join(response.streaming_content).decode("utf-8")
    assert [row[1] for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")))] == [
        "value", "'＝1+1", "'＋1 800 FLOWERS", "'－12", "'＠SUM(A1)"]


@pytest.mark.parametrize("url_name, args", [("tasks_logs:list", []), ("tasks_logs:rows", []),
                                            ("tasks_logs:detail", [1]), ("tasks_logs:rejected_csv", [1])])
def test_tasks_pages_need_a_login_and_take_only_get(client, admin_client, url_name, args):
    url = reverse(url_name, args=args)
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"
    assert admin_client.post(url).status_code == 405


def test_an_unknown_task_is_404(admin_client):
    assert admin_client.get(reverse("tasks_logs:detail", args=[999])).status_code == 404
    assert admin_client.get(reverse("tasks_logs:rejected_csv", args=[999])).status_code == 404
