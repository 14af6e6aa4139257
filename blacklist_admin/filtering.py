"""What every list page's filter has in common: one base FilterSet, whose form templates/_filter_form.html
renders (each field's label, widget and errors, in the pages' Bootstrap look), and the widgets and
fields that form needs beyond django-filter's. The FilterSets declare the fields; the pages write none.
"""

from typing import cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from .params import DatabaseIdChoiceField, DatabaseIdChoiceFilter, ListedChoiceIterator, parse_id

_FIELD = """
<div class="col-auto">
  <label class="form-label small mb-0" for="{}">{}</label>
  {}
</div>"""


class FilterForm(forms.Form):
    """A FilterSet's form with Bootstrap's small controls on every widget (set here, not per field)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # copies made for this form: changing them changes no other
            menu = isinstance(field.widget, forms.Select)
            look = "form-select form-select-sm" if menu else "form-control form-control-sm"
            field.widget.attrs.setdefault("class", look)

    def fields_html(self):
        """Each field's label and widget in its column (a date range as two fields, each with its own
        label), the markup templates/_filter_form.html wrote with a loop: built as strings, the
        template engine spent about half a millisecond a page on it."""
        parts = []
        for field in self:
            if field.widget_type == "daterange":
                parts += [_FIELD.format(conditional_escape(part.id_for_label), conditional_escape(part.choice_label),
                                        part.tag()) for part in field.subwidgets]
            else:
                label = conditional_escape(field.label)
                parts.append(_FIELD.format(conditional_escape(field.id_for_label), label, field))
        return mark_safe("".join(parts))  # noqa: S308 — escaped labels and ids, widgets' own markup

    def active_count(self) -> int:
        """How many fields the user filled in (a date range is one): the folded filter's "Filters (2)"."""
        count = 0
        for name, field in self.fields.items():
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            count += any(value) if isinstance(value, list | tuple) else bool(value)
        return count


class PageFilterSet(django_filters.FilterSet):
    """A list page's filter: rendered by templates/_filter_form.html, and matching nothing when it
    does not validate. django-filter drops an invalid field and filters on the rest: that would show
    (or export, or act on) more than the user asked for, "everything" for a typo."""

    class Meta:
        form = FilterForm

    def filter_queryset(self, queryset):
        if self.is_bound and not self.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)


class DateRangeWidget(django_filters.widgets.DateRangeWidget):
    """`<name>_after` and `<name>_before` as two date inputs, each with its own label and id
    (`id_<name>_after`), which the page shows as two fields ("Added from", "to")."""

    def __init__(self, labels: tuple[str, str], attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})
        self.labels = labels

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        id_ = context["widget"]["attrs"].get("id")
        for part, suffix, label in zip(context["widget"]["subwidgets"], self.suffixes, self.labels, strict=True):
            part["label"] = label
            if id_:
                part["attrs"]["id"] = self.suffixed(id_, suffix)
        return context

    def subwidgets(self, name, value, attrs=None):
        """Each date input on its own (BoundField.subwidgets): the page lays them out as two fields."""
        yield from self.get_context(name, value, attrs)["widget"]["subwidgets"]


class _MenuIterator(ListedChoiceIterator):
    field: "NewestChoiceField"

    def __iter__(self):
        self.queryset = self.field.menu()  # at rendering: the chosen row is known by then
        yield from super().__iter__()


class NewestChoiceField(DatabaseIdChoiceField):
    """Takes the id of any row of its queryset; its menu offers the first `offered` rows in the
    queryset's order, and the chosen row wherever it is, so the menu always shows what the page is
    filtered by (a bookmarked link to an older row included) and the page stays small."""

    iterator = _MenuIterator

    def __init__(self, *args, offered: int, describe=str, **kwargs):
        self.offered, self.describe = offered, describe
        self.chosen: int | None = None
        super().__init__(*args, **kwargs)

    def get_bound_field(self, form, field_name):
        bound = super().get_bound_field(form, field_name)
        self.chosen = parse_id(bound.data) if form.is_bound else None  # this form's own copy of the field
        return bound

    def menu(self) -> QuerySet:
        """The rows the menu offers: the first `offered`, and the chosen one."""
        queryset = cast(QuerySet, self.queryset)  # the filter always gives one
        offered = Q(pk__in=queryset.values("pk")[: self.offered])
        return queryset.filter(offered | Q(pk=self.chosen) if self.chosen else offered)

    def label_from_instance(self, obj) -> str:
        return self.describe(obj)


class NewestChoiceFilter(DatabaseIdChoiceFilter):
    """A DatabaseIdChoiceFilter whose menu is bounded (NewestChoiceField): `?source=<upload id>`."""

    field_class = NewestChoiceField  # type: ignore[assignment]  # a DatabaseIdChoiceField too
