"""The compliance report: requests per week or month of receipt, from the events, as a page and a
CSV file (docs/compliance.md, "Compliance report").

Requests are made as hand entry, uploads and the API make them (services.add_numbers with
RequestDetails), then approved, unapproved and removed through the pages."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import report
from audit.events import Source
from audit.models import Event, OpenRequest, RequestTally
from blacklist import services
from blacklist.deadlines import honour_by
from blacklist.models import BlacklistedNumber, DncList, Reason, Status, default_reason_id, internal_list_id
from blacklist.request_details import RequestDetails

pytestmark = pytest.mark.django_db


def add(phones, days_ago, status=Status.REVIEW, reason="consumer_request"):
    """Numbers whose request arrived `days_ago` days ago, added as hand entry adds them."""
    received = timezone.now() - timedelta(days=days_ago)
    default_reason_id()  # makes the built-in reasons again after a transactional test's flush
    details = RequestDetails(reason=Reason.objects.get(slug=reason), received_at=received)
    services.add_numbers(phones, status, source=Source(Event.Via.HAND), details=details)
    return received


def act(client, tab, action, phones):
    """The bulk action on the chosen numbers of the Internal list (the tabs' default), as the page posts it."""
    ids = list(BlacklistedNumber.objects.in_list(internal_list_id()).filter(phone__in=phones).values_list("pk", flat=True))
    response = client.post(reverse("blacklist:bulk_action", args=[tab]),
                           {"action": action, "scope": "selected", "ids": ids, "confirmed": "on"})
    assert response.status_code == 302


def row(client, tab, action, phone):
    number = BlacklistedNumber.objects.in_list(internal_list_id()).get(phone=phone)  # the tabs' default list
    assert client.post(reverse("blacklist:row_action", args=[tab, action]), {"pk": number.pk}).status_code == 302


def shown(client, **query):
    response = client.get(reverse("audit:compliance"), query)
    assert response.status_code == 200
    return response.context["rows"], response.context["total"]


def by_start(rows):
    return {r.start: r for r in rows if r.received}


def phones(prefix, count):
    return [f"+1415{prefix}{i:05d}" for i in range(count)]


def days_late(received):
    return (timezone.localdate() - honour_by(received)).days


def test_each_outcome_counted_in_the_week_and_month_of_receipt(manager_client):
    today = timezone.localdate()
    add(phones("20", 3), days_ago=1)  # approved now, well before the deadline
    late = add(phones("21", 2), days_ago=60)  # approved now, weeks after it
    added_late = add(phones("22", 1), days_ago=70, status=Status.APPROVED)  # a Manager adds it approved
    add(phones("23", 4), days_ago=0)  # open
    overdue = add(phones("24", 2), days_ago=40)  # never approved: overdue
    withdrawn = add(phones("25", 2), days_ago=30, reason="wrong_number")  # removed before approval
    act(manager_client, "review", "approve", phones("20", 3) + phones("21", 2))
    act(manager_client, "review", "remove", phones("25", 2))

    rows, total = shown(manager_client, period="week", first=(today - timedelta(days=75)).isoformat())
    weeks = by_start(rows)
    week = report.period_start
    assert weeks[week(today - timedelta(days=1), "week")].in_time >= 3
    assert weeks[week(timezone.localdate(late), "week")].late == 2
    assert weeks[week(timezone.localdate(late), "week")].late_days_max == days_late(late)
    assert weeks[week(timezone.localdate(added_late), "week")].late == 1
    assert weeks[week(timezone.localdate(overdue), "week")].overdue == 2
    assert weeks[week(timezone.localdate(withdrawn), "week")].withdrawn == 2
    assert (total.received, total.in_time, total.late, total.withdrawn, total.open, total.overdue) == (14, 3, 3, 2, 4, 2)
    assert total.late_days == 2 * days_late(late) + days_late(added_late)
    assert total.late_days_max == days_late(added_late)
    assert total.late_days_average == round(total.late_days / 3, 1)
    assert len({r.start for r in rows}) == len(rows) >= 11  # every week shown, empty ones too

    rows, month_total = shown(manager_client, period="month", first=(today - timedelta(days=75)).isoformat())
    assert [r.start for r in rows] == sorted({report.period_start(today - timedelta(days=d), "month") for d in range(76)})
    assert month_total == total.__class__(month_total.start, month_total.end, **{
        key: getattr(total, key) for key in ("received", "in_time", "late", "late_days", "late_days_max", "withdrawn",
                                             "open", "overdue")})
    months = by_start(rows)
    assert months[report.period_start(timezone.localdate(late), "month")].late >= 2
    assert sum(r.received for r in rows) == 14


def test_a_request_is_honoured_once_and_an_earlier_repeat_moves_it(manager_client):
    today = timezone.localdate()
    add(["+14155550100"], days_ago=2)
    row(manager_client, "review", "approve", "+14155550100")
    row(manager_client, "approved", "unapprove", "+14155550100")
    row(manager_client, "review", "approve", "+14155550100")  # honoured the first time only
    add(["+14155550101"], days_ago=3)
    earlier = add(["+14155550101"], days_ago=45)  # the same number, asked for earlier: that request counts
    add(["+14155550102"], days_ago=5, reason="wrong_number")
    row(manager_client, "review", "remove", "+14155550102")
    add(["+14155550102"], days_ago=1)  # listed again: a new request, open

    rows, total = shown(manager_client, first=(today - timedelta(days=60)).isoformat())
    assert (total.received, total.in_time, total.late, total.withdrawn, total.open, total.overdue) == (4, 1, 0, 1, 1, 1)
    moved = by_start(rows)[report.period_start(timezone.localdate(earlier), "week")]
    assert (moved.received, moved.overdue) == (1, 1)
    assert OpenRequest.objects.get(phone="+14155550101").deadline == honour_by(earlier)

    row(manager_client, "review", "approve", "+14155550101")  # honoured late, against the earlier deadline
    rows, total = shown(manager_client, first=(today - timedelta(days=60)).isoformat())
    assert (total.received, total.in_time, total.late, total.open, total.overdue) == (4, 1, 1, 1, 0)
    assert total.late_days_max == days_late(earlier)


def test_folding_step_by_step_equals_folding_everything_at_once(manager_client):
    steps = [
        lambda: add(phones("30", 5), days_ago=12),
        lambda: act(manager_client, "review", "approve", phones("30", 3)),
        lambda: add(phones("30", 7), days_ago=33, reason="wrong_number"),  # five merged (earlier), two new
        lambda: act(manager_client, "review", "remove", phones("30", 7)[5:]),
        lambda: add(phones("31", 4), days_ago=8, status=Status.PERMANENT),
        lambda: act(manager_client, "review", "approve_permanently", phones("30", 5)[3:]),
    ]
    for step in steps:
        step()
        report.fold()
    stepwise = sorted(RequestTally.objects.values_list(
        "received_on", "deadline", "received", "honoured", "late", "late_days", "late_days_max", "withdrawn"))
    report.refold()
    assert sorted(RequestTally.objects.values_list(
        "received_on", "deadline", "received", "honoured", "late", "late_days", "late_days_max", "withdrawn")) == stepwise
    assert sum(t[2] for t in stepwise) == 11
    assert not OpenRequest.objects.exists()


def test_the_figures_come_from_one_aggregation_whatever_the_data(manager_client):
    today = timezone.localdate()
    add(phones("40", 3), days_ago=3)
    shown(manager_client)
    with CaptureQueriesContext(connection) as few:
        shown(manager_client)
    for days in range(0, 80, 4):  # twenty more days of requests, in many weeks
        add(phones(f"{41 + days // 10}", 30)[days % 10::10], days_ago=days)
    act(manager_client, "review", "approve", list(BlacklistedNumber.objects.values_list("phone", flat=True)[:40]))
    shown(manager_client)  # folds the new events
    with CaptureQueriesContext(connection) as many:
        rows, total = shown(manager_client, first=(today - timedelta(days=84)).isoformat())
    assert len(many) == len(few)
    assert total.received == BlacklistedNumber.objects.count()
    assert [q["sql"] for q in many if "audit_requesttally" in q["sql"] and "GROUP BY" in q["sql"]]


def test_the_csv_export_is_the_report_with_a_total(manager_client):
    today = timezone.localdate()
    late = add(phones("50", 2), days_ago=50)
    add(phones("51", 1), days_ago=0)
    act(manager_client, "review", "approve", phones("50", 2))
    first = today - timedelta(days=60)
    response = manager_client.get(reverse("audit:compliance_export"), {"period": "month", "first": first.isoformat()})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="compliance-month-')
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == report.CSV_HEADER
    assert lines[-1][0] == "total"
    assert lines[-1][3:] == ["3", "0", "2", f"{float(days_late(late))}", str(days_late(late)), "0", "1", "0"]
    late_month = report.period_start(timezone.localdate(late), "month")
    assert [line for line in lines if line[1] == late_month.isoformat()][0][:6] == [
        f"{late_month:%Y-%m}", late_month.isoformat(), report.period_end(late_month, "month").isoformat(), "2", "0", "2"]
    assert len(lines) == 2 + len({report.period_start(today - timedelta(days=d), "month") for d in range(61)})


@pytest.mark.parametrize("role, status", [("Viewer", 403), ("Reviewer", 200), ("Manager", 200)])
def test_reviewers_and_managers_see_the_report_viewers_do_not(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get(reverse("audit:compliance")).status_code == status
    assert client.get(reverse("audit:compliance_export")).status_code == status
    navigation = client.get(reverse("audit:activity")).content.decode()
    assert (reverse("audit:compliance") in navigation) == (status == 200)


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(reverse("audit:compliance"))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("query, message", [
    ({"first": "2026-13-01"}, "From: Enter a valid date."),
    ({"first": "2026-05-02", "last": "2026-05-01"}, "The first day is after the last."),
    ({"first": "1000-01-01"}, "Choose dates between"),
    ({"first": "2000-01-01", "last": "2026-01-01"}, "Choose at most 10 years."),
    ({"period": "year"}, "Select a valid choice"),
])
def test_a_bad_range_says_why_and_shows_the_last_twelve_weeks(manager_client, query, message):
    response = manager_client.get(reverse("audit:compliance"), query, follow=True)
    assert response.status_code == 200
    assert any(message in str(m) for m in response.context["messages"])
    assert len(response.context["rows"]) == 12 and response.context["period"] == "week"
    export = manager_client.get(reverse("audit:compliance_export"), query)
    assert export.status_code == 302


def test_the_default_range_is_twelve_periods_up_to_today(manager_client):
    today = timezone.localdate()
    rows, _ = shown(manager_client)
    assert rows[-1].start == today - timedelta(days=today.weekday()) and len(rows) == 12
    rows, _ = shown(manager_client, period="month")
    assert rows[-1].start == today.replace(day=1) and len(rows) == 12
    assert rows[0].start == report.default_first(today, "month") and rows[0].start.day == 1
    assert report.default_first(date(2026, 3, 15), "month") == date(2025, 4, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite commits one writer at a time, in id order")
def test_a_fold_never_skips_events_a_writer_has_not_committed_yet(manager_client):
    """Events get their ids when written, not when committed: folding past an uncommitted one
    would skip it for good. The fold waits for writers (briefly), else leaves the tallies."""
    import threading

    from django.db import connections, transaction

    written, release = threading.Event(), threading.Event()
    default_reason_id()  # committed before the writer starts, or both would make the built-in reasons

    def writer():
        try:
            with transaction.atomic():
                add(["+14155550300"], days_ago=4)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    add(["+14155550301"], days_ago=4)  # a later id, committed first
    response = manager_client.get(reverse("audit:compliance"))
    assert response.context["behind"] is None
    assert "not counted yet" in response.content.decode()
    assert response.context["total"].received == 0
    release.set()
    thread.join(10)
    assert report.fold() == 0
    assert sum(RequestTally.objects.values_list("received", flat=True)) == 2
    assert set(OpenRequest.objects.values_list("phone", flat=True)) == {"+14155550300", "+14155550301"}


def test_a_backlog_is_folded_a_slice_a_view_with_the_same_result(manager_client, monkeypatch):
    add(phones("60", 6), days_ago=20, reason="wrong_number")  # not kept for retention: removable
    act(manager_client, "review", "approve", phones("60", 4))
    act(manager_client, "review", "remove", phones("60", 6)[4:5])
    monkeypatch.setattr(report, "PAGE_FOLD", 3)  # event ids a view folds
    response = manager_client.get(reverse("audit:compliance"))
    assert response.context["behind"] > 0 and "Still counting" in response.content.decode()
    for _ in range(10):
        if manager_client.get(reverse("audit:compliance")).context["behind"] == 0:
            break
    rows, total = shown(manager_client)
    assert (total.received, total.late, total.withdrawn, total.overdue) == (6, 4, 1, 1)
    assert "Still counting" not in manager_client.get(reverse("audit:compliance")).content.decode()


def test_requests_recorded_before_issue_14_are_left_out(manager_client):
    """Their `added` events say nothing of the request (no received date, no deadline)."""
    month_ago = timezone.now() - timedelta(days=30)
    BlacklistedNumber.objects.bulk_create([BlacklistedNumber(phone=phone, status=Status.REVIEW, received_at=month_ago,
                                                             deadline=honour_by(month_ago))
                                           for phone in ("+14155550400", "+14155550402")])

    def old_added_event(phone):
        Event.objects.create(phone=phone, action=Event.Action.ADDED, to_status=Status.REVIEW, actor="old",
                             via=Event.Via.UPLOAD, at=month_ago)

    old_added_event("+14155550400")
    add(["+14155550401"], days_ago=30)
    report.fold()  # the first old one folded before its approval, the second with it
    old_added_event("+14155550402")
    for phone in ("+14155550400", "+14155550401", "+14155550402"):
        row(manager_client, "review", "approve", phone)
    rows, total = shown(manager_client)
    assert (total.received, total.in_time, total.late) == (1, 0, 1)


def test_the_page_shows_the_toggle_and_each_figure(manager_client):
    add(phones("70", 2), days_ago=0)
    page = manager_client.get(reverse("audit:compliance"), {"period": "month"}).content.decode()
    assert 'active" aria-current="page" href="/activity/compliance/?period=month">Per month' in page
    assert 'href="/activity/compliance/?period=week">Per week' in page
    assert "Month of receipt" in page and "Overdue" in page
    assert f'href="{reverse("audit:compliance_export")}?period=month"' in page


def test_the_beat_task_folds_a_backlog_slice_by_slice(manager_client, monkeypatch):
    from audit.tasks import fold_compliance_tallies

    add(phones("80", 5), days_ago=2)
    act(manager_client, "review", "approve", phones("80", 3))
    monkeypatch.setattr(report, "PAGE_FOLD", 2)
    fold_compliance_tallies()
    assert report.fold() == 0
    assert list(RequestTally.objects.values_list("received", "honoured", "late")) == [(5, 3, 0)]
    assert OpenRequest.objects.count() == 2


# Per entry (issue 15): a request is a number's on one list.

def add_to(dnc_list, phones, days_ago, status=Status.REVIEW, reason="consumer_request"):
    """As `add`, into `dnc_list`."""
    received = timezone.now() - timedelta(days=days_ago)
    details = RequestDetails(reason=Reason.objects.get(slug=reason), received_at=received)
    services.add_numbers(phones, status, source=Source(Event.Via.HAND), details=details, dnc_list=dnc_list)
    return received


def entries(dnc_list, phones):
    return BlacklistedNumber.objects.in_list(dnc_list).filter(phone__in=phones)


@pytest.fixture
def acme(db):
    default_reason_id()
    return DncList.objects.create(name="Client: Acme")


def test_a_number_requested_on_two_lists_is_two_requests(manager_client, acme, admin_user):
    internal = DncList.objects.get(pk=internal_list_id())
    both = "+14155550500"
    received = add([both], days_ago=40)  # Internal: never approved, overdue
    add_to(acme, [both], days_ago=40)
    add_to(acme, ["+14155550501"], days_ago=1)  # Acme only: open
    # Approving Acme's entry (as its row action does) leaves Internal's request overdue.
    services.approve(entries(acme, [both]), admin_user, Source(Event.Via.ROW))

    rows, total = shown(manager_client, first=(timezone.localdate() - timedelta(days=60)).isoformat())
    assert (total.received, total.in_time, total.late, total.open, total.overdue) == (3, 0, 1, 1, 1)
    week = by_start(rows)[report.period_start(timezone.localdate(received), "week")]
    assert (week.received, week.late, week.overdue) == (2, 1, 1)
    assert set(OpenRequest.objects.values_list("phone", "dnc_list")) == {(both, internal.pk),
                                                                         ("+14155550501", acme.pk)}
    # The list filter: each list's own requests; every list by default.
    _, of_acme = shown(manager_client, list=acme.pk, first=(timezone.localdate() - timedelta(days=60)).isoformat())
    assert (of_acme.received, of_acme.late, of_acme.open, of_acme.overdue) == (2, 1, 1, 0)
    _, of_internal = shown(manager_client, list=internal.pk, first=(timezone.localdate() - timedelta(days=60)).isoformat())
    assert (of_internal.received, of_internal.late, of_internal.open, of_internal.overdue) == (1, 0, 0, 1)

    # Then Internal's, in turn: honoured late against its own deadline, Acme's counts unchanged.
    row(manager_client, "review", "approve", both)  # the tab's row action: Internal's entry
    _, total = shown(manager_client, first=(timezone.localdate() - timedelta(days=60)).isoformat())
    assert (total.received, total.late, total.open, total.overdue) == (3, 2, 1, 0)
    assert total.late_days_max == days_late(received)
    assert not OpenRequest.objects.filter(phone=both).exists()


def test_removing_or_repeating_one_entry_leaves_the_other_lists_request(manager_client, acme, admin_user):
    first = timezone.localdate() - timedelta(days=60)
    add([f"+1415555060{i}" for i in range(3)], days_ago=3)
    add_to(acme, [f"+1415555060{i}" for i in range(3)], days_ago=3, reason="wrong_number")  # removable
    shown(manager_client)  # folded: six open requests
    services.remove(entries(acme, ["+14155550600"]), admin_user, Source(Event.Via.ROW))  # withdrawn on Acme only
    earlier = add_to(acme, ["+14155550601"], days_ago=30)  # an earlier repeat moves Acme's request only

    rows, total = shown(manager_client, first=first.isoformat())
    assert (total.received, total.withdrawn, total.open, total.overdue) == (6, 1, 4, 1)
    moved = by_start(rows)[report.period_start(timezone.localdate(earlier), "week")]
    assert (moved.received, moved.overdue) == (1, 1)
    assert OpenRequest.objects.get(phone="+14155550601", dnc_list=acme).deadline == honour_by(earlier)
    assert OpenRequest.objects.get(phone="+14155550601", dnc_list=internal_list_id()).deadline == honour_by(
        timezone.now() - timedelta(days=3))
    stepwise = sorted(RequestTally.objects.values_list("received_on", "deadline", "dnc_list", "received",
                                                      "honoured", "withdrawn"))
    report.refold()
    assert sorted(RequestTally.objects.values_list("received_on", "deadline", "dnc_list", "received", "honoured",
                                                   "withdrawn")) == stepwise
    assert {dnc_list for _, _, dnc_list, *_ in stepwise} == {internal_list_id(), acme.pk}


def test_the_page_offers_every_list_and_an_unknown_one_says_why(manager_client, acme):
    add_to(acme, ["+14155550700"], days_ago=0)
    acme.archived_at = timezone.now()
    acme.save()
    page = manager_client.get(reverse("audit:compliance")).content.decode()
    assert '<option value="" selected>All lists</option>' in page
    assert f'<option value="{acme.pk}">Client: Acme (archived)</option>' in page  # its requests stay on record
    chosen = manager_client.get(reverse("audit:compliance"), {"list": acme.pk, "period": "month"})
    assert chosen.context["chosen_list"] == acme and chosen.context["total"].open == 1
    assert f'href="/activity/compliance/?period=week&amp;list={acme.pk}">Per week' in chosen.content.decode()
    export = manager_client.get(reverse("audit:compliance_export"), {"list": acme.pk})
    assert f"compliance-week-list{acme.pk}-" in export["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert lines[-1][3] == "1"

    every = manager_client.get(reverse("audit:compliance"), {"list": "all"})  # as the tabs' picker says it
    assert every.context["chosen_list"] is None and not list(every.context["messages"])

    for unknown in ("999999", "Acme"):
        response = manager_client.get(reverse("audit:compliance"), {"list": unknown}, follow=True)
        assert any("List: Select a valid choice" in str(m) for m in response.context["messages"])
        assert response.context["chosen_list"] is None and response.context["total"].open == 1
        assert manager_client.get(reverse("audit:compliance_export"), {"list": unknown}).status_code == 302


def migrate_audit(name):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("audit", name)])
    return executor.loader.project_state([("audit", name)]).apps


def tallies():
    return sorted(RequestTally.objects.values_list("received_on", "deadline", "dnc_list", "received", "honoured",
                                                   "late", "withdrawn"))


@pytest.mark.django_db(transaction=True, reset_sequences=True)  # Internal is id 1, as in every real database
def test_migration_0006_keeps_the_tallies_made_before_as_the_internal_lists(client, make_user):
    assert internal_list_id() == 1
    add(phones("90", 3), days_ago=5)
    add(phones("91", 2), days_ago=20)
    services.approve(BlacklistedNumber.objects.filter(phone__in=phones("90", 2)))
    report.fold()
    before, mark = tallies(), report.TallyMark.objects.get().last_event_id
    try:
        migrate_audit("0005_named_lists")
    finally:
        migrate_audit("0006_requests_per_entry")
    assert tallies() == before and {t[2] for t in before} == {1}
    assert report.TallyMark.objects.get().last_event_id == mark  # kept: nothing to count again
    assert set(OpenRequest.objects.values_list("phone", "dnc_list")) == {(p, 1) for p in [*phones("90", 3)[2:],
                                                                                         *phones("91", 2)]}
    # The next fold goes on from them: an approval closes the open request it moved from.
    services.approve(BlacklistedNumber.objects.filter(phone=phones("91", 1)[0]))
    report.fold()
    received = sum(t[3] for t in tallies())
    assert (received, sum(t[4] for t in tallies()), OpenRequest.objects.count()) == (5, 3, 2)


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_migration_0006_counts_again_what_the_per_number_fold_counted_of_other_lists(db):
    assert internal_list_id() == 1
    default_reason_id()
    acme = DncList.objects.create(name="Client: Acme")
    try:
        old = migrate_audit("0005_named_lists")
        received = add(["+14155550900"], days_ago=4)
        add_to(acme, ["+14155550900"], days_ago=4)
        # What the fold keyed on the number made of it: one request.
        old.get_model("audit", "RequestTally").objects.create(
            received_on=timezone.localdate(received), deadline=honour_by(received), received=1)
        old.get_model("audit", "OpenRequest").objects.create(
            phone="+14155550900", received_at=received, received_on=timezone.localdate(received),
            deadline=honour_by(received))
        old.get_model("audit", "TallyMark").objects.update_or_create(
            pk=1, defaults={"last_event_id": Event.objects.order_by("-id").values_list("id", flat=True)[0]})
    finally:
        migrate_audit("0006_requests_per_entry")
    assert not RequestTally.objects.exists() and report.TallyMark.objects.get().last_event_id == 0
    report.fold()
    assert tallies() == [(timezone.localdate(received), honour_by(received), 1, 1, 0, 0, 0),
                         (timezone.localdate(received), honour_by(received), acme.pk, 1, 0, 0, 0)]
