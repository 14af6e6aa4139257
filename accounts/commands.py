"""What the management commands that change data share about who they act as."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def acting_user(username: str | None):
    """The account named by a command's `--user`, recorded as the one who made the change; None
    when none is given; CommandError when there is no such account."""
    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"There is no user {username!r}.") from None
