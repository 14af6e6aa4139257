"""Roles: every page and action, for each role, answers as the role allows (403 otherwise) and a
refused request changes nothing; the UI shows only what the role may use; the command."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.models import ApiKey
from audit.models import Event
from blacklist.models import BlacklistedNumber, Reason, Status
from roles.groups import ROLES
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db
RANKS = {"none": 0, "Viewer": 1, "Reviewer": 2, "Manager": 3, "superuser": 4}


@pytest.fixture
def numbers(make_numbers):
    review, approved = make_numbers(Status.REVIEW, Status.APPROVED, reason="other")  # none kept for retention
    return {"review": review.pk, "approved": approved.pk}


def csv_file():
    return SimpleUploadedFile("leads.csv", b"phone\n4155550199\n", content_type="text/csv")


def bulk(tab, action, scope, numbers):
    pk = numbers[tab]
    return {"action": action, "scope": scope, "ids": [pk], "page_ids": [pk], "query": "", "confirmed": "on"}


# (name, method, url, data(numbers) → dict, the least role allowed, the answer when allowed)
CASES = [
    ("review tab", "get", lambda n: reverse("blacklist:review"), None, "Viewer", 200),
    ("approved tab", "get", lambda n: reverse("blacklist:approved"), None, "Viewer", 200),
    ("export a tab", "get", lambda n: reverse("blacklist:export", args=["approved"]), None, "Viewer", 200),
    ("Tasks Logs", "get", lambda n: reverse("tasks_logs:list"), None, "Viewer", 200),
    ("Tasks Logs rows", "get", lambda n: reverse("tasks_logs:rows"), None, "Viewer", 200),
    ("Activity", "get", lambda n: reverse("audit:activity"), None, "Viewer", 200),
    ("Activity export", "get", lambda n: reverse("audit:export"), None, "Viewer", 200),
    ("history", "get", lambda n: reverse("audit:history") + "?phone=%2B14155550100", None, "Viewer", 200),
    ("evidence JSON", "get", lambda n: reverse("audit:evidence", args=["json"]) + "?phone=%2B14155550100", None,
     "Viewer", 200),
    ("add page", "get", lambda n: reverse("blacklist:add"), None, "Reviewer", 200),
    ("add for review", "post", lambda n: reverse("blacklist:add"), lambda n: {"numbers": "4155550199"},
     "Reviewer", 302),
    ("add approved", "post", lambda n: reverse("blacklist:add"),
     lambda n: {"numbers": "4155550199", "approve": "on"}, "Manager", 302),
    ("upload for review", "post", lambda n: reverse("blacklist:upload"), lambda n: {"file": csv_file()},
     "Reviewer", 302),
    ("upload permanently approved", "post", lambda n: reverse("blacklist:upload"),
     lambda n: {"file": csv_file(), "approve_permanently": "on"}, "Manager", 302),
    ("row approve", "post", lambda n: reverse("blacklist:row_action", args=["review", "approve"]),
     lambda n: {"pk": n["review"]}, "Reviewer", 302),
    ("row unapprove", "post", lambda n: reverse("blacklist:row_action", args=["approved", "unapprove"]),
     lambda n: {"pk": n["approved"]}, "Reviewer", 302),
    ("row remove", "post", lambda n: reverse("blacklist:row_action", args=["approved", "remove"]),
     lambda n: {"pk": n["approved"]}, "Reviewer", 302),
    ("row approve permanently", "post",
     lambda n: reverse("blacklist:row_action", args=["review", "approve_permanently"]),
     lambda n: {"pk": n["review"]}, "Manager", 302),
    *[(f"bulk {action}, {scope}", "post", lambda n, tab=tab: reverse("blacklist:bulk_action", args=[tab]),
       lambda n, tab=tab, action=action, scope=scope: bulk(tab, action, scope, n), role, 302)
      for tab, action, role in [("review", "approve", "Reviewer"), ("approved", "unapprove", "Reviewer"),
                                ("approved", "remove", "Reviewer"), ("review", "approve_permanently", "Manager")]
      for scope in ["selected", "page", "all"]],
    ("API keys page", "get", lambda n: reverse("api:keys"), None, "Manager", 200),
    ("create an API key", "post", lambda n: reverse("api:create_key"), lambda n: {"name": "dialer", "can_check": "on"},
     "Manager", 200),
    ("Roles page", "get", lambda n: reverse("roles:list"), None, "Manager", 200),
    ("give a role", "post", lambda n: reverse("roles:set_role", args=[n["target"]]), lambda n: {"role": "Manager"},
     "Manager", 302),
    ("Reasons page", "get", lambda n: reverse("blacklist:reasons"), None, "Manager", 200),
    ("Registry page", "get", lambda n: reverse("registry:registry"), None, "Manager", 200),
    ("load a registry file", "post", lambda n: reverse("registry:load"),
     lambda n: {"file": SimpleUploadedFile("201.txt", b"2015550123\n"), "data_date": "2026-11-01"}, "Manager", 302),
    ("add a reason", "post", lambda n: reverse("blacklist:reasons"), lambda n: {"new-name": "Do not contact"},
     "Manager", 302),
]


def snapshot():
    """Everything a request could change."""
    return (
        list(BlacklistedNumber.objects.order_by("phone").values_list("phone", "status", "status_changed_at")),
        Event.objects.count(),
        TaskLog.objects.count(),
        list(ApiKey.objects.values_list("pk", "revoked_at")),
        sorted(Group.objects.filter(user__isnull=False).values_list("name", "user__username")),
        list(Reason.objects.values_list("slug", "name", "expirable", "retained")),
    )


@pytest.mark.parametrize("role", RANKS)
@pytest.mark.parametrize("name, method, url, data, least, allowed", CASES, ids=[case[0] for case in CASES])
def test_every_page_and_action_answers_as_the_role_allows(
    client, make_user, django_user_model, numbers, role, name, method, url, data, least, allowed
):
    if role == "superuser":
        user = django_user_model.objects.create_superuser("boss", password="pass-pass-123")
    else:
        user = make_user(role if role != "none" else "Viewer", "someone")
        if role == "none":
            user.groups.clear()
    numbers["target"] = make_user("Viewer", "target").pk
    client.force_login(user)
    before = snapshot()

    response = getattr(client, method)(url(numbers), data(numbers) if data else None)

    if RANKS[role] >= RANKS[least]:
        assert response.status_code == allowed
    else:
        assert response.status_code == 403
        assert snapshot() == before


def test_anonymous_users_are_sent_to_log_in(client):
    for url in [reverse("audit:activity"), reverse("audit:history"), reverse("roles:list")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_viewer_sees_no_button_it_cannot_use(client, make_user, make_numbers):
    make_numbers(Status.REVIEW)
    client.force_login(make_user("Viewer"))
    page = client.get(reverse("blacklist:review")).content.decode()

    assert 'aria-label="Approve ' not in page and "bulk-action" not in page and 'type="checkbox"' not in page
    assert "Add Blacklisted Leads" not in page and ">API</a>" not in page and ">Roles</a>" not in page
    assert ">Activity</a>" in page and ">Tasks Logs</a>" in page and "Export CSV" in page


def test_a_reviewer_sees_no_permanent_option_nor_approval_checkboxes(client, make_user, make_numbers):
    make_numbers(Status.REVIEW)
    client.force_login(make_user("Reviewer"))
    tab = client.get(reverse("blacklist:review")).content.decode()
    add = client.get(reverse("blacklist:add")).content.decode()

    assert 'aria-label="Approve (415) 555-0100"' in tab and 'aria-label="Remove (415) 555-0100"' in tab
    assert "approve_permanently" not in tab and "Approve permanently" not in tab
    assert "Mark all dnc leads as approved" not in add and "Add numbers" in add


def test_a_manager_sees_everything(client, make_user, make_numbers):
    make_numbers(Status.REVIEW)
    client.force_login(make_user("Manager"))
    tab = client.get(reverse("blacklist:review")).content.decode()
    add = client.get(reverse("blacklist:add")).content.decode()

    assert "Approve permanently" in tab and ">API</a>" in tab and ">Roles</a>" in tab
    assert "Mark all dnc leads as approved permanently" in add


def test_the_roles_page_gives_a_user_exactly_one_role(client, make_user):
    rita = make_user("Viewer", "rita")
    client.force_login(make_user("Manager"))
    client.post(reverse("roles:set_role", args=[rita.pk]), {"role": "Reviewer"})

    assert list(rita.groups.values_list("name", flat=True)) == ["Reviewer"]
    client.post(reverse("roles:set_role", args=[rita.pk]), {"role": ""})
    assert not rita.groups.exists()


def test_the_migration_created_the_three_roles(db):
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    assert set(groups) == set(ROLES)
    for name, permissions in ROLES.items():
        held = {f"{p.content_type.app_label}.{p.codename}" for p in groups[name].permissions.all()}
        assert held == set(permissions)


def test_assign_role_command(django_user_model):
    rita = django_user_model.objects.create_user("rita")
    call_command("assign_role", "rita", "manager")
    assert list(rita.groups.values_list("name", flat=True)) == ["Manager"]
    assert rita.has_perm("blacklist.approve_permanently")

    call_command("assign_role", "rita", "Viewer")
    rita = django_user_model.objects.get(pk=rita.pk)  # a fresh permission cache
    assert list(rita.groups.values_list("name", flat=True)) == ["Viewer"]
    assert not rita.has_perm("blacklist.approve_permanently")

    with pytest.raises(CommandError, match="Unknown role"):
        call_command("assign_role", "rita", "emperor")
    with pytest.raises(CommandError, match="No user"):
        call_command("assign_role", "nobody", "Viewer")


def test_add_approveds_stored_description_names_the_add_as_choice():
    """Django never renames a stored permission: blacklist's migration 0017 does, both ways."""
    migration = importlib.import_module("blacklist.migrations.0017_add_approved_describes_the_add_as_choice")
    permission = Permission.objects.get(content_type__app_label="blacklist", codename="add_approved")
    assert permission.name == migration.NEW

    Permission.objects.filter(pk=permission.pk).update(name=migration.OLD)
    migration.rename(migration.OLD, migration.NEW)(apps, None)
    assert Permission.objects.get(pk=permission.pk).name == migration.NEW
    migration.rename(migration.NEW, migration.OLD)(apps, None)
    assert Permission.objects.get(pk=permission.pk).name == migration.OLD
