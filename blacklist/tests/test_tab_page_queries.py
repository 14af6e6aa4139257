"""What a tab page asks the database (docs/benchmarks.md, "Tab pages again"): the tab labels and
"N matching" from one EXPLAIN on PostgreSQL (exact counts, small here), the filter's menus
without a server-side cursor (a page's prefix coverage: test_prefix_entries)."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blacklist import models, services
from blacklist.models import TABS, DncList, Status, count_estimates
from blacklist.models import BlacklistedNumber as Number

pytestmark = pytest.mark.django_db


def test_the_tab_counts_and_matching_are_right_from_one_explain(client, make_user):
    solar = DncList.objects.create(name="Solar")
    services.add_numbers(["+12015550100", "+12015550101", "+12025550100"], Status.REVIEW)
    services.add_numbers(["+12015550102", "+13105550100"], Status.APPROVED)
    services.add_numbers(["+12015550199"], Status.REVIEW, dnc_list=solar)  # another list: in no count here
    client.force_login(make_user("Manager"))

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("blacklist:review") + "?phone=201").content.decode()

    assert re.search(r'data-count="review">3<', page) and re.search(r'data-count="approved">2<', page)
    assert "2 matching" in page
    explains = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("EXPLAIN")]
    assert len(explains) == (1 if connection.vendor == "postgresql" else 0)
    assert not [query for query in queries.captured_queries if "DECLARE" in query["sql"]]  # the menus


def test_count_estimates_keeps_each_querysets_place_empty_ones_included():
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    services.add_numbers(["+12015550102"], Status.APPROVED)

    assert count_estimates([Number.objects.for_review(), Number.objects.none(), Number.objects.approved(),
                            Number.objects.for_review().filter(phone="+12015550101")]) == [
        (2, True), (0, True), (1, True), (1, True)]
    # a queryset the planner proves empty has no arm of its own in the plan: asked alone
    assert count_estimates([Number.objects.for_review(), Number.objects.filter(status=1, status__gte=2)]) == [
        (2, True), (0, True)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts exactly, with no timeout")
@pytest.mark.django_db(transaction=True)  # outside a transaction, as on a page
def test_the_exact_counts_are_one_round_trip_and_leave_the_timeout_as_it_was(monkeypatch):
    """The timeout, the counts and the timeout set back in one message: nothing after the counts
    (the commit, a stall of the machine) runs under their 25 ms, outside a transaction or inside one."""
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    services.add_numbers(["+12015550102"], Status.APPROVED)
    monkeypatch.setattr(models, "EXACT_COUNT_TIMEOUT_MS", 25)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '7s'")
    try:
        with CaptureQueriesContext(connection) as queries:
            counts = count_estimates([Number.objects.for_review(), Number.objects.approved()])
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            after = cursor.fetchone()[0]
            with transaction.atomic():
                assert count_estimates([Number.objects.for_review()]) == [(2, True)]
                cursor.execute("SHOW statement_timeout")
                inside = cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")

    assert counts == [(2, True), (1, True)]
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["EXPLAIN", "SELECT"]
    assert after == inside == "7s"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts exactly, with no timeout")
@pytest.mark.django_db(transaction=True)
def test_a_count_slower_than_its_timeout_gives_the_estimate_and_the_page_goes_on(monkeypatch):
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    monkeypatch.setattr(models, "EXACT_COUNT_TIMEOUT_MS", 25)
    slow = Number.objects.for_review().extra(where=["pg_sleep(0.1) IS NOT NULL"])  # 0.1 s a row

    ((count, exact),) = count_estimates([slow])

    assert not exact and count >= 1  # PostgreSQL's estimate, not a count
    assert Number.objects.for_review().count() == 2  # the connection is usable


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts exactly, with no timeout")
@pytest.mark.django_db(transaction=True)
def test_a_slow_count_asked_with_others_leaves_theirs_exact(monkeypatch):
    """The counts share one statement's timeout: when it runs out, each is asked again alone, so only
    the slow one shows its estimate, as when each had its own."""
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    services.add_numbers(["+12015550102"], Status.APPROVED)
    monkeypatch.setattr(models, "EXACT_COUNT_TIMEOUT_MS", 25)
    slow = Number.objects.for_review().extra(where=["pg_sleep(0.1) IS NOT NULL"])

    review, (count, exact), approved = count_estimates([Number.objects.for_review(), slow, Number.objects.approved()])

    assert review == (2, True) and approved == (1, True)
    assert not exact and count >= 1


PAGE_QUERIES = {  # what each tab page asks the database, in kinds (sqlite: the counts are plain COUNTs)
    "session and user": 2,  # the middleware's
    "lists": 1,  # the picker's, and the list chosen among them
    "rows": 1,  # the page's, with LIMIT per_page + 1
    "counts": 2,  # the tab labels' estimates (EXPLAIN) and the small ones counted, in one statement each
    "overdue": 1,  # the review tab label's "N overdue" (on both tabs), bounded
    "menus": 2,  # the filter's Added by and Source upload menus
    "registry": 1,  # the stale national registry banner's count (registry.models.AreaCode.objects.freshness)
}


def _kinds(queries) -> list[str]:
    return [query["sql"].split()[0] for query in queries]


@pytest.mark.parametrize("query", [{}, {"phone": "201"}, {"due": "overdue"}, {"sort": "phone"}])
@pytest.mark.parametrize("tab", ["review", "approved"])
def test_a_tab_page_asks_the_database_a_fixed_few_queries_none_twice(admin_client, tab, query):
    """So the number of queries cannot creep back up (docs/benchmarks.md, issue 17: a tab page in 15 ms)."""
    services.add_numbers([f"+1201555{n:04}" for n in range(30)], Status.REVIEW)
    services.add_numbers([f"+1201556{n:04}" for n in range(30)], Status.APPROVED)
    if tab == "approved":
        query = {key: value for key, value in query.items() if key != "due"}

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(f"blacklist:{tab}"), query)

    shown = 'title="+120155' in response.content.decode()
    assert response.status_code == 200 and shown != ("due" in query)  # rows, none overdue (all just received)
    asked = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    expected = sum(PAGE_QUERIES.values())
    if connection.vendor != "postgresql":  # no EXPLAIN: a COUNT each tab, and one of the filter's matching
        expected += len(TABS) + ("phone" in query or "due" in query) - PAGE_QUERIES["counts"]
    assert len(asked) == expected, "\n".join(asked)
    assert len(set(asked)) == len(asked)


def test_a_cursor_page_adds_one_query_and_seeks_by_row_comparison_on_postgresql(admin_client):
    """A page after a cursor asks one more thing (is there a page before it?); on PostgreSQL its rows
    start at the cursor by a row comparison of (sort field, id), which an index scan starts at."""
    services.add_numbers([f"+1201555{n:04}" for n in range(30)], Status.REVIEW)
    first = admin_client.get(reverse("blacklist:review"), {"sort": "deadline"}).content.decode()
    after = re.search(r'href="\?[^"]*after=([^&"]+)', first).group(1)

    with CaptureQueriesContext(connection) as queries:
        admin_client.get(reverse("blacklist:review"), {"sort": "deadline", "after": after, "page": 2})

    rows = [q["sql"] for q in queries.captured_queries if "LIMIT 26" in q["sql"]]
    assert len(rows) == 1
    if connection.vendor == "postgresql":
        assert '("blacklist_blacklistednumber"."deadline", "blacklist_blacklistednumber"."id") > (' in rows[0]
