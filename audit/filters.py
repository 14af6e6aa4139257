import django_filters
from django import forms
from django.contrib.auth import get_user_model

from api.models import ApiKey
from blacklist.models import DncList
from blacklist.phones import InvalidPhone, normalize_phone, phone_prefix
from blacklist_admin.filtering import DateRangeWidget, PageFilterSet
from blacklist_admin.params import DatabaseIdChoiceFilter, DateRangeFilter

from .models import Event


def actor_choices():
    """Users, then API keys: `user:<id>` and `key:<id>`, for the Activity page's actor filter."""
    users = [(f"user:{pk}", name)
             for pk, name in get_user_model().objects.order_by("username").values_list("pk", "username")]
    keys = [(f"key:{pk}", f"API key “{name}”")
            for pk, name in ApiKey.objects.order_by("name").values_list("pk", "name")]
    return users + keys


class EventFilter(PageFilterSet):
    """The Activity page's filters; its list, its chart and its CSV export all build this one."""

    action = django_filters.ChoiceFilter(choices=Event.Action.choices, empty_label="Any action")
    actor = django_filters.ChoiceFilter(choices=[], label="By", empty_label="Anyone", method="filter_actor")
    date = DateRangeFilter(field_name="at", label="Between", widget=DateRangeWidget(labels=("From", "to")))
    phone = django_filters.CharFilter(
        label="Number", method="filter_phone", widget=forms.SearchInput(attrs={"placeholder": "415 555…"})
    )
    # The events of one list (docs/lists.md). No index leads with the list: the page walks the
    # newest-first index until it has a page of that list's events (quick for a list changed
    # recently; a list with few events in a large table reads more of it).
    dnc_list = DatabaseIdChoiceFilter(queryset=DncList.objects.all(), label="List", empty_label="Any list")

    class Meta(PageFilterSet.Meta):
        model = Event
        fields = ["action", "actor", "date", "phone", "dnc_list"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["actor"].extra["choices"] = actor_choices()  # read per request: users and keys change

    def filter_actor(self, queryset, name, value):
        kind, _, pk = value.partition(":")
        return queryset.filter(**{"user_id" if kind == "user" else "api_key_id": int(pk)})

    def filter_phone(self, queryset, name, value):
        """A whole number: its events (the history index); a fragment: numbers starting with it."""
        try:
            return queryset.filter(phone=normalize_phone(value))
        except InvalidPhone:
            prefix = phone_prefix(value)
            return queryset.filter(phone__startswith=prefix) if prefix else queryset.none()
