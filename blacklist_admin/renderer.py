"""The form renderer (settings.FORM_RENDERER): Django's own, with its two commonest widget
templates, the `<input>` and the `<select>`, written out in Python instead of rendered through
the template engine. The markup is byte for byte what Django's templates make
(django/forms/templates/django/forms/widgets/input.html, select.html, select_option.html,
attrs.html; blacklist_admin/tests/test_renderer.py compares the two); the engine spent about
0.5 ms a widget on it, a select including a template per option, on every list page's filter.
Anything else (another template, a label that is not text, an option template of its own) goes
through the templates as before."""

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
INPUTS = {f"{WIDGETS}{kind}.html" for kind in ("input", "text", "search", "date", "number", "email", "url",
                                                 "password", "hidden", "tel", "time", "datetime")}
SELECT, OPTION = f"{WIDGETS}select.html", f"{WIDGETS}select_option.html"


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if widget is not None:
            if template_name in INPUTS and widget.get("template_name") == template_name:
                return _input(widget)
            if template_name == SELECT and (markup := _select(widget)) is not None:
                return markup
        return super().render(template_name, context, request=request)


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}`: the value as str, escaped unless it is safe markup."""
    return str(value) if isinstance(value, SafeData) else conditional_escape(f"{value}")


def _label(text) -> str:
    """`{{ label }}`: escaped unless safe markup (a lazy string is made a string first)."""
    return str(text) if isinstance(text, SafeData) else conditional_escape(str(text))


def _attrs(attrs: dict) -> str:
    """attrs.html: ` name="value"` each, ` name` alone for True, nothing for False."""
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items() if value is not False
    )


def _input(widget) -> str:
    value = f' value="{_text(widget["value"])}"' if widget["value"] is not None else ""
    return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f"{value}{_attrs(widget['attrs'])}>")


def _select(widget) -> str | None:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _ in widget["optgroups"]:
        if group_name:
            if not isinstance(group_name, str | Promise):
                return None
            parts.append(f'\n  <optgroup label="{conditional_escape(str(group_name))}">')
        for option in group_choices:
            label = option["label"]
            if option["template_name"] != OPTION or not isinstance(label, str | Promise):
                return None  # a template of its own, or a number or date the template would localize
            parts.append(f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                         f"{_label(label)}</option>\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)
