"""The API page: admins list keys, create one (shown once), and revoke keys."""

import hashlib
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiKey

pytestmark = pytest.mark.django_db

NEW_KEY = {"name": "Five9 production", "can_check": "on"}


def created_secret(response) -> str:
    page = response.content.decode()
    start = page.index('value="dnc_') + len('value="')
    return page[start:page.index('"', start)]


@pytest.mark.parametrize("method, url", [
    ("get", reverse("api:keys")),
    ("post", reverse("api:create_key")),
    ("post", reverse("api:revoke_key", args=[1])),
])
def test_anonymous_users_are_sent_to_log_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_users_without_the_permissions_get_403_and_no_menu_item(client, django_user_model, make_key):
    make_key()
    agent = django_user_model.objects.create_user("agent", password="s3cret-pass-word")
    client.force_login(agent)

    assert ">API</a>" not in client.get(reverse("blacklist:add")).content.decode()
    assert client.get(reverse("api:keys")).status_code == 403
    assert client.post(reverse("api:create_key"), NEW_KEY).status_code == 403
    assert client.post(reverse("api:revoke_key", args=[ApiKey.objects.get().pk])).status_code == 403
    assert ApiKey.objects.get().revoked_at is None


def test_a_user_allowed_to_view_keys_sees_the_page_without_create_or_revoke(client, django_user_model, make_key):
    make_key("Genesys")
    viewer = django_user_model.objects.create_user("viewer", password="s3cret-pass-word")
    viewer.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client.force_login(viewer)

    page = client.get(reverse("api:keys")).content.decode()
    assert "Genesys" in page
    assert "Create API key" not in page and ">Revoke<" not in page


def test_the_page_lists_keys_with_their_state_and_a_curl_example(admin_client, make_key, admin_user):
    make_key("Five9", can_add=True, can_approve=True)
    make_key("Old dialer", expires_at=timezone.now() - timedelta(days=1))
    secret = make_key("Leaked")
    services.revoke(ApiKey.objects.get(name="Leaked"), admin_user)
    ApiKey.objects.filter(name="Five9").update(last_used_at=timezone.now() - timedelta(hours=3))

    page = admin_client.get(reverse("api:keys")).content.decode()

    assert ">API</a>" in page  # the menu item
    assert f"<code>{secret[:12]}…</code>" in page
    assert "check &amp; scrub, add, approves what it adds" in page
    assert "3\xa0hours ago" in page
    for state in ["active", "expired", "revoked"]:
        assert f">{state}</span>" in page
    assert page.count(">Revoke</button>") == 1  # only the active key
    assert 'curl -G -H "Authorization: Bearer $DNC_API_KEY"' in page
    assert "http://testserver/api/v1/blacklist/check" in page
    assert 'href="http://testserver/api/v1/openapi.json"' in page


def test_creating_a_key_shows_it_once_and_stores_only_its_hash(admin_client, admin_user):
    response = admin_client.post(reverse("api:create_key"), {**NEW_KEY, "can_add": "on"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = created_secret(response)
    page = response.content.decode()
    assert "shown only this once" in page
    assert f'curl -G -H "Authorization: Bearer {secret}"' in page
    key = ApiKey.objects.get()
    assert (key.name, key.can_check, key.can_add, key.can_approve, key.expires_at) == (
        "Five9 production", True, True, False, None)
    assert key.created_by == admin_user
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in admin_client.get(reverse("api:keys")).content.decode()


def test_a_new_key_works_at_once(admin_client, api):
    secret = created_secret(admin_client.post(reverse("api:create_key"), NEW_KEY))
    assert api.get("/api/v1/blacklist/check", secret, phone="4155550100").status_code == 200


def test_a_key_valid_through_a_day_expires_at_midnight_after_it(admin_client):
    day = timezone.localdate() + timedelta(days=30)
    admin_client.post(reverse("api:create_key"), {**NEW_KEY, "valid_through": day.isoformat()})
    expected = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    assert ApiKey.objects.get().expires_at == expected


@pytest.mark.parametrize("data, message", [
    ({"name": "", "can_check": "on"}, "This field is required."),
    ({"name": "x"}, "Give the key something to do: check and scrub, add, or both."),
    ({"name": "x", "can_check": "on", "can_approve": "on"}, "Only a key that may add numbers can approve them."),
    ({**NEW_KEY, "valid_through": "2001-01-01"}, "That day is already over."),
    ({**NEW_KEY, "valid_through": "soon"}, "Enter a valid date."),
])
def test_a_bad_form_creates_nothing_and_says_why(admin_client, data, message):
    response = admin_client.post(reverse("api:create_key"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_a_key_refuses_it_and_keeps_it_listed(admin_client, admin_user, make_key, api):
    secret = make_key("Five9")
    key = ApiKey.objects.get()

    response = admin_client.post(reverse("api:revoke_key", args=[key.pk]), follow=True)

    assert "Revoked the API key “Five9”" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_by == admin_user and key.revoked_at is not None
    assert api.get("/api/v1/blacklist/check", secret, phone="4155550100").status_code == 401

    again = admin_client.post(reverse("api:revoke_key", args=[key.pk]), follow=True)
    assert "was already revoked" in again.content.decode()


def test_revoking_an_unknown_key_is_404(admin_client):
    assert admin_client.post(reverse("api:revoke_key", args=[999])).status_code == 404


@pytest.mark.parametrize("url", [reverse("api:create_key"), reverse("api:revoke_key", args=[1])])
def test_create_and_revoke_are_post_only(admin_client, url):
    assert admin_client.get(url).status_code == 405
