"""The three roles, as Django groups with these permissions. Each role holds the one before it.

Views check the permissions, never the group names, so a site may also grant a permission to
one user directly. Superusers have every permission.
"""

from django.apps import apps as installed_apps
from django.db import transaction

VIEWER = [
    "blacklist.view_blacklistednumber",  # the tabs and their CSV export
    "tasks_logs.view_tasklog",  # Tasks Logs
    "audit.view_event",  # Activity and each number's history
]
REVIEWER = VIEWER + [
    "blacklist.add_blacklistednumber",  # upload and add by hand, into review only
    "blacklist.change_blacklistednumber",  # approve, unapprove
    "blacklist.delete_blacklistednumber",  # remove
    "audit.view_compliance_report",  # the compliance report
]
MANAGER = REVIEWER + [
    "blacklist.add_approved",  # the approved choices of upload and hand entry (add_as)
    "blacklist.approve_permanently",
    "blacklist.remove_retained",  # remove a number kept for retention, with a written justification
    "blacklist.add_prefix",  # prefix blocks (+1201*) on hand entry and in uploads
    "api.view_apikey", "api.add_apikey", "api.change_apikey",  # the API page
    "roles.manage_roles",  # the Roles page; no auth.* permission, which the admin would honour
    "roles.manage_reasons",  # the Reasons page
    "blacklist.manage_lists",  # the Lists page
    "registry.load_registry",  # the Registry page: the national registry's files and freshness
]
ROLES = {"Viewer": VIEWER, "Reviewer": REVIEWER, "Manager": MANAGER}


def sync_groups(apps=installed_apps, roles: dict[str, list[str]] | None = None) -> None:
    """Create the role groups if missing and give each exactly its permissions (idempotent).
    Data migrations call it with their historical apps and the roles as they were then (ROLES
    by default); tests after a database flush too."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    with transaction.atomic():
        for name, permissions in (roles or ROLES).items():
            group, _ = group_model.objects.get_or_create(name=name)
            wanted = [tuple(permission.split(".")) for permission in permissions]
            found = list(permission_model.objects.filter(
                content_type__app_label__in={app for app, _ in wanted}, codename__in={code for _, code in wanted}
            ).select_related("content_type"))
            chosen = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
            missing = set(wanted) - {(p.content_type.app_label, p.codename) for p in chosen}
            if missing:
                raise LookupError(f"Role {name}: no such permission(s) {sorted(missing)}")
            group.permissions.set(chosen)


def assign(user, role: str | None) -> None:
    """Give `user` exactly one role (a name in ROLES), or none."""
    from django.contrib.auth.models import Group

    if role is not None and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    sync_groups()
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name__in=ROLES))
        if role:
            user.groups.add(Group.objects.get(name=role))


def role_of(user) -> str:
    """The user's role name, "Superuser", or "" for none."""
    if user.is_superuser:
        return "Superuser"
    names = {group.name for group in user.groups.all()}  # prefetched on the Roles page
    return next((name for name in reversed(list(ROLES)) if name in names), "")
