from typing import Literal

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.http import QueryDict
from django.utils import timezone

from blacklist_admin.filtering import DateRangeWidget, NewestChoiceFilter, PageFilterSet
from blacklist_admin.params import DatabaseIdChoiceFilter, DateRangeFilter
from tasks_logs.models import TaskLog

from .lists import chosen_list
from .models import BlacklistedNumber, DncList, Status
from .paging import DEFAULT_SORT
from .phones import phone_prefix

MENU_UPLOADS = 100  # the Source upload menu's newest uploads (an older one chosen by link is added)


def upload_label(upload: TaskLog) -> str:
    return f"{upload.file_name or 'upload'} (#{upload.pk}, {timezone.localtime(upload.created_at):%Y-%m-%d})"


class Due(models.TextChoices):
    """The review tab's deadline filter (docs/compliance.md). Both are ranges of the indexed
    deadline, compared with today in TIME_ZONE: no arithmetic per row."""

    OVERDUE = "overdue", "Overdue"
    DUE_SOON = "due_soon", "Due soon"


class BlacklistFilter(PageFilterSet):
    """The one definition of "matching": the list tabs, "all matching" bulk actions and the
    CSV export all build this same FilterSet over the tab's numbers."""

    phone = django_filters.CharFilter(
        label="Number", method="filter_phone", widget=forms.SearchInput(attrs={"placeholder": "415 555…"})
    )
    status = django_filters.ChoiceFilter(
        choices=[(Status.APPROVED.value, "Approved"), (Status.PERMANENT.value, "Permanently approved")],
        empty_label="Any status",
    )
    added = DateRangeFilter(
        field_name="added_at", label="Added between", widget=DateRangeWidget(labels=("Added from", "to"))
    )
    due = django_filters.ChoiceFilter(label="Deadline", choices=Due, method="filter_due", empty_label="Any deadline")
    added_by = DatabaseIdChoiceFilter(
        queryset=get_user_model().objects.order_by("username").only("username"), empty_label="Anyone"
    )
    source = NewestChoiceFilter(  # any upload's numbers; the menu lists the newest MENU_UPLOADS
        field_name="source_task",
        label="Source upload",
        queryset=TaskLog.objects.filter(kind=TaskLog.Kind.IMPORT).order_by("-created_at", "-id")
        .only("file_name", "created_at"),
        offered=MENU_UPLOADS,
        describe=upload_label,
        empty_label="Any source",
    )

    class Meta(PageFilterSet.Meta):
        model = BlacklistedNumber
        fields = ["phone", "status", "due", "added", "added_by", "source"]

    def __init__(self, *args, tab: str, **kwargs):
        super().__init__(*args, **kwargs)
        if tab != "approved":
            del self.filters["status"]  # the review tab holds one status only
        else:
            del self.filters["due"]  # approved numbers are honoured: their deadline is history

    def filter_due(self, queryset, name, value):
        return queryset.overdue() if value == Due.OVERDUE else queryset.due_soon()

    def default_sort(self) -> str:
        """Oldest deadline first when filtered by deadline (served by the review_by_deadline index),
        else newest first."""
        due = self.form.cleaned_data.get("due") if self.is_bound and self.is_valid() else None
        return "deadline" if due else DEFAULT_SORT

    def filter_phone(self, queryset, name, value):
        prefix = phone_prefix(value)
        return queryset.with_prefix(prefix) if prefix else queryset.none()

    def narrows(self) -> bool:
        """Whether this filter may show fewer numbers than the whole tab: a field with a value after
        cleaning (the form's, not the query string's names: "added" arrives as added_after and
        added_before), or a filter that does not validate, which matches nothing."""
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        return any(value not in (None, "", [], ()) for value in self.form.cleaned_data.values())


def matching_numbers(tab: str, query: str, dnc_list: "DncList | int | None | Literal['query']" = "query"):
    """The numbers of `tab` in `dnc_list` (None: every list; by default the list the query's
    `?list=` names, lists.chosen_list) that the filter in `query` (a URL query string) matches,
    or None when that filter does not validate (so a typo never turns into "everything")."""
    params = QueryDict(query)
    numbers = BlacklistedNumber.objects.for_tab(tab).in_list(chosen_list(params) if dnc_list == "query" else dnc_list)
    filterset = BlacklistFilter(params, queryset=numbers, tab=tab)
    return filterset.qs if filterset.is_valid() else None
