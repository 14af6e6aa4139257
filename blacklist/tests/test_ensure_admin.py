"""`make run`'s `ensure_admin`: ADMIN_PASSWORD goes through the same password validators as
everyone's; a weak one stops the command (non-zero exit, a clear message) and changes nothing."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("weak, reason", [
    ("admin", "too short"), ("password123", "too common"), ("83920174651", "entirely numeric"),
])
def test_a_weak_admin_password_is_refused_and_creates_no_admin(monkeypatch, django_user_model, weak, reason):
    monkeypatch.setenv("ADMIN_PASSWORD", weak)
    with pytest.raises(CommandError, match=f"ADMIN_PASSWORD is refused: .*{reason}"):
        call_command("ensure_admin")
    assert not django_user_model.objects.filter(username="admin").exists()


def test_a_weak_admin_password_does_not_replace_the_current_one(monkeypatch, django_user_model):
    django_user_model.objects.create_superuser("admin", password="a long old passphrase")
    monkeypatch.setenv("ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError):
        call_command("ensure_admin")
    assert django_user_model.objects.get(username="admin").check_password("a long old passphrase")


def test_a_strong_admin_password_is_taken(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_PASSWORD", "violet-harbour-lantern-42")
    call_command("ensure_admin")
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("violet-harbour-lantern-42")


@pytest.mark.slow  # migrates a fresh database in a fresh process
def test_the_command_exits_non_zero_with_the_message(tmp_path):
    """As `make run` runs it: its own process, its own empty database."""
    env = {**os.environ, "VAR_DIR": str(tmp_path), "ADMIN_PASSWORD": "qwerty"}
    env.pop("DATABASE_URL", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=settings.BASE_DIR, check=True, capture_output=True)
    result = subprocess.run([*manage, "ensure_admin"], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 1
    assert "ADMIN_PASSWORD is refused: This password is too short." in result.stderr
