"""The actions on listed numbers, each declared once.

Everything else about an action is derived from its declaration here: the tabs' row buttons
and their browser confirmations (tables.py), the bulk dropdown and its confirmation page
(forms.py, views.py), the Django admin's actions (admin.py), who may run it (everywhere), what
its rule skips and the audit event it writes (services.py), and the kind of its background job.

Adding an action is one declaration below plus its rule: the function of the same name in
blacklist/services.py (services.RULES finds it by that name). Its event and task kind become
members of audit's Event.Action and TaskLog.Kind, which those models build from ACTIONS; run
`manage.py makemigrations` then: the migration records the two new choices and changes no data.

Stored values: `name` (a background job's TaskLog.params), `event.value` (audit_event.action)
and `task_kind.value` (TaskLog.kind) are in the database; never change them once deployed.

This module imports blacklist.models only: tasks_logs.models and audit.models import it (for
their choices), and services, forms, tables, views and admin import those.
"""

from dataclasses import dataclass
from typing import NamedTuple

from .models import Status


class Choice(NamedTuple):
    """A stored value and what people read for it: one member of a model's TextChoices."""

    value: str
    label: str


@dataclass(frozen=True)
class Action:
    """One action on a selection of numbers: its rule is services.<name>."""

    name: str  # in URLs, the bulk form and a background job's params; the rule's function name
    row_label: str  # the per-row button or menu item, followed by the row's number: "Remove +1 415 555 0123"
    bulk_label: str  # the bulk bar's dropdown, and "Your role may not …"
    admin_label: str  # the Django admin's action menu
    done: str  # the pages' message: "Approved 120 numbers."
    past: str  # the admin's message: "Approved 120 number(s)."
    question: str  # the bulk confirmation page: "Remove 12,345 numbers from the blacklist?"
    confirm: str  # its button: "Yes, remove 12,345 numbers"
    row_question: str  # asked in the browser before a row button runs ("" asks nothing; js/blacklist.js)
    irreversible: bool  # the bulk action always asks first; listed after the reversible ones
    permission: str  # who may run it, in any scope, also in the admin (roles/groups.py grants it)
    tabs: tuple[str, ...]  # the list tabs that offer it
    style: str  # the Bootstrap colour of its row button and of its confirmation's button
    skips: dict[Status, str]  # the statuses its rule leaves alone → the word for why
    event: Choice  # the audit Event.Action of each change it makes
    task_kind: Choice  # the TaskLog.Kind of its background job ("all matching", large)
    # Its rule also leaves numbers kept for retention (NumberQuerySet.retained), reported as
    # RETAINED beside `skips`, unless a Manager writes a justification (docs/compliance.md).
    keeps_retained: bool = False


RETAINED = "kept for retention"  # the skipped numbers of an action that keeps_retained
RETAINED_PERMISSION = "blacklist.remove_retained"  # who may override it, with a justification
JUSTIFICATION_MAX = 500  # characters: audit Event.note


def skip_sentence(reason: str, count: int, *, will: bool = False) -> str:
    """`3 permanently approved numbers were skipped.`, `1 number will be kept for retention.`"""
    numbers = f"number{'s' if count != 1 else ''}"
    verb = "will be" if will else ("were" if count != 1 else "was")
    if reason == RETAINED:
        return f"{count:,} {numbers} {verb} {RETAINED}."
    return f"{count:,} {reason} {numbers} {verb} skipped."


# In the order of the stored choices (Event.Action, TaskLog.Kind and their migrations).
ACTIONS = {action.name: action for action in [
    Action(
        "approve",
        row_label="Approve",
        bulk_label="Approve",
        admin_label="Approve selected numbers",
        done="Approved {}.",
        past="Approved",
        question="Approve {}?",
        confirm="Yes, approve {}",
        row_question="",
        irreversible=False,
        permission="blacklist.change_blacklistednumber",
        tabs=("review",),
        style="primary",
        skips={Status.APPROVED: "already approved", Status.PERMANENT: "permanently approved"},
        event=Choice("approved", "Approved"),
        task_kind=Choice("bulk_approve", "Bulk approve"),
    ),
    Action(
        "approve_permanently",
        row_label="Approve permanently",
        bulk_label="Approve permanently",
        admin_label="Approve selected numbers permanently",
        done="Permanently approved {}.",
        past="Permanently approved",
        question="Approve {} permanently? Permanently approved numbers can never be unapproved or removed.",
        confirm="Yes, approve {} permanently",
        row_question="Approve {} permanently? It can never be unapproved or removed.",
        irreversible=True,
        permission="blacklist.approve_permanently",
        tabs=("review", "approved"),
        style="dark",
        skips={Status.PERMANENT: "already permanently approved"},
        event=Choice("approved_permanently", "Approved permanently"),
        task_kind=Choice("bulk_approve_permanently", "Bulk approve permanently"),
    ),
    Action(
        "unapprove",
        row_label="Unapprove",
        bulk_label="Unapprove",
        admin_label="Unapprove selected numbers",
        done="Unapproved {}: they are back for review.",
        past="Unapproved",
        question="Unapprove {}?",
        confirm="Yes, unapprove {}",
        row_question="",
        irreversible=False,
        permission="blacklist.change_blacklistednumber",
        tabs=("approved",),
        style="primary",
        skips={Status.REVIEW: "already for review", Status.PERMANENT: "permanently approved"},
        event=Choice("unapproved", "Unapproved"),
        task_kind=Choice("bulk_unapprove", "Bulk unapprove"),
    ),
    Action(
        "remove",
        row_label="Remove",
        bulk_label="Remove",
        admin_label="Remove selected numbers from the blacklist",
        done="Removed {} from the blacklist.",
        past="Removed",
        question="Remove {} from the blacklist? They can be called again.",
        confirm="Yes, remove {}",
        row_question="Remove {} from the blacklist? It can be called again.",
        irreversible=True,
        permission="blacklist.delete_blacklistednumber",
        tabs=("review", "approved"),
        style="danger",
        skips={Status.PERMANENT: "permanently approved"},
        event=Choice("removed", "Removed"),
        task_kind=Choice("bulk_remove", "Bulk remove"),
        keeps_retained=True,
    ),
]}


def on_tab(tab: str) -> list[Action]:
    """The actions a list tab offers, in menu order: the reversible ones first (the tab's own
    move), then the irreversible ones, each in declaration order; none for an unknown tab."""
    offered = [action for action in ACTIONS.values() if tab in action.tabs]
    return sorted(offered, key=lambda action: action.irreversible)


def allowed(user, tab: str) -> list[Action]:
    """The tab's actions this user may run, in menu order: the only buttons the page shows."""
    return [action for action in on_tab(tab) if user.has_perm(action.permission)]


def enum_members(field: str) -> list[tuple[str, tuple[str, str]]]:
    """Each action's `event` or `task_kind` as TextChoices members, (NAME, (value, label)), in
    declaration order: audit.models and tasks_logs.models build their choices with them."""
    choices = [getattr(action, field) for action in ACTIONS.values()]
    return [(choice.value.upper(), (choice.value, choice.label)) for choice in choices]
