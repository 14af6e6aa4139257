"""The filter forms of the list pages (the two tabs, Activity, Tasks Logs) are their FilterSets'
forms, rendered by templates/_filter_form.html: every field of the FilterSet is a control of the
page under its query-string name, every choice a menu offers is one the filter accepts, and a
choice the filter accepts (an older upload named by a link) is shown chosen. The bulk-scope menu
is BulkActionForm's."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from audit.filters import EventFilter
from audit.models import Event
from blacklist.filters import MENU_UPLOADS, BlacklistFilter
from blacklist.forms import BulkActionForm
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.filters import TaskLogFilter
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db

FILTERSETS = {  # each list page and the FilterSet its view builds
    "blacklist:review": lambda data=None: BlacklistFilter(data, tab="review"),
    "blacklist:approved": lambda data=None: BlacklistFilter(data, tab="approved"),
    "audit:activity": lambda data=None: EventFilter(data),
    "tasks_logs:list": lambda data=None: TaskLogFilter(data),
}
PAGE_CONTROLS = {"per_page"}  # the tabs' page size: paging, not a filter


class Controls(HTMLParser):
    """The controls of the page's filter form (the GET form with a Filter button) and of the bulk
    form: {name: {"id", "options": [(value, label, selected)]}}, and the labels: {for: text}."""

    def __init__(self, page: str):
        super().__init__()
        self.forms, self.labels, self._label, self._option = [], {}, None, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": attrs.get("method"), "controls": {}, "buttons": []})
        elif tag in ("input", "select") and self.forms and attrs.get("name") and attrs.get("type") != "hidden":
            self.forms[-1]["controls"][attrs["name"]] = {"id": attrs.get("id"), "options": [],
                                                        "invalid": attrs.get("aria-invalid") == "true"}
            self._select = self.forms[-1]["controls"][attrs["name"]]
        elif tag == "option":
            self._option = [attrs.get("value"), "", "selected" in attrs]
        elif tag == "label" and attrs.get("for"):
            self._label = [attrs["for"], ""]
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append("")

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._label is not None:
            self._label[1] += data
        if self.forms and self.forms[-1]["buttons"] and self.forms[-1]["buttons"][-1] == "" and data.strip():
            self.forms[-1]["buttons"][-1] = data.strip()

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self._select["options"].append((self._option[0], self._option[1].strip(), self._option[2]))
            self._option = None
        elif tag == "label" and self._label is not None:
            self.labels[self._label[0]] = self._label[1].strip()
            self._label = None

    def form_with(self, button: str) -> dict:
        (form,) = [form for form in self.forms if button in form["buttons"]]
        return form["controls"]

    @property
    def filter(self) -> dict:
        return {name: control for name, control in self.form_with("Filter").items() if name not in PAGE_CONTROLS}


def expected_controls(filterset) -> dict[str, str]:
    """{query-string name: label} of each field of the FilterSet's form; a date range is two."""
    controls = {}
    for field in filterset.form:
        widget = field.field.widget
        if hasattr(widget, "suffixes"):
            controls.update({widget.suffixed(field.html_name, suffix): label
                             for suffix, label in zip(widget.suffixes, widget.labels, strict=True)})
        else:
            controls[field.html_name] = field.label
    return controls


@pytest.fixture
def data(admin_user, make_user):
    """Users, API keys, uploads, a bulk task and events: something in every menu."""
    agent = make_user("Reviewer", "agent")
    uploads = [TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name=f"list-{i}.csv", created_by=agent,
                                      state=TaskLog.State.SUCCEEDED) for i in range(2)]
    bulk = TaskLog.objects.create(kind=TaskLog.Kind.BULK_REMOVE, created_by=admin_user, state=TaskLog.State.FAILED)
    BlacklistedNumber.objects.bulk_create([
        BlacklistedNumber(phone="+14155550100", status=Status.REVIEW, added_by=agent, source_task=uploads[0]),
        BlacklistedNumber(phone="+14155550101", status=Status.APPROVED, added_by=admin_user, source_task=uploads[1]),
    ])
    key, _ = api_services.create_key("Five9", can_check=True, can_add=True, can_approve=False, expires_at=None,
                                     user=admin_user)
    Event.objects.create(phone="+14155550100", action=Event.Action.ADDED, to_status=Status.REVIEW, actor="agent",
                         user=agent, via=Event.Via.UPLOAD, task=uploads[0])
    Event.objects.create(phone="+14155550101", action=Event.Action.ADDED, to_status=Status.APPROVED, actor="Five9",
                         api_key=key, via=Event.Via.API)
    return {"uploads": uploads, "bulk": bulk, "agent": agent}


@pytest.mark.parametrize("url_name", FILTERSETS)
def test_each_list_pages_filter_form_is_its_filtersets_form(admin_client, data, url_name):
    filterset = FILTERSETS[url_name]()
    controls = Controls(admin_client.get(reverse(url_name)).content.decode())

    expected = expected_controls(filterset)
    assert list(controls.filter) == list(expected)  # the same query-string names, in the same order
    for name, label in expected.items():
        control = controls.filter[name]
        assert controls.labels[control["id"]] == label
    menus = [field for field in filterset.form if hasattr(field.field, "choices")]
    assert menus
    for field in menus:  # every menu offers exactly the form's choices, "any" first
        offered = [(value, label) for value, label, _ in controls.filter[field.html_name]["options"]]
        assert offered == [(str(value), str(label)) for value, label in field.field.choices]
        assert offered[0][0] == "" and len(offered) > 1


