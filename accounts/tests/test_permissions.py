"""A user's permissions, as every page checks them: the same as Django's ModelBackend finds, from
one query instead of its two (accounts.backends.ThrottledModelBackend.get_all_permissions)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import ThrottledModelBackend
from roles.groups import assign

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads it: no permissions cached on it yet."""
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("role", ["Viewer", "Reviewer", "Manager", None])
def test_a_roles_and_own_permissions_are_djangos_in_one_query(django_user_model, django_assert_num_queries, role):
    user = django_user_model.objects.create_user("rita")
    assign(user, role)
    user.user_permissions.add(Permission.objects.get(codename="view_event"))  # one of its own, beside the role's
    loaded = fresh(user)
    with django_assert_num_queries(1):
        ours = ThrottledModelBackend().get_all_permissions(loaded)
    assert ours == ModelBackend().get_all_permissions(fresh(user))
    assert "audit.view_event" in ours
    assert ("blacklist.view_blacklistednumber" in ours) == (role is not None)


def test_a_superuser_has_every_permission_and_an_inactive_user_none(django_user_model):
    boss = django_user_model.objects.create_user("boss", is_superuser=True)
    gone = django_user_model.objects.create_user("gone", is_active=False)
    assign(gone, "Manager")
    assert ThrottledModelBackend().get_all_permissions(fresh(boss)) == ModelBackend().get_all_permissions(fresh(boss))
    assert len(ThrottledModelBackend().get_all_permissions(fresh(boss))) == Permission.objects.count()
    assert ThrottledModelBackend().get_all_permissions(fresh(gone)) == set()


def test_a_tab_page_asks_for_the_permissions_once(client, django_user_model):
    """The menu, the tab's actions and the decorators all read the one cached set."""
    user = django_user_model.objects.create_user("rita")
    assign(user, "Manager")
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/blacklist/review/").status_code == 200
    assert sum('"auth_permission"' in query["sql"] for query in queries) == 1
