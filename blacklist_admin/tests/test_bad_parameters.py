"""Crafted numbers in query strings, forms and URLs (`²` passes isdigit(), `٣` passes int(),
10**23 overflows SQLite): every page and action answers a 400 that names the parameter, a 404,
or a form message, never a 500, and changes nothing. blacklist_admin/params.py is the one check."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from audit.models import Event
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"  # over 2**63: OverflowError in SQLite's OFFSET, LIMIT and IN (…)
CRAFTED = ["²", "٣", "-1", "0", "1e3", HUGE, str(2**63), " 5", "5 ", "+5", "0x10"]


@pytest.fixture
def manager(make_user):
    """A Manager's client that answers a crash as a 500 response instead of raising it."""
    client = Client(raise_request_exception=False)
    client.force_login(make_user("Manager"))
    return client


@pytest.fixture
def data(make_numbers, admin_user):
    """A number on each tab, a task with a rejected row, and their events."""
    review, approved = make_numbers(Status.REVIEW, Status.APPROVED)
    task = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="numbers.csv", created_by=admin_user,
                                  state=TaskLog.State.SUCCEEDED, total=1, processed=1)
    task.rejected_rows.create(line=2, value="hello", reason="contains letters")
    Event.objects.create(phone=review.phone, action=Event.Action.ADDED, to_status=Status.REVIEW, actor="admin",
                         via=Event.Via.HAND)
    return {"review": review, "approved": approved, "task": task}


def snapshot():
    """What a refused request must leave as it was."""
    return (sorted(BlacklistedNumber.objects.values_list("phone", "status")), Event.objects.count())


def text(response) -> str:
    return html.unescape(response.content.decode())


# (url name, its arguments, the query-string number it reads, what the page shows without it);
# "task" stands for the task's pk
NUMBER_PARAMETERS = [
    ("blacklist:review", [], "page", "(415) 555-0100"),
    ("blacklist:review", [], "per_page", "(415) 555-0100"),
    ("blacklist:approved", [], "page", "(415) 555-0101"),
    ("blacklist:approved", [], "per_page", "(415) 555-0101"),
    ("tasks_logs:list", [], "page", "numbers.csv"),
    ("tasks_logs:rows", [], "id", ""),
    ("tasks_logs:detail", ["task"], "page", "contains letters"),
    ("audit:activity", [], "page", "(415) 555-0100"),
]
# Ids a filter picks from a list (users, uploads): a bad one is the filter's error, no rows shown
FILTER_IDS = [
    ("blacklist:review", "added_by"),
    ("blacklist:review", "source"),
    ("blacklist:approved", "added_by"),
    ("blacklist:approved", "source"),
    ("tasks_logs:list", "created_by"),
]
# django-tables2 pages used to take ?per_page= too (any size); the view's size now holds.
OWN_PAGE_SIZE = [("tasks_logs:list", [], "numbers.csv"), ("tasks_logs:detail", ["task"], "contains letters"),
                 ("audit:activity", [], "(415) 555-0100")]


def url_of(name, args, data) -> str:
    return reverse(name, args=[data["task"].pk if arg == "task" else arg for arg in args])


@pytest.mark.parametrize("name, args, parameter, shown", NUMBER_PARAMETERS)
def test_a_crafted_number_in_the_query_string_is_a_400_naming_it(manager, data, name, args, parameter, shown):
    before = snapshot()
    for value in CRAFTED:
        response = manager.get(url_of(name, args, data), {parameter: value})
        assert response.status_code == 400, value
        assert f"“{parameter}” must be a whole number from 1 to" in text(response), value
        assert f"not “{value}”" in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("name, args, parameter, shown", NUMBER_PARAMETERS)
def test_an_empty_number_in_the_query_string_means_the_default(manager, data, name, args, parameter, shown):
    response = manager.get(url_of(name, args, data), {parameter: ""})
    assert response.status_code == 200
    assert shown in text(response) if shown else "data-id" not in text(response)  # the rows poll: no ids, no rows


@pytest.mark.parametrize("name, parameter", FILTER_IDS)
def test_a_crafted_id_in_a_filter_is_the_filters_error_and_shows_nothing(manager, data, name, parameter):
    for value in CRAFTED:
        response = manager.get(reverse(name), {parameter: value})
        assert response.status_code == 200, value
        assert "The filter is not valid, so nothing is shown" in text(response), value
        assert "Select a valid choice" in text(response)
        assert len(response.context["table"].rows) == 0


@pytest.mark.parametrize("tab", ["review", "approved"])
def test_a_crafted_filter_id_on_export_exports_nothing(manager, data, tab):
    for value in CRAFTED:
        response = manager.get(reverse("blacklist:export", args=[tab]), {"added_by": value})
        assert response.status_code == 302, value
        message = [str(m) for m in manager.get(response["Location"]).context["messages"]]
        assert message == ["The filter is not valid, so there is nothing to export."]


@pytest.mark.parametrize("name, args, shown", OWN_PAGE_SIZE)
def test_pages_with_their_own_page_size_ignore_per_page(manager, data, name, args, shown):
    for value in [*CRAFTED, "", "25"]:
        response = manager.get(url_of(name, args, data), {"per_page": value})
        assert response.status_code == 200, value
        assert shown in text(response)


def test_a_page_past_the_cap_is_a_400_and_one_below_it_past_the_end_shows_the_first(manager, data):
    assert manager.get(reverse("audit:activity"), {"page": "10000001"}).status_code == 400
    response = manager.get(reverse("audit:activity"), {"page": "10000000"})
    assert response.status_code == 200
    assert "(415) 555-0100" in text(response)


