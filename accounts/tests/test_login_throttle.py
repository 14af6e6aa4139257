"""Login throttling: per account and per address, counted in the database, on our login page
and the admin's."""

import ipaddress
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import LoginFailures

PASSWORD = "a long password"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ana", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(username, password, address="10.0.0.1", path="login"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse(path), {"username": username, "password": password})
    return response, client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


pytestmark = pytest.mark.django_db


def test_five_failures_lock_the_account_even_for_the_right_password(user):
    for _ in range(5):
        response, _ = log_in("ana", "wrong")
        assert "Too many failed logins" not in response.content.decode()

    response, client = log_in("ana", PASSWORD, address="10.0.0.2")  # another address: still the account

    assert not logged_in(client)
    assert "Too many failed logins for this account or from this address" in response.content.decode()
    assert LoginFailures.objects.get(key="account:ana").count == 5


def test_the_lock_ends_with_its_window(user):
    for _ in range(5):
        log_in("ANA", "wrong")  # usernames count case-blind
    LoginFailures.objects.update(since=timezone.now() - timedelta(minutes=16))

    _, client = log_in("ana", PASSWORD)

    assert logged_in(client)
    assert not LoginFailures.objects.filter(key="account:ana").exists()  # success clears the account's count


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(user):
    for n in range(20):
        log_in(f"guess{n}", "wrong", address="10.0.0.9")

    _, refused = log_in("ana", PASSWORD, address="10.0.0.9")
    _, elsewhere = log_in("ana", PASSWORD, address="10.0.0.3")

    assert not logged_in(refused)
    assert logged_in(elsewhere)


def test_the_admin_login_is_throttled_too(user):
    for _ in range(5):
        log_in("ana", "wrong", path="admin:login")

    _, client = log_in("ana", PASSWORD, path="admin:login")

    assert not logged_in(client)


def test_a_success_before_the_limit_starts_the_account_count_over(user):
    for _ in range(4):
        log_in("ana", "wrong")
    log_in("ana", PASSWORD)
    for _ in range(4):
        log_in("ana", "wrong")

    _, client = log_in("ana", PASSWORD)

    assert logged_in(client)


def log_in_via(remote_addr, forwarded_for, username="ana", password="wrong"):
    client = Client(REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded_for, HTTP_X_FORWARDED_PROTO="https")
    response = client.post(reverse("login"), {"username": username, "password": password}, secure=True)
    return response, client


@pytest.fixture
def production_proxy_settings(settings):
    """HTTPS on, as in production (X-Forwarded-Proto trusted), and no TRUSTED_PROXIES: the default."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    return settings


def test_a_client_writing_its_own_x_forwarded_for_is_still_locked_by_its_real_address(user, production_proxy_settings):
    for n in range(20):  # a new made-up address with every try, from one real address
        log_in_via("198.51.100.7", f"10.1.0.{n}", username=f"guess{n}")

    response, client = log_in_via("198.51.100.7", "10.1.0.99", password=PASSWORD)

    assert not logged_in(client)
    assert "Too many failed logins" in response.content.decode()
    assert LoginFailures.objects.get(key="ip:198.51.100.7").count == 20
    assert not LoginFailures.objects.filter(key__startswith="ip:10.1.").exists()


def test_behind_a_trusted_proxy_the_address_it_appended_is_counted_not_what_the_client_wrote(
        user, production_proxy_settings):
    production_proxy_settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    for n in range(20):  # the client writes a new address each time; the proxy appends the one it saw
        log_in_via("10.0.0.2", f"10.1.0.{n}, 203.0.113.5", username=f"guess{n}")

    _, locked = log_in_via("10.0.0.2", "10.1.0.99, 203.0.113.5", password=PASSWORD)
    _, other_client = log_in_via("10.0.0.3", "203.0.113.6", password=PASSWORD)  # through another proxy

    assert not logged_in(locked)
    assert logged_in(other_client)
    assert LoginFailures.objects.get(key="ip:203.0.113.5").count == 20
    assert not LoginFailures.objects.filter(key__in=["ip:10.0.0.2", "ip:10.1.0.1"]).exists()


def test_trusted_proxies_is_read_from_the_environment_and_junk_stops_the_app(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from blacklist_admin.env import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16,::1")
    assert env_networks("TRUSTED_PROXIES") == [ipaddress.ip_network(n) for n in ["10.0.0.5/32", "10.1.0.0/16", "::1"]]
    monkeypatch.setenv("TRUSTED_PROXIES", "proxy.example.com")
    with pytest.raises(ImproperlyConfigured, match="not an IP address or network"):
        env_networks("TRUSTED_PROXIES")
