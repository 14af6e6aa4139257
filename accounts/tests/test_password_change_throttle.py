"""The password change page counts wrong old passwords like failed logins: a stolen session
cannot try passwords there without limit."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LoginFailures

pytestmark = pytest.mark.django_db
PASSWORD = "a long password"
NEW = "another long passphrase"


@pytest.fixture
def signed_in(django_user_model):
    user = django_user_model.objects.create_user("ana", password=PASSWORD)
    client = Client(REMOTE_ADDR="10.0.0.1")
    client.force_login(user)
    return user, client


def change_password(client, old):
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def test_five_wrong_old_passwords_lock_the_change_even_for_the_right_one(signed_in):
    user, client = signed_in
    for _ in range(5):
        assert "Your old password was entered incorrectly" in change_password(client, "wrong").content.decode()

    response = change_password(client, PASSWORD)

    assert response.status_code == 200 and "Too many failed logins" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(NEW)
    assert LoginFailures.objects.get(key="account:ana").count == 5


def test_wrong_old_passwords_count_against_logins_too(signed_in):
    _, client = signed_in
    for _ in range(5):
        change_password(client, "wrong")

    login = Client(REMOTE_ADDR="10.0.0.2").post(reverse("login"), {"username": "ana", "password": PASSWORD})

    assert "Too many failed logins" in login.content.decode()


def test_the_right_old_password_changes_it_and_starts_the_count_over(signed_in):
    user, client = signed_in
    for _ in range(4):
        change_password(client, "wrong")

    response = change_password(client, PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert not LoginFailures.objects.filter(key="account:ana").exists()
    assert LoginFailures.objects.get(key="ip:10.0.0.1").count == 4


def test_the_admins_password_change_page_is_throttled_too(signed_in):
    user, client = signed_in
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    url = reverse("admin:password_change")
    for _ in range(5):
        client.post(url, {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW})

    response = client.post(url, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})

    assert "Too many failed logins" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_admins_password_change_page_still_changes_it(signed_in):
    user, client = signed_in
    user.is_staff = True
    user.save(update_fields=["is_staff"])

    response = client.post(reverse("admin:password_change"),
                           {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})

    assert response.status_code == 302 and response["Location"] == reverse("admin:password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