@pytest.mark.parametrize("url_name", FILTERSETS)
def test_every_choice_a_filter_menu_offers_is_accepted_and_shown_chosen(admin_client, data, url_name):
    menus = {name: control["options"] for name, control in Controls(
        admin_client.get(reverse(url_name)).content.decode()).filter.items() if control["options"]}
    assert menus
    for name, options in menus.items():
        for value, label, _ in options[1:]:
            response = admin_client.get(reverse(url_name), {name: value})
            assert response.context["filterset"].is_valid(), (name, value)
            assert "The filter is not valid" not in response.content.decode()
            chosen = [option for option in Controls(response.content.decode()).filter[name]["options"] if option[2]]
            assert chosen == [(value, label, True)]


@pytest.mark.parametrize("url_name, name, refused", [
    ("blacklist:review", "source", lambda data: data["bulk"].pk),  # a task, but no upload
    ("blacklist:approved", "added_by", lambda data: 999_999),
    ("audit:activity", "actor", lambda data: f"user:{data['agent'].pk + 1000}"),
    ("tasks_logs:list", "kind", lambda data: "export"),
])
def test_a_choice_no_menu_offers_is_refused_by_the_filter_and_shows_nothing(admin_client, data, url_name, name, refused):
    value = str(refused(data))
    offered = Controls(admin_client.get(reverse(url_name)).content.decode()).filter[name]["options"]
    assert value not in [option[0] for option in offered]

    response = admin_client.get(reverse(url_name), {name: value})

    assert not response.context["filterset"].is_valid()
    assert not FILTERSETS[url_name]({name: value}).is_valid()
    assert not response.context["filterset"].qs.exists()
    assert "The filter is not valid, so nothing is shown" in response.content.decode()


def test_the_source_menu_offers_the_newest_uploads_and_an_older_one_a_link_chooses(admin_client, admin_user):
    start = timezone.now() - timedelta(days=200)
    uploads = TaskLog.objects.bulk_create(
        TaskLog(kind=TaskLog.Kind.IMPORT, file_name=f"day-{day}.csv", created_by=admin_user,
                created_at=start + timedelta(days=day), state=TaskLog.State.SUCCEEDED)
        for day in range(MENU_UPLOADS + 5)
    )
    TaskLog.objects.create(kind=TaskLog.Kind.BULK_APPROVE, created_by=admin_user)  # never in the menu
    oldest, newest = TaskLog.objects.get(file_name="day-0.csv"), TaskLog.objects.get(file_name=uploads[-1].file_name)
    BlacklistedNumber.objects.bulk_create([
        BlacklistedNumber(phone="+14155550100", source_task=oldest),
        BlacklistedNumber(phone="+14155550101", source_task=newest),
    ])
    newest_first = list(TaskLog.objects.filter(kind=TaskLog.Kind.IMPORT).order_by("-created_at", "-id")
                        .values_list("pk", flat=True)[:MENU_UPLOADS])

    menu = Controls(admin_client.get(reverse("blacklist:review")).content.decode()).filter["source"]["options"]
    assert [value for value, _, _ in menu] == ["", *map(str, newest_first)]
    assert str(oldest.pk) not in [value for value, _, _ in menu]

    response = admin_client.get(reverse("blacklist:review"), {"source": oldest.pk})  # a bookmark from long ago

    assert [row.phone for row in response.context["page"].rows] == ["+14155550100"]
    menu = Controls(response.content.decode()).filter["source"]["options"]
    assert [option for option in menu if option[2]] == [
        (str(oldest.pk), f"day-0.csv (#{oldest.pk}, {timezone.localtime(oldest.created_at):%Y-%m-%d})", True)]
    assert len(menu) == 1 + MENU_UPLOADS + 1


def test_a_filter_that_does_not_validate_marks_its_fields_and_names_them(admin_client, data):
    response = admin_client.get(reverse("blacklist:approved"), {"added_after": "soon", "added_by": "999999"})

    page = response.content.decode()
    controls = Controls(page).filter
    assert [name for name, control in controls.items() if control["invalid"]] == ["added_after", "added_before",
                                                                                   "added_by"]
    assert "The filter is not valid, so nothing is shown" in page
    assert '<span id="id_added_error">Added between: Enter a valid date.</span>' in page
    assert '<span id="id_added_by_error">Added by: Select a valid choice.' in page
    assert controls["added_after"]["id"] == "id_added_after"
    assert list(response.context["page"].rows) == []


@pytest.mark.parametrize("tab", ["review", "approved"])
def test_the_bulk_scope_menu_is_the_bulk_forms_scopes(admin_client, data, tab):
    page = admin_client.get(reverse(f"blacklist:{tab}")).content.decode()
    scopes = Controls(page).form_with("OK")["scope"]

    assert scopes["id"] == "bulk-scope"
    assert [(value, label) for value, label, _ in scopes["options"]] == list(
        BulkActionForm(tab=tab, matching="1").fields["scope"].choices)
    assert [value for value, _, _ in scopes["options"]] == list(BulkActionForm.SCOPES)
    number = BlacklistedNumber.objects.for_tab(tab).get()
    for scope, _, _ in scopes["options"]:  # each one the form takes
        form = BulkActionForm({"action": "remove", "scope": scope, "ids": [number.pk], "page_ids": [number.pk]},
                              tab=tab)
        assert form.is_valid(), (scope, form.errors)

    action = {"review": "approve", "approved": "unapprove"}[tab]  # neither asks first for one number
    response = admin_client.post(reverse("blacklist:bulk_action", args=[tab]),
                                 {"action": action, "scope": scopes["options"][-1][0], "query": "phone=415555"})
    assert response.status_code == 302
    assert BlacklistedNumber.objects.get(pk=number.pk).status == {"review": Status.APPROVED,
                                                                  "approved": Status.REVIEW}[tab]
