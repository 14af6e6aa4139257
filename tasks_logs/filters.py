import django_filters
from django.contrib.auth import get_user_model

from blacklist_admin.filtering import PageFilterSet
from blacklist_admin.params import DatabaseIdChoiceFilter

from .models import TaskLog


class TaskLogFilter(PageFilterSet):
    kind = django_filters.ChoiceFilter(choices=TaskLog.Kind.choices, empty_label="Any kind")
    state = django_filters.ChoiceFilter(choices=TaskLog.State.choices, empty_label="Any state")
    created_by = DatabaseIdChoiceFilter(
        label="User", queryset=get_user_model().objects.order_by("username"), empty_label="Any user"
    )

    class Meta(PageFilterSet.Meta):
        model = TaskLog
        fields = ("kind", "state", "created_by")
