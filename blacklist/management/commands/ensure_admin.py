"""Create the `admin` superuser on first run; print its password once."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the superuser `admin` if missing (password from ADMIN_PASSWORD, or generated and printed)."

    def handle(self, *args, **options):
        users = get_user_model()
        password = os.environ.get("ADMIN_PASSWORD")
        admin = users.objects.filter(username="admin").first()
        if admin and not password:
            self.stdout.write("Admin account: admin (password printed when it was created; "
                              "set ADMIN_PASSWORD=… and run again to change it).")
            return
        if password:
            _check(password, admin or users(username="admin"))
        if admin:
            admin.set_password(password)
            admin.save(update_fields=["password"])
            self.stdout.write("Admin account: admin (password set from ADMIN_PASSWORD).")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", email="", password=password)
        shown = password if generated else "from ADMIN_PASSWORD"
        self.stdout.write(self.style.SUCCESS(f"Created admin account — username: admin  password: {shown}"))


def _check(password: str, user) -> None:
    """The same password validators as everyone's (AUTH_PASSWORD_VALIDATORS); a weak one stops here."""
    try:
        validate_password(password, user)
    except ValidationError as weak:
        raise CommandError(f"ADMIN_PASSWORD is refused: {' '.join(weak.messages)} "
                           "Choose a stronger one; the admin account was not changed.") from None
