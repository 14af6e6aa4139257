"""Managers give roles through the Roles page's own permission and hold no `auth.*` permission:
given staff status, a Manager still cannot edit users (themselves included) in /admin/."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from roles.groups import ROLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_manager(client, make_user):
    manager = make_user("Manager", "maria")
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager)
    return manager


def test_no_role_holds_an_auth_permission():
    assert [p for permissions in ROLES.values() for p in permissions if p.startswith("auth.")] == []
    manager = Group.objects.get(name="Manager")  # as the migrations left it
    assert not manager.permissions.filter(content_type__app_label="auth").exists()
    assert manager.permissions.filter(content_type__app_label="roles", codename="manage_roles").exists()


def test_a_staff_manager_cannot_make_themselves_superuser_in_the_admin(client, staff_manager):
    change_url = reverse("admin:auth_user_change", args=[staff_manager.pk])
    form = {"username": "maria", "is_active": "on", "is_staff": "on", "is_superuser": "on",
            "groups": [group.pk for group in staff_manager.groups.all()],
            "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}

    assert client.get(change_url).status_code == 403
    assert client.post(change_url, form).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    staff_manager.refresh_from_db()
    assert not staff_manager.is_superuser
    assert not staff_manager.user_permissions.exists()


def test_a_staff_managers_admin_index_offers_no_users_or_groups(client, staff_manager):
    page = client.get(reverse("admin:index")).content.decode()
    assert "/admin/auth/user/" not in page and "/admin/auth/group/" not in page


def test_a_manager_still_gives_roles_on_the_roles_page(client, staff_manager, make_user):
    viewer = make_user("Viewer", "vera")

    assert "vera" in client.get(reverse("roles:list")).content.decode()
    response = client.post(reverse("roles:set_role", args=[viewer.pk]), {"role": "Reviewer"})

    assert response.status_code == 302
    assert list(viewer.groups.values_list("name", flat=True)) == ["Reviewer"]
