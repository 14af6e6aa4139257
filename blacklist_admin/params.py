"""Numbers read from a query string or a form: the one place that validates them.

`str.isdigit()` is true for `²` (and `int()` then fails), `int()` takes `٣`, ` 5` and `+5`, and
10**23 overflows SQLite's integers (OFFSET, `IN (…)`): each was a 500. Here a number is ASCII
digits only, from 1 to what the databases store; anything else is a 400 that names the
parameter, or a 404 for an id that names no row, never a 500. Filter dates likewise keep away
from the ends of Python's calendar, where a time zone shift or a day's arithmetic overflows.
"""

from datetime import date

import django_filters
from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import EmptyPage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.models import ModelChoiceIterator
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.views import defaults
from django_tables2 import LazyPaginator, RequestConfig

MAX_ID = 2**63 - 1  # the largest integer SQLite and PostgreSQL (bigint) store
MAX_PAGE = 10_000_000  # more pages than any table here fills (10M × 500 rows): a crafted link
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 31)  # what a date filter takes


class BadParameter(BadRequest):
    """A malformed number in the request: a 400 page that says which one (bad_request below)."""


def parse_id(text, maximum: int = MAX_ID) -> int | None:
    """`text` as an int from 1 to `maximum` if it is ASCII digits only, else None."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit()):
        return None
    if len(text.lstrip("0")) > len(str(maximum)):  # never int() a megabyte of digits
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None


def int_param(params: QueryDict, name: str, default: int | None = None, *, maximum: int = MAX_ID,
              not_found: bool = False) -> int | None:
    """params[name] as an int from 1 to `maximum`; `default` when absent or empty. Anything else
    is a 400, or a 404 when `not_found` (the caller reads an id: a bad one names no row)."""
    text = params.get(name, "")
    return default if text == "" else _checked(name, text, maximum, not_found)


def int_list_param(params: QueryDict, name: str, limit: int) -> list[int]:
    """The first `limit` values of a repeated parameter (`id=3&id=7`), each checked as int_param does."""
    return [_checked(name, text, MAX_ID, False) for text in params.getlist(name)[:limit] if text]


def _checked(name: str, text: str, maximum: int, not_found: bool) -> int:
    number = parse_id(text, maximum)
    if number is None:
        if not_found:
            raise Http404(f"No row has the id “{text[:30]}”.")
        raise BadParameter(f"“{name}” must be a whole number from 1 to {maximum:,}, not “{text[:30]}”.")
    return number


def choice_param(params: QueryDict, name: str, choices: tuple[int, ...], default: int) -> int:
    """A number from a fixed list (a page size): 400 when malformed; `default` when not offered."""
    number = int_param(params, name, default)
    return number if number in choices else default


def page_number(params: QueryDict, name: str = "page") -> int:
    """The 1-based page number of `?page=`: 1 when absent, a 400 when malformed or over MAX_PAGE."""
    return int_param(params, name, 1, maximum=MAX_PAGE)  # type: ignore[return-value]  # a default: never None


def paginate(request, table, per_page: int) -> None:
    """Sort a django-tables2 table from the query string and show the page `?page=` names, checked
    by page_number(): RequestConfig would int() any text for `page` and `per_page`, and 10**23
    overflows SQLite's OFFSET. The page size is the view's."""
    RequestConfig(request, paginate=False).configure(table)
    try:
        table.paginate(LazyPaginator, per_page=per_page, page=page_number(request.GET, table.prefixed_page_field))
    except EmptyPage:  # past the last page (rows went away since the link was made): the first
        table.paginate(LazyPaginator, per_page=per_page, page=1)


def bad_request(request, exception):
    """handler400: a BadParameter gets a page in the site's layout that names the parameter;
    other 400s (a disallowed host, too many fields) keep Django's plain page."""
    if isinstance(exception, BadParameter):
        return render(request, "400.html", {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception)


class DatabaseIdField(forms.IntegerField):
    """A row id in a form: ASCII digits from 1 to MAX_ID (IntegerField alone takes `٣` and ` 5`)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = value if isinstance(value, int) and not isinstance(value, bool) else parse_id(value)
        if number is None or not 1 <= number <= MAX_ID:
            raise ValidationError(f"Not a row id: “{str(value)[:30]}”.", code="invalid")
        return number


class DatabaseIdListField(forms.Field):
    """Row ids posted as repeated fields (`ids=3&ids=7`), each a DatabaseIdField."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        item = DatabaseIdField()
        return [item.clean(text) for text in value or []]


class ListedChoiceIterator(ModelChoiceIterator):
    """A menu's rows read in one query. Django's iterator reads them with queryset.iterator(),
    which on PostgreSQL is a server-side cursor: DECLARE, FETCH and CLOSE, three round trips for a
    menu of a few rows on every page that shows the filter."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # .all(): read afresh at each rendering, as iterator() would
            yield self.choice(obj)


class DatabaseIdChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that takes a row id by DatabaseIdField's rule, not whatever int() reads."""

    iterator = ListedChoiceIterator

    def to_python(self, value):
        if isinstance(value, str) and value not in self.empty_values and parse_id(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class DatabaseIdChoiceFilter(django_filters.ModelChoiceFilter):
    """django-filter's ModelChoiceFilter with a DatabaseIdChoiceField (`?added_by=<user id>`)."""

    field_class = DatabaseIdChoiceField


class BoundedDateRangeField(django_filters.fields.DateRangeField):
    """From and to dates between EARLIEST_DATE and LATEST_DATE: 0001-01-01 or 9999-12-31 in a
    filter overflowed (the UTC shift, the Activity chart's days before and after)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields:
            field.validators += [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]


class DateRangeFilter(django_filters.DateFromToRangeFilter):
    """django-filter's DateFromToRangeFilter with a BoundedDateRangeField (`?added_after=…`)."""

    field_class = BoundedDateRangeField
