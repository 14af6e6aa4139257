"""An API key acts with the least of its scopes and its creator's current permissions, checked on
every call: a demoted creator's key stops doing what the creator may no longer do, a deactivated
or deleted creator's key is refused (401, saying why), and the API page shows such keys."""

import pytest
from django.urls import reverse

from api import services
from blacklist.models import BlacklistedNumber, Status
from roles.groups import assign

pytestmark = pytest.mark.django_db
ADD = "/api/v1/blacklist/numbers"
CHECK = "/api/v1/blacklist/check"


@pytest.fixture
def manager(make_user):
    return make_user("Manager", "maria")


@pytest.fixture
def approving_key(manager):
    """A key Maria made while a Manager: check, add, and approve what it adds."""
    _, secret = services.create_key("Five9", can_check=True, can_add=True, can_approve=True, expires_at=None,
                                    user=manager)
    return secret


def test_a_managers_key_approves_what_it_adds(api, approving_key):
    response = api.post(ADD, ["4155550100"], key=approving_key)
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert BlacklistedNumber.objects.get().status == Status.APPROVED


def test_once_its_creator_is_a_reviewer_the_key_adds_for_review_only(api, approving_key, manager):
    assign(manager, "Reviewer")

    response = api.post(ADD, ["4155550100"], key=approving_key)

    assert response.status_code == 200 and response.json()["status"] == "review"
    assert BlacklistedNumber.objects.get(phone="+14155550100").status == Status.REVIEW


def test_once_its_creator_is_a_viewer_the_key_may_check_but_not_add(api, approving_key, manager):
    assign(manager, "Viewer")

    refused = api.post(ADD, ["4155550100"], key=approving_key)
    checked = api.get(CHECK, key=approving_key, phone="4155550100")

    assert refused.status_code == 403
    assert refused.json()["error"] == ("This API key may not add numbers (scope “add”): "
                                       "the user who made it no longer may.")
    assert checked.status_code == 200 and checked.json()["blocked"] is False
    assert not BlacklistedNumber.objects.exists()


def test_once_its_creator_has_no_role_the_key_may_not_even_check(api, approving_key, manager):
    assign(manager, None)
    assert api.get(CHECK, key=approving_key, phone="4155550100").status_code == 403


def test_a_deactivated_creators_key_is_refused_with_the_reason(api, approving_key, manager):
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    for response in [api.post(ADD, ["4155550100"], key=approving_key),
                     api.get(CHECK, key=approving_key, phone="4155550100")]:
        assert response.status_code == 401
        assert response.json()["error"] == "The user who made this API key has been deactivated: ask for a new key."
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not BlacklistedNumber.objects.exists()


def test_a_deleted_creators_key_is_refused(api, approving_key, manager):
    manager.delete()
    response = api.get(CHECK, key=approving_key, phone="4155550100")
    assert response.status_code == 401
    assert response.json()["error"] == "The user who made this API key no longer exists: ask for a new key."


def test_the_api_page_shows_keys_whose_creator_lost_the_right(admin_client, approving_key, manager, make_user):
    viewer = make_user("Manager", "victor")
    services.create_key("Victor's", can_check=True, can_add=True, can_approve=False, expires_at=None, user=viewer)
    services.create_key("Admin's", can_check=True, can_add=True, can_approve=True, expires_at=None,
                        user=make_user("Manager", "still-manager"))
    assign(manager, "Reviewer")
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])

    page = admin_client.get(reverse("api:keys")).content.decode()

    assert page.count("Its creator may no longer: approve what it adds; nor may the key") == 1
    assert page.count("Refused: its creator is deactivated") == 1
    assert "Its creator may no longer" not in page.split("Admin&#x27;s")[1].split("</tr>")[0]


def test_a_permission_given_to_the_creator_directly_counts_too(api, django_user_model):
    from django.contrib.auth.models import Permission

    owner = django_user_model.objects.create_user("solo")  # no role
    owner.user_permissions.add(Permission.objects.get(codename="view_blacklistednumber"))
    _, secret = services.create_key("solo", can_check=True, can_add=True, can_approve=False, expires_at=None,
                                    user=owner)

    assert api.get(CHECK, key=secret, phone="4155550100").status_code == 200
    assert api.post(ADD, ["4155550100"], key=secret).status_code == 403
