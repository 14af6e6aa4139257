"""API keys: only a hash is kept; a missing, wrong, revoked or expired key gets 401, a key
without the scope 403; last use is recorded at most once a minute."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api import services
from api.models import ApiKey
from blacklist.models import BlacklistedNumber

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"
SCRUB = "/api/v1/blacklist/scrub"
ADD = "/api/v1/blacklist/numbers"


def test_only_a_hash_of_the_key_is_stored(make_key):
    secret = make_key()

    key = ApiKey.objects.get()
    assert secret.startswith("dnc_") and len(secret) > 40
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.prefix == secret[:12]
    stored = [str(value) for value in ApiKey.objects.values().get().values()]
    assert not any(secret in value for value in stored)


def test_every_key_is_different(make_key):
    assert make_key() != make_key()


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "dnc_abc"])
def test_a_request_without_a_bearer_key_is_refused_with_401(client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(CHECK, {"phone": "4155550100"}, headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"error": "Send an API key as the header `Authorization: Bearer <key>`."}


def test_an_unknown_key_is_refused_with_401(api, make_key):
    secret = make_key()
    response = api.get(CHECK, secret[:-1] + ("x" if secret[-1] != "x" else "y"), phone="4155550100")
    assert response.status_code == 401
    assert response.json() == {"error": "Unknown API key."}


def test_the_bearer_scheme_is_case_insensitive(client, make_key):
    response = client.get(CHECK, {"phone": "4155550100"}, headers={"Authorization": f"bearer {make_key()}"})
    assert response.status_code == 200


def test_a_revoked_key_is_refused_from_its_next_request_on(api, make_key, admin_user):
    secret = make_key()
    assert api.get(CHECK, secret, phone="4155550100").status_code == 200

    assert services.revoke(ApiKey.objects.get(), admin_user) is True

    response = api.get(CHECK, secret, phone="4155550100")
    assert response.status_code == 401
    assert response.json() == {"error": "This API key has been revoked."}
    assert services.revoke(ApiKey.objects.get(), admin_user) is False  # already revoked: nothing to do


def test_an_expired_key_is_refused_and_one_expiring_later_works(api, make_key):
    expired = make_key(expires_at=timezone.now() - timedelta(seconds=1))
    later = make_key(expires_at=timezone.now() + timedelta(hours=1))

    response = api.get(CHECK, expired, phone="4155550100")
    assert response.status_code == 401
    assert response.json() == {"error": "This API key has expired."}
    assert api.get(CHECK, later, phone="4155550100").status_code == 200


def test_a_key_without_the_add_scope_cannot_add_numbers(api, make_key):
    response = api.post(ADD, ["4155550100"], make_key(can_check=True, can_add=False))

    assert response.status_code == 403
    assert response.json() == {"error": "This API key may not add numbers (scope “add”)."}
    assert not BlacklistedNumber.objects.exists()


@pytest.mark.parametrize("call", ["check", "scrub"])
def test_a_key_without_the_check_scope_cannot_check_or_scrub(api, make_key, call):
    secret = make_key(can_check=False, can_add=True)
    if call == "check":
        response = api.get(CHECK, secret, phone="4155550100")
    else:
        response = api.post(SCRUB, ["4155550100"], secret)

    assert response.status_code == 403
    assert response.json() == {"error": "This API key may not check or scrub numbers (scope “check”)."}


def test_a_logged_in_session_is_no_substitute_for_a_key(admin_client):
    assert admin_client.get(CHECK, {"phone": "4155550100"}).status_code == 401


def test_no_csrf_token_is_needed(make_key):
    client = Client(enforce_csrf_checks=True)
    response = client.post(SCRUB, ["4155550100"], content_type="application/json",
                           headers={"Authorization": f"Bearer {make_key()}"})
    assert response.status_code == 200


def test_last_use_is_recorded_once_a_minute_not_on_every_request(api, make_key, django_assert_num_queries):
    api.get(CHECK, make_key("warm-up"), phone="4155550100")  # PREPAREs check's query on this connection
    secret = make_key()
    assert ApiKey.objects.get(name="dialer").last_used_at is None

    with django_assert_num_queries(2):  # the key with the number, then the key's last-use write
        api.get(CHECK, secret, phone="4155550100")
    first_use = ApiKey.objects.get(name="dialer").last_used_at
    assert timezone.now() - first_use < timedelta(seconds=5)

    with django_assert_num_queries(1):  # within the minute: no write
        api.get(CHECK, secret, phone="4155550100")
    assert ApiKey.objects.get(name="dialer").last_used_at == first_use

    ApiKey.objects.filter(name="dialer").update(last_used_at=first_use - services.LAST_USED_PRECISION)
    api.get(CHECK, secret, phone="4155550100")
    assert ApiKey.objects.get(name="dialer").last_used_at > first_use


def test_a_refused_key_is_not_recorded_as_used(api, make_key, admin_user):
    secret = make_key()
    services.revoke(ApiKey.objects.get(), admin_user)
    api.get(CHECK, secret, phone="4155550100")
    assert ApiKey.objects.get().last_used_at is None


def test_approving_needs_the_add_scope(make_key):
    make_key(can_add=False, can_approve=True)
    assert ApiKey.objects.get().can_approve is False
