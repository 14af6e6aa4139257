"""Login throttling, for every login form (ours and the admin's): both end in `authenticate()`."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import throttle


class ThrottledModelBackend(ModelBackend):
    """ModelBackend behind the throttle (accounts/throttle.py): each password checked takes a try
    first; after LOGIN_FAILURES_PER_ACCOUNT to one username, or LOGIN_FAILURES_PER_IP from one
    address, within LOGIN_LOCKOUT_MINUTES, no password is checked at all (right or wrong) until
    that window has passed."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            attempt = throttle.attempt(request, username or kwargs.get("username") or "")
        except throttle.Throttled:
            raise PermissionDenied("Too many failed logins.") from None  # authenticate() stops here: no other backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user
