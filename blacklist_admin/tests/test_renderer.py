"""The form renderer writes inputs and selects in Python (blacklist_admin.renderer): byte for byte
what Django's own templates make, escaping included, and the templates for anything else."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from blacklist_admin.renderer import FastWidgetRenderer


class Everything(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"placeholder": 'say "<hi>" & \'bye\'', "class": "x"}))
    search = forms.CharField(widget=forms.SearchInput(attrs={"autofocus": True, "disabled": False}))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    number = forms.IntegerField()
    hidden = forms.CharField(widget=forms.HiddenInput)
    menu = forms.ChoiceField(choices=[("", "Any <one>"), ("a&b", 'A "quoted" & <b>'), (3, gettext_lazy("Three"))])
    grouped = forms.ChoiceField(choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")])
    many = forms.MultipleChoiceField(choices=[("p", "P"), ("q", "Q")])
    numbered = forms.ChoiceField(choices=[(1, 1000), (2, 2000)])  # a label the template would localize
    safe = forms.CharField(widget=forms.TextInput(attrs={"data-x": mark_safe("<b>kept</b>")}))
    area = forms.CharField(widget=forms.Textarea)  # not written in Python: the template
    box = forms.BooleanField()


DATA = {"text": '<script>alert("x")</script>', "search": "a & b", "day": "2026-11-27", "number": "12",
        "hidden": "'quoted'", "menu": "a&b", "grouped": "y", "many": ["p", "q"], "numbered": "2",
        "safe": "fine", "area": "<text>", "box": "on"}


@pytest.mark.parametrize("data", [None, DATA, {"day": "not a day", "menu": "nope"}])
def test_the_same_markup_as_the_templates(data):
    fast = Everything(data, renderer=FastWidgetRenderer())
    slow = Everything(data, renderer=DjangoTemplates())
    for name in Everything.base_fields:
        assert str(fast[name]) == str(slow[name]), name


def test_the_filter_forms_use_it(settings):
    assert settings.FORM_RENDERER == "blacklist_admin.renderer.FastWidgetRenderer"


def test_only_other_widgets_go_through_the_templates(monkeypatch):
    rendered = []
    original = DjangoTemplates.render

    def spy(self, template_name, context, request=None):
        rendered.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    form = Everything(DATA, renderer=FastWidgetRenderer())
    for name in Everything.base_fields:
        str(form[name])
    assert rendered == ["django/forms/widgets/select.html",  # `numbered`: labels the template localizes
                        "django/forms/widgets/textarea.html", "django/forms/widgets/checkbox.html"]
