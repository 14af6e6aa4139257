"""Each action is declared once (blacklist/actions.py): the tabs' bulk options and row buttons,
the admin's actions, the permissions, the background job's kind and the audit event all come
from the declarations, and a new declaration (plus its rule) shows up in every one of them."""

import html
import re
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import Event
from blacklist import services, views
from blacklist.actions import ACTIONS, Choice, enum_members, on_tab
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db


def bulk_options(page: str) -> list[tuple[str, str]]:
    """(value, label) of the page-bottom dropdown, but its "Choose an action…" prompt."""
    select = re.search(r'<select[^>]*id="bulk-action".*?</select>', page, re.S).group()
    return [option for option in re.findall(r'<option value="([^"]*)">([^<]*)</option>', select) if option[0]]


def row_buttons(page: str) -> list[tuple[str, str, str, str]]:
    """(style, action name, confirmation, label) of each row's button and menu items on the page; each is
    named with its row's number: "Remove (415) 555-0100"."""
    found = re.findall(r'<button form="row-action" name="pk" value="\d+" formaction="/blacklist/\w+/numbers/(\w+)/"'
                       r' class="(?:btn btn-sm btn-outline-|dropdown-item text-)(\w+)" aria-label="([^"]*)"'
                       r'(?: data-confirm="([^"]*)")?>(?:<svg.*?</svg>)?([^<]*)</button>', page)
    assert all(name.startswith(f"{label} ") for _, _, name, _, label in found)
    return [(style, action, confirmation, label) for action, style, _, confirmation, label in found]


def admin_actions(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="action".*?</select>', page, re.S).group()
    return [option for option in re.findall(r'<option value="([^"]*)">([^<]*)</option>', select) if option[0]]


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def changelist():
    return reverse("admin:blacklist_blacklistednumber_changelist")


@pytest.mark.parametrize("tab, status, menu", [
    ("review", Status.REVIEW, ["Approve", "Approve permanently", "Remove"]),
    ("approved", Status.APPROVED, ["Unapprove", "Approve permanently", "Remove"]),
])
def test_a_tab_offers_its_declared_actions_as_bulk_options_and_row_buttons(admin_client, make_numbers, tab,
                                                                          status, menu):
    (number,) = make_numbers(status)
    declared = [action for action in ACTIONS.values() if tab in action.tabs]

    page = admin_client.get(reverse(f"blacklist:{tab}")).content.decode()

    assert [label for _, label in bulk_options(page)] == menu  # the menu order people know
    assert sorted(bulk_options(page)) == sorted((action.name, action.bulk_label) for action in declared)
    assert sorted(row_buttons(page)) == sorted(
        (action.style, action.name, html.escape(action.row_question.format(number.display_phone)), action.row_label)
        for action in declared
    )


def test_the_admin_offers_exactly_the_declared_actions_and_no_plain_delete(admin_client, make_numbers):
    make_numbers(Status.REVIEW)

    page = admin_client.get(changelist()).content.decode()

    assert admin_actions(page) == [(action.name, action.admin_label) for action in ACTIONS.values()]


def test_a_reviewer_gets_only_the_declared_actions_their_role_may_run(client, make_user, make_numbers):
    make_numbers(Status.REVIEW)
    reviewer = make_user("Reviewer")
    reviewer.is_staff = True
    reviewer.save()
    client.force_login(reviewer)
    may = [action for action in ACTIONS.values() if reviewer.has_perm(action.permission)]

    tab = client.get(reverse("blacklist:review")).content.decode()
    admin_page = client.get(changelist()).content.decode()

    assert "approve_permanently" not in [action.name for action in may]
    assert [name for name, _ in bulk_options(tab)] == [action.name for action in on_tab("review") if action in may]
    assert [name for name, _ in admin_actions(admin_page)] == [action.name for action in may]


def test_task_kinds_and_audit_events_are_the_declared_ones_and_need_no_migration():
    assert TaskLog.Kind.choices == [
        ("import", "Import blacklist"), ("registry_load", "Load registry file"),
        *(tuple(action.task_kind) for action in ACTIONS.values())]
    assert Event.Action.choices == [
        ("added", "Added"), ("raised", "Status raised by adding again"), ("repeated", "Requested again"),
        *(tuple(action.event) for action in ACTIONS.values()), ("expired", "Expired")]
    # The stored values as they were before the declarations: derived, not changed.
    assert TaskLog.Kind.BULK_APPROVE_PERMANENTLY == "bulk_approve_permanently"
    assert Event.Action.APPROVED_PERMANENTLY == "approved_permanently"
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # SystemExit(1) if the models moved


@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_declared_action_writes_its_declared_event(admin_client, make_numbers, name):
    action = ACTIONS[name]
    tab = action.tabs[0]
    (number,) = make_numbers(Status.REVIEW if tab == "review" else Status.APPROVED, reason="other")

    admin_client.post(reverse("blacklist:row_action", args=[tab, name]), {"pk": number.pk})

    assert list(Event.objects.values_list("phone", "action")) == [(number.phone, action.event.value)]


# A new action: one declaration plus its rule, and every page, the admin and the jobs offer it.

FLAG = replace(
    ACTIONS["approve"], name="flag", row_label="Flag", bulk_label="Flag it", admin_label="Flag selected numbers",
    done="Flagged {}.", past="Flagged", question="Flag {}?", style="warning",
    permission="blacklist.approve_permanently",
    event=Choice("flagged", "Flagged"), task_kind=Choice("bulk_flag", "Bulk flag"),
)


def flag(numbers, user=None, source=None) -> services.Outcome:
    """The new action's rule: for review → approved, without events (enough for this test)."""
    skipped = services.skipped_by_reason(numbers, "flag")
    return services.Outcome(numbers.changeable().filter(status=Status.REVIEW).update(status=Status.APPROVED), skipped)


@pytest.fixture
def flag_declared(monkeypatch):
    monkeypatch.setitem(ACTIONS, "flag", FLAG)
    monkeypatch.setitem(services.RULES, "flag", flag)


def statuses():
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def test_a_new_declaration_is_offered_on_its_tab_and_runs_as_row_and_bulk_action(admin_client, make_numbers,
                                                                                 flag_declared):
    first, second, third = make_numbers(Status.REVIEW, Status.REVIEW, Status.REVIEW)

    page = admin_client.get(reverse("blacklist:review")).content.decode()
    row = admin_client.post(reverse("blacklist:row_action", args=["review", "flag"]), {"pk": first.pk}, follow=True)
    bulk = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                             {"action": "flag", "scope": "selected", "ids": [second.pk]}, follow=True)

    assert [label for _, label in bulk_options(page)] == ["Approve", "Flag it", "Approve permanently", "Remove"]
    assert ("warning", "flag", "", "Flag") in row_buttons(page)
    assert page_messages(row) == ["Flagged 1 number."]
    assert page_messages(bulk) == ["Flagged 1 number."]
    assert statuses() == {first.phone: Status.APPROVED, second.phone: Status.APPROVED, third.phone: Status.REVIEW}
    approved_tab = admin_client.get(reverse("blacklist:approved")).content.decode()
    assert "Flag it" not in approved_tab and 'numbers/flag/' not in approved_tab  # not declared for that tab