def test_tasks_rows_poll_still_answers_the_rows_asked_for(manager, data):
    response = manager.get(reverse("tasks_logs:rows"), {"id": [data["task"].pk, "9223372036854775807"]})
    assert response.status_code == 200
    assert f'data-id="{data["task"].pk}"' in text(response)


def test_a_row_action_with_a_crafted_pk_is_a_404_and_changes_nothing(manager, data):
    before = snapshot()
    for value in [*CRAFTED, ""]:
        response = manager.post(reverse("blacklist:row_action", args=["review", "approve"]), {"pk": value})
        assert response.status_code == 404, value
    assert snapshot() == before


@pytest.mark.parametrize("scope, field", [("selected", "ids"), ("page", "page_ids")])
def test_a_bulk_action_with_a_crafted_id_says_so_and_changes_nothing(manager, data, scope, field):
    before = snapshot()
    for value in CRAFTED:
        post = {"action": "approve", "scope": scope, field: [data["review"].pk, value], "query": "sort=phone"}
        response = manager.post(reverse("blacklist:bulk_action", args=["review"]), post)
        assert response.status_code == 302, value
        assert response["Location"] == reverse("blacklist:review") + "?sort=phone"
        messages = [str(m) for m in manager.get(response["Location"]).context["messages"]]
        assert messages == [f"Not a row id: “{value}”. Nothing was changed."]
    assert snapshot() == before


def test_a_bulk_action_with_the_largest_stored_id_finds_no_such_row(manager, data):
    before = snapshot()
    post = {"action": "approve", "scope": "selected", "ids": [str(2**63 - 1)]}
    response = manager.post(reverse("blacklist:bulk_action", args=["review"]), post, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Approved 0 numbers."]
    assert snapshot() == before


# The guard for pages not written yet: every route with an int in its path, and every admin page.


def int_routes(patterns=None, prefix=""):
    """Every URL route with an <int:…> part, through every include()."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from int_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and any(
            isinstance(converter, IntConverter) for converter in getattr(pattern.pattern, "converters", {}).values()
        ):
            yield route


def filled(route: str, number: str) -> str:
    """The route with `number` in every int part and "1" in the others (str, path, slug)."""
    return "/" + re.sub(r"<\w+:\w+>", "1", re.sub(r"<int:\w+>", number, route))


def test_the_url_walk_finds_the_int_routes_we_know():
    routes = set(int_routes())
    assert {"tasks/<int:pk>/", "tasks/<int:pk>/rejected.csv", "api/keys/<int:pk>/revoke", "roles/<int:pk>/"} <= routes


@pytest.mark.parametrize("number", [str(2**63 - 1), str(2**63), str(2**64), HUGE])
def test_every_int_route_answers_a_huge_id_with_a_404_never_a_500(admin_user, data, number):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    before = snapshot()
    for route in int_routes():
        path = filled(route, number)
        assert "<" not in path, path
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code in (302, 404, 405), (method.__name__, path, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("value", ["²", HUGE, str(2**64)])
def test_every_admin_list_and_change_page_refuses_crafted_numbers(admin_user, data, value):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        listing = client.get(reverse(f"{prefix}_changelist"), {"p": value})
        assert listing.status_code in (200, 302), (model, listing.status_code)
        change = client.get(reverse(f"{prefix}_change", args=[value]))
        assert change.status_code in (302, 404), (model, change.status_code)


# Dates in filters: the ends of the calendar overflowed once shifted to UTC or by the chart's days.

EDGE_DATES = ["0001-01-01", "0001-01-02", "1899-12-31", "3000-01-01", "9999-12-31"]
DATE_FILTERS = [("audit:activity", "date_after"), ("audit:activity", "date_before"),
                ("blacklist:review", "added_after"), ("blacklist:review", "added_before"),
                ("blacklist:approved", "added_after"), ("blacklist:approved", "added_before")]


@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC, +14 h, -11 h
@pytest.mark.parametrize("name, parameter", DATE_FILTERS)
def test_a_date_at_the_ends_of_the_calendar_is_the_filters_error(manager, data, settings, time_zone, name,
                                                                  parameter):
    settings.TIME_ZONE = time_zone
    for value in EDGE_DATES:
        response = manager.get(reverse(name), {parameter: value})
        assert response.status_code == 200, value
        assert "The filter is not valid, so nothing is shown" in text(response), value
        assert "Ensure this value is" in text(response)
        assert len(response.context["table"].rows) == 0


@pytest.mark.parametrize("name, parameter", DATE_FILTERS)
def test_the_first_and_last_dates_a_filter_takes_work(manager, data, settings, name, parameter):
    settings.TIME_ZONE = "Pacific/Kiritimati"
    for value in ["1900-01-01", "2999-12-31"]:
        response = manager.get(reverse(name), {parameter: value})
        assert response.status_code == 200, value
        assert "The filter is not valid" not in text(response), value
        everything = (parameter.endswith("after") and value == "1900-01-01") or (
            parameter.endswith("before") and value == "2999-12-31")
        assert len(response.context["table"].rows) == (1 if everything else 0), value


def test_views_forms_and_filters_read_numbers_only_through_params():
    """No view, form or filter reads a number its own way again (`isdigit()`, `int(request…)`,
    django-tables2's RequestConfig paging, a bare ModelChoiceFilter or DateFromToRangeFilter)."""
    own_way = re.compile(r"(request|GET|POST)[^#\n]*\.isdigit\(\)|int\(\s*request|RequestConfig\(|IntegerField\(|"
                         r"ModelChoiceFilter\(|ModelChoiceField\(|DateFromToRangeFilter\(")
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in sorted(Path(settings.BASE_DIR).glob("*/**/*.py"))
        if path.name in {"views.py", "forms.py", "filters.py"} and ".venv" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if own_way.search(line)
    ]
    assert offenders == []
