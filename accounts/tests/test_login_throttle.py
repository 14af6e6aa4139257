"""Login throttling: per account and per address, counted in the database, on our login page
and the admin's."""

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