def test_a_new_declaration_is_an_admin_action_with_its_permission(client, admin_client, make_user, make_numbers,
                                                                 flag_declared):
    first, second = make_numbers(Status.REVIEW, Status.PERMANENT)
    reviewer = make_user("Reviewer")  # has no blacklist.approve_permanently, FLAG's permission
    reviewer.is_staff = True
    reviewer.save()
    client.force_login(reviewer)

    assert ("flag", "Flag selected numbers") in admin_actions(admin_client.get(changelist()).content.decode())
    assert "flag" not in dict(admin_actions(client.get(changelist()).content.decode()))
    assert client.post(reverse("blacklist:row_action", args=["review", "flag"]), {"pk": first.pk}).status_code == 403

    response = admin_client.post(changelist(), {"action": "flag", "_selected_action": [first.pk, second.pk]},
                                 follow=True)

    assert "Flagged 1 number(s). 1 permanently approved number was skipped." in response.content.decode()
    assert statuses() == {first.phone: Status.APPROVED, second.phone: Status.PERMANENT}


def test_a_new_declaration_runs_in_the_background_as_its_task_kind(admin_client, make_numbers, monkeypatch,
                                                                   flag_declared):
    numbers = make_numbers(Status.REVIEW, Status.REVIEW, Status.PERMANENT)
    monkeypatch.setattr(views, "BACKGROUND_ABOVE", 1)  # "all matching" over 1 number: a background job

    response = admin_client.post(reverse("blacklist:bulk_action", args=["review"]),
                                 {"action": "flag", "scope": "all", "query": ""})
    task_log = TaskLog.objects.get()
    services.run_bulk_action(task_log)  # what the worker runs
    task_log.refresh_from_db()

    assert response["Location"] == reverse("tasks_logs:list")
    assert (task_log.kind, task_log.params["action"]) == ("bulk_flag", "flag")
    assert (task_log.state, task_log.changed, task_log.skipped) == (TaskLog.State.SUCCEEDED, 2, 0)
    assert statuses() == {numbers[0].phone: Status.APPROVED, numbers[1].phone: Status.APPROVED,
                          numbers[2].phone: Status.PERMANENT}
    # The models build their choices from the declarations: with FLAG declared at start-up, its
    # kind and event are members too (makemigrations then records them; no data changes).
    assert ("BULK_FLAG", ("bulk_flag", "Bulk flag")) in enum_members("task_kind")
    assert ("FLAGGED", ("flagged", "Flagged")) in enum_members("event")
