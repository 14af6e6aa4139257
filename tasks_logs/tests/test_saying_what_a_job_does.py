"""Tasks Logs say what each job does and how far it got: the status an import adds at, what a
queued bulk job will do, the phase of a running import in words, and on a task's page a link to
the numbers it added, its list said once."""

import html
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.urls import reverse

from blacklist import services, views
from blacklist.models import BlacklistedNumber, DncList, Status, internal_list_id
from blacklist.request_details import RequestDetails
from tasks_logs import jobs
from tasks_logs.models import MergeProgress, TaskLog

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def upload(rows: list[str], status=Status.REVIEW, dnc_list=None, user=None) -> TaskLog:
    content = "\n".join(rows) + "\n"
    csv_file = services.csv_files.CsvFile("optouts.csv", content, "utf-8", len(content), len(rows))
    return services.save_upload(csv_file, status, user, RequestDetails(), dnc_list=dnc_list)


def test_an_import_row_says_the_list_and_the_status_it_adds_at(admin_client):
    solar = DncList.objects.create(name="Campaign: Solar West")
    upload(["4155550100"], Status.PERMANENT, solar)

    page = text(admin_client.get(reverse("tasks_logs:list")))

    assert "into Campaign: Solar West, as approved permanently" in page


@pytest.mark.parametrize("params, says", [
    ({"tab": "approved", "action": "remove", "query": "", "list": 0}, "all matching numbers on “Internal”"),
    ({"tab": "approved", "action": "remove", "query": "", "list": None}, "all matching numbers on every list"),
    ({"tab": "approved", "action": "remove", "query": ""}, "all matching numbers on “Internal”"),  # before lists
    ({"tab": "approved", "action": "remove", "query": "", "list": None, "confirmed_count": 1234567},
     "all 1,234,567 matching numbers on every list"),
])
def test_a_queued_bulk_job_says_what_it_will_do_not_zero_percent(admin_client, params, says):
    params = {**params, "list": internal_list_id()} if params.get("list") == 0 else params
    TaskLog.objects.create(kind=TaskLog.Kind.BULK_REMOVE, params=params)

    page = text(admin_client.get(reverse("tasks_logs:list")))

    assert says in page and "Waiting for a worker" in page
    assert "0% (0/0)" not in page


@pytest.mark.parametrize("phase, processed, merged, says, percent", [
    (TaskLog.Phase.READING, 0, None, "Reading the file · 0%", 0),
    (TaskLog.Phase.CHECKING, 30_000, None, "Checking numbers · 39%", 39),  # 60% of the rows: 60% of its 65%
    (TaskLog.Phase.MERGING, 50_000, None, "Merging into the list · 65%", 65),  # SQLite: no merge progress
    (TaskLog.Phase.MERGING, 50_000, 25_000, "Merging into the list · 82%", 82),
])
def test_a_running_import_shows_its_phase_in_words_and_its_bar_moves_through_them(
    admin_client, phase, processed, merged, says, percent
):
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="big.csv", state=TaskLog.State.RUNNING,
                                      phase=phase, total=50_000, processed=processed)
    if merged is not None:
        MergeProgress.objects.create(task_log=task_log, merged=merged, total=50_000)

    row = text(admin_client.get(reverse("tasks_logs:rows"), {"id": task_log.pk}))

    assert f'aria-valuenow="{percent}"' in row and says in row


def test_the_task_page_links_to_the_numbers_it_added_and_says_its_list_once(admin_client):
    solar = DncList.objects.create(name="Campaign: Solar West")
    task_log = upload(["4155550100", "4155550101"], Status.APPROVED, solar)
    services.import_numbers(task_log)

    page = text(admin_client.get(reverse("tasks_logs:detail", args=[task_log.pk])))

    link = f"/blacklist/approved/?source={task_log.pk}&list={solar.pk}"
    assert f'href="{link}" id="its-numbers">Show these numbers</a>' in page
    assert page.count("Campaign: Solar West") == 1
    tab = text(admin_client.get(link))
    assert "(415) 555-0100" in tab and "(415) 555-0101" in tab


