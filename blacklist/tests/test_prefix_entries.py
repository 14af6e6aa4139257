"""Prefix blocks (`+1201*`, docs/uploads.md): Managers add them by hand and in uploads, others
are told why not; too broad or impossible prefixes are refused with the reason; a prefix entry
follows the numbers' rules and events; the tabs show it with a badge and the listed numbers it
covers, without counting millions of rows."""

import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import Event
from blacklist import csv_files, services
from blacklist.models import BlacklistedNumber, DncList, Status, internal_list_id, numbers_under
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db

ONLY_MANAGERS = "a prefix block: only Managers may add one"
BAD_PREFIXES = [  # (written, the reason it is refused)
    ("+1*", "a bare country code (+1): too broad"),
    ("+120*", "too broad: at least 3 digits after the country code (+1)"),
    ("+1200*", "no valid number of +1 starts with it"),
    ("+14155550100*", "a whole number, not a prefix: write it without the *"),
    ("4155550100X", "a whole number, not a prefix: write it without the *"),
    ("+999*", "unknown country code"),
]


@pytest.fixture
def manager_user(make_user):
    return make_user("Manager")


@pytest.fixture
def reviewer_user(make_user):
    return make_user("Reviewer")


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def listed() -> dict[str, int]:
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def add_by_hand(client, *lines, **data):
    return client.post(reverse("blacklist:add"), {"numbers": "\n".join(lines), **data})


def import_file(user, *rows: str) -> TaskLog:
    """Store a file as the upload view does and import it in-process, as the worker would."""
    content = ("phone\n" + "\n".join(rows) + "\n").encode()
    task_log = services.save_upload(csv_files.read_csv("prefixes.csv", io.BytesIO(content)), Status.REVIEW, user)
    return services.import_numbers(task_log)


def test_managers_have_the_prefix_permission_and_reviewers_do_not(manager_user, reviewer_user):
    assert manager_user.has_perm("blacklist.add_prefix")
    assert not reviewer_user.has_perm("blacklist.add_prefix")
    assert services.may_add_prefixes(None)  # import_blacklist without --user: whoever runs the server


# By hand.

def test_a_manager_adds_prefixes_by_hand_in_every_written_form(client, manager_user):
    manager = as_user(client, manager_user)
    assert "A prefix block ends with * or X" in text(manager.get(reverse("blacklist:add")))

    response = add_by_hand(manager, "+1201*", "+44 700*", "212XXXXXXX", "+1 (646) 555*", "415 555 0100")

    assert response.status_code == 302
    assert listed() == {"+1201*": Status.REVIEW, "+44700*": Status.REVIEW, "+1212*": Status.REVIEW,
                        "+1646555*": Status.REVIEW, "+14155550100": Status.REVIEW}
    assert Event.objects.filter(action=Event.Action.ADDED, via=Event.Via.HAND, user=manager_user).count() == 5


def test_a_reviewer_typing_a_prefix_gets_the_reason_and_nothing_is_added(client, reviewer_user):
    reviewer = as_user(client, reviewer_user)
    assert "A prefix block ends with" not in text(reviewer.get(reverse("blacklist:add")))

    response = add_by_hand(reviewer, "415 555 0100", "+1201*")

    assert response.status_code == 200
    assert response.context["form"].errors["numbers"] == [
        "Nothing was added. Fix these lines and submit again.", f"Line 2 (+1201*): {ONLY_MANAGERS}."]
    assert f"Line 2 (+1201*): {ONLY_MANAGERS}." in text(response)
    assert listed() == {}
    assert not Event.objects.exists()


@pytest.mark.parametrize(("written", "reason"), BAD_PREFIXES)
def test_too_broad_or_impossible_prefixes_by_hand_are_refused_with_the_reason(client, manager_user, written, reason):
    response = add_by_hand(as_user(client, manager_user), "415 555 0100", written)

    assert response.status_code == 200
    assert f"Line 2 ({written}): {reason}." in response.context["form"].errors["numbers"]
    assert listed() == {}


def test_a_manager_adds_a_prefix_into_a_named_list(client, manager_user):
    solar = DncList.objects.create(name="Campaign: Solar West")

    add_by_hand(as_user(client, manager_user), "+1201*", dnc_list=solar.pk, approve="on")

    assert list(BlacklistedNumber.objects.values_list("phone", "dnc_list", "status")) == [
        ("+1201*", solar.pk, Status.APPROVED)]


# In uploads.

