"""Give a user one of the roles: `manage.py assign_role alice Reviewer` (or `none`)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from roles.groups import ROLES, assign


class Command(BaseCommand):
    help = f"Give a user one role ({', '.join(ROLES)}), replacing any other; `none` takes it away."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help=f"{', '.join(ROLES)} or none (any case)")

    def handle(self, *args, username, role, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        names = {name.lower(): name for name in ROLES} | {"none": None}
        if role.lower() not in names:
            raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)} or none.")
        assign(user, names[role.lower()])
        chosen = names[role.lower()] or "no role"
        note = " (a superuser: may do everything whatever the role)" if user.is_superuser else ""
        self.stdout.write(self.style.SUCCESS(f"{username} now has {chosen}{note}."))
