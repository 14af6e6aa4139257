"""What a tab page asks the database (docs/benchmarks.md, "Tab pages again"): the tab labels and
"N matching" from one EXPLAIN on PostgreSQL (exact counts, small here), the filter's menus
without a server-side cursor (a page's prefix coverage: test_prefix_entries)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blacklist import models, services
from blacklist.models import BlacklistedNumber as Number
from blacklist.models import DncList, Status, count_estimates

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
@pytest.mark.django_db(transaction=True)  # the count's own transaction commits, as on a page
def test_a_slow_commit_after_an_exact_count_is_not_cancelled_and_the_page_goes_on(monkeypatch):
    """The exact counts run under a 25 ms statement timeout; a stall of the machine at their
    COMMIT must not cancel it (it left the transaction aborted and the page's next query failed)."""
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    monkeypatch.setattr(models, "EXACT_COUNT_TIMEOUT_MS", 25)
    commit = connection._commit

    def slow_commit():  # a statement at the commit point, longer than the count's timeout
        with connection.connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.1)")
        commit()

    monkeypatch.setattr(connection, "_commit", slow_commit)
    counts = count_estimates([Number.objects.for_review()])
    monkeypatch.undo()

    assert counts == [(2, True)]
    assert Number.objects.for_review().count() == 2  # the connection is usable


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts exactly, with no timeout")
@pytest.mark.django_db(transaction=True)
def test_a_count_slower_than_its_timeout_gives_the_estimate_and_the_page_goes_on(monkeypatch):
    services.add_numbers(["+12015550100", "+12015550101"], Status.REVIEW)
    monkeypatch.setattr(models, "EXACT_COUNT_TIMEOUT_MS", 25)
    slow = Number.objects.for_review().extra(where=["pg_sleep(0.1) IS NOT NULL"])  # 0.1 s a row

    ((count, exact),) = count_estimates([slow])

    assert not exact and count >= 1  # PostgreSQL's estimate, not a count
    assert Number.objects.for_review().count() == 2  # the connection is usable