def test_a_managers_upload_adds_its_prefix_rows(manager_user):
    task_log = import_file(manager_user, "+1201*", "201XXXXXXX", "+44 700*", "415 555 0100", "+1*")

    assert (task_log.state, task_log.total, task_log.new, task_log.duplicates, task_log.invalid) == (
        TaskLog.State.SUCCEEDED, 5, 3, 1, 1)
    assert listed() == {"+1201*": Status.REVIEW, "+44700*": Status.REVIEW, "+14155550100": Status.REVIEW}
    assert list(task_log.rejected_rows.values_list("line", "value", "reason")) == [
        (6, "+1*", "a bare country code (+1): too broad")]
    assert BlacklistedNumber.objects.get(phone="+1201*").source_line == 2


def test_a_reviewers_upload_rejects_its_prefix_rows_with_the_reason(reviewer_user):
    task_log = import_file(reviewer_user, "+1201*", "415 555 0100", "201XXXXXXX", '"+44 700*"')

    assert (task_log.state, task_log.new, task_log.invalid) == (TaskLog.State.SUCCEEDED, 1, 3)
    assert task_log.message == "New numbers were added for review. 3 row(s) were rejected: see below."
    assert list(task_log.rejected_rows.values_list("line", "value", "reason")) == [
        (2, "+1201*", ONLY_MANAGERS), (4, "201XXXXXXX", ONLY_MANAGERS), (5, "+44 700*", ONLY_MANAGERS)]
    assert listed() == {"+14155550100": Status.REVIEW}


def test_the_permission_is_the_uploaders_when_the_import_runs(manager_user, reviewer_user):
    from roles.groups import assign

    content = b"phone\n+1201*\n"
    task_log = services.save_upload(csv_files.read_csv("late.csv", io.BytesIO(content)), Status.REVIEW, manager_user)
    assign(manager_user, "Reviewer")  # demoted while the file waited in the queue
    manager_user = type(manager_user).objects.get(pk=manager_user.pk)  # no cached permissions

    task_log = services.import_numbers(task_log)

    assert (task_log.new, task_log.invalid) == (0, 1)
    assert listed() == {}


@pytest.mark.parametrize(("written", "reason"), BAD_PREFIXES)
def test_too_broad_or_impossible_prefix_rows_are_rejected_with_the_reason(manager_user, written, reason):
    task_log = import_file(manager_user, written)

    assert list(task_log.rejected_rows.values_list("value", "reason")) == [(written, reason)]
    assert listed() == {}


def test_the_upload_view_queues_prefix_rows_for_the_worker_to_judge(client, reviewer_user,
                                                                   django_capture_on_commit_callbacks):
    file = SimpleUploadedFile("mixed.csv", b"phone\n+1201*\n4155550100\n")
    with django_capture_on_commit_callbacks(execute=False):
        response = as_user(client, reviewer_user).post(reverse("blacklist:upload"), {"file": file})

    assert response.status_code == 302  # the file is fine: its rows are judged by the import, row by row
    assert TaskLog.objects.get().total == 2


# The same rules and events as numbers.

def test_a_prefix_entry_is_approved_then_approved_permanently_and_then_never_removed(client, manager_user):
    manager = as_user(client, manager_user)
    add_by_hand(manager, "+1201*")
    prefix = BlacklistedNumber.objects.get(phone="+1201*")

    manager.post(reverse("blacklist:row_action", args=["review", "approve"]), {"pk": prefix.pk, "query": ""})
    manager.post(reverse("blacklist:row_action", args=["approved", "approve_permanently"]),
                 {"pk": prefix.pk, "query": ""})
    response = manager.post(reverse("blacklist:row_action", args=["approved", "remove"]),
                            {"pk": prefix.pk, "query": ""}, follow=True)
    outcome = services.remove(BlacklistedNumber.objects.filter(pk=prefix.pk), manager_user,
                              justification="the consumer asked")

    assert "1 permanently approved number was skipped." in text(response)
    assert (outcome.changed, outcome.skipped) == (0, {"permanently approved": 1})
    assert listed() == {"+1201*": Status.PERMANENT}
    assert list(Event.objects.order_by("pk").values_list("phone", "action", "from_status", "to_status", "via",
                                                         "dnc_list")) == [
        ("+1201*", Event.Action.ADDED, None, Status.REVIEW, Event.Via.HAND, internal_list_id()),
        ("+1201*", "approved", Status.REVIEW, Status.APPROVED, Event.Via.ROW, internal_list_id()),
        ("+1201*", "approved_permanently", Status.APPROVED, Status.PERMANENT, Event.Via.ROW, internal_list_id()),
    ]


def test_a_prefix_added_again_is_merged_as_a_number_is(manager_user):
    import_file(manager_user, "+1201*")
    task_log = services.save_upload(csv_files.read_csv("again.csv", io.BytesIO(b"201XXXXXXX\n")), Status.APPROVED,
                                    manager_user)
    task_log = services.import_numbers(task_log)

    assert (task_log.new, task_log.raised) == (0, 1)
    assert listed() == {"+1201*": Status.APPROVED}
    assert list(Event.objects.order_by("pk").values_list("action", "to_status")) == [
        (Event.Action.ADDED, Status.REVIEW), (Event.Action.RAISED, Status.APPROVED)]