def test_an_import_goes_through_its_phases_and_ends_with_none(monkeypatch):
    task_log = upload([f"41555501{n:02d}" for n in range(12)] + ["junk"])
    seen = []
    monkeypatch.setattr(services, "PROGRESS_EVERY", 5)
    real_claim = jobs.claim
    monkeypatch.setattr(jobs, "claim", lambda pk, **fields: seen.append(fields.get("phase")) or real_claim(pk, **fields))

    services.import_numbers(task_log, on_progress=lambda done, total: seen.append(
        (TaskLog.objects.get(pk=task_log.pk).phase, done)))

    task_log.refresh_from_db()
    assert seen == ["reading", ("checking", 5), ("checking", 10), ("checking", 13)]
    assert (task_log.state, task_log.phase, task_log.new, task_log.invalid) == ("succeeded", "", 12, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's one write lock: progress at phase ends only")
def test_the_merge_reports_its_progress_where_another_connection_reads_it_at_once(monkeypatch):
    """What the page sees while the merge's transaction holds its row locked: each chunk merged."""
    task_log = upload([f"4155550{n:03d}" for n in range(25)])
    monkeypatch.setattr(services, "MERGE_CHUNK", 10)
    page = connections.create_connection(DEFAULT_DB_ALIAS)  # as the Tasks Logs page would, meanwhile
    seen = []
    real_reporter = jobs.merge_reporter

    @contextmanager
    def watched(task_log_id, total):
        with real_reporter(task_log_id, total) as report:
            def report_and_look(merged):
                report(merged)
                with page.cursor() as cursor:
                    cursor.execute("SELECT merged, total FROM tasks_logs_mergeprogress WHERE task_log_id = %s",
                                   [task_log_id])
                    progress = cursor.fetchone()
                    cursor.execute("SELECT phase FROM tasks_logs_tasklog WHERE id = %s", [task_log_id])
                    seen.append((cursor.fetchone()[0], *progress))
            yield report_and_look

    monkeypatch.setattr(jobs, "merge_reporter", watched)
    try:
        services.import_numbers(task_log)
    finally:
        page.close()

    assert seen == [("merging", 10, 25), ("merging", 20, 25), ("merging", 25, 25)]
    assert BlacklistedNumber.objects.count() == 25
    assert not MergeProgress.objects.filter(task_log=task_log).exists()  # gone with the job's commit: the counts say it now


def test_a_running_bulk_job_says_it_is_changing_the_numbers(admin_client, make_numbers, monkeypatch):
    make_numbers(Status.APPROVED)
    task_log = TaskLog.objects.create(kind=TaskLog.Kind.BULK_UNAPPROVE,
                                      params={"tab": "approved", "action": "unapprove", "query": "", "list": None})
    claimed = []
    real_claim = jobs.claim

    def claim_and_look(pk, **fields):
        started = real_claim(pk, **fields)
        claimed.append(text(admin_client.get(reverse("tasks_logs:rows"), {"id": pk})))
        return started

    monkeypatch.setattr(jobs, "claim", claim_and_look)
    services.run_bulk_action(task_log)

    assert "Unapprove: all matching numbers on every list" in claimed[0] and "Changing the numbers…" in claimed[0]
    task_log.refresh_from_db()
    assert (task_log.state, task_log.phase, task_log.changed) == ("succeeded", "", 1)


def test_a_queued_all_matching_job_says_the_count_its_user_confirmed(admin_client, make_numbers, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    make_numbers(*[Status.REVIEW] * 12)
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 10)
    monkeypatch.setattr(views, "CONFIRM_ABOVE", 10)
    asked = {"action": "approve", "scope": "all", "query": ""}
    question = text(admin_client.post(reverse("blacklist:bulk_action", args=["review"]), asked))
    assert '<input type="hidden" name="confirmed_count" value="12">' in question

    with django_capture_on_commit_callbacks():  # the task is not sent: the job stays queued
        admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                          {**asked, "confirmed": "on", "confirmed_count": "12"})

    page = text(admin_client.get(reverse("tasks_logs:list")))
    assert "Approve: all 12 matching numbers on “Internal”" in page and "Waiting for a worker" in page