# On the tabs.

def test_the_tab_shows_a_prefix_with_its_badge_and_the_numbers_it_covers(client, manager_user):
    solar = DncList.objects.create(name="Campaign: Solar West")
    services.add_numbers(["+1201*", "+1202555*", "+44700*"], Status.REVIEW)
    services.add_numbers(["+12015550100", "+12015550101", "+12025550100"], Status.REVIEW)
    services.add_numbers(["+12015550100", "+12015550199", "+12015*"], Status.REVIEW, dnc_list=solar)

    page = text(as_user(client, manager_user).get(reverse("blacklist:review") + "?list=all"))  # every list

    rows = {re.sub(r"<[^>]+>", "", row).split("…")[0]: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page) if "…" in row}
    # Numbers on any list (one number on two lists is two entries); the prefix +12015* is not counted.
    assert "+1 201… prefix covers 4 listed numbers" in rows["+1 201"]
    assert "+1 2015… prefix covers 4 listed numbers" in rows["+1 2015"]
    assert "+1 202555… prefix covers 1 listed number " in rows["+1 202555"]
    assert "+44 700… prefix covers 0 listed numbers" in rows["+44 700"]
    assert page.count('<span class="badge text-bg-info">prefix</span>') == 4
    assert "(201) 555-0100 </a> <span" not in page  # numbers get no badge


def test_coverage_is_counted_for_the_pages_prefixes_only_in_a_few_bounded_queries(client, manager_user):
    services.add_numbers([f"+1201555{n:04d}" for n in range(60)] + ["+1201*", "+1646*"], Status.REVIEW)
    manager = as_user(client, manager_user)

    with CaptureQueriesContext(connection) as queries:
        manager.get(reverse("blacklist:review") + "?per_page=25")

    coverage = [query["sql"] for query in queries.captured_queries if "LIKE" in query["sql"]]
    on_page = BlacklistedNumber.objects.prefixes().filter(
        pk__in=[row.pk for row in BlacklistedNumber.objects.order_by("-added_at", "-id")[:25]]).count()
    assert on_page  # one at least, asked about; none for the numbers
    assert len(coverage) == (2 if connection.vendor == "postgresql" else 1)  # the estimates (EXPLAIN), the counts
    if connection.vendor == "postgresql":
        assert f"LIMIT {1_001}" in coverage[-1]


def test_a_page_of_many_prefixes_counts_their_coverage_in_two_queries(client, manager_user):
    services.add_numbers([f"+1201{n:03d}{m:04d}" for n in range(3) for m in range(n + 1)], Status.REVIEW)
    services.add_numbers([f"+1201{n:03d}*" for n in range(30)], Status.REVIEW)  # 1, 2, 3 numbers under the first 3
    if connection.vendor == "postgresql":  # statistics left by earlier tests may make the EXPLAIN a parallel
        with connection.cursor() as cursor:  # plan, whose arms are asked one by one (models._numbers_under)
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # the test's transaction only

    with CaptureQueriesContext(connection) as queries:
        page = text(as_user(client, manager_user).get(reverse("blacklist:review") + "?per_page=25&sort=phone"))

    shown = page.count('<span class="badge text-bg-info">prefix</span>')
    assert shown == 25 - 6  # by number: each prefix first, then the numbers under it
    assert page.count("covers 1 listed number</span>") == page.count("covers 2 listed numbers</span>") == 1
    assert page.count("covers 3 listed numbers</span>") == 1
    assert page.count("covers 0 listed numbers</span>") == shown - 3
    assert len([query for query in queries.captured_queries if "LIKE" in query["sql"]]) == (
        2 if connection.vendor == "postgresql" else 1)  # not one or two a prefix


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_above_a_thousand_postgresql_shows_the_planners_estimate(client, manager_user):
    services.add_numbers([f"+1201{n:07d}" for n in range(2_000_000, 2_004_000)], Status.APPROVED)
    services.add_numbers([f"+1646555{n:04d}" for n in range(500)], Status.APPROVED)
    services.add_numbers(["+1201*"], Status.APPROVED)  # newest: on the first page
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BlacklistedNumber._meta.db_table}")

    (count, exact), = numbers_under(["+1201*"]).values()
    page = text(as_user(client, manager_user).get(reverse("blacklist:approved")))

    assert not exact
    assert 2_000 < count < 8_000  # the planner's estimate of 4,000
    assert f"covers ~{count:,} listed numbers" in page
