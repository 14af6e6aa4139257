"""Login throttling, for every login form (ours and the admin's): both end in `authenticate()`."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.utils import timezone

from .models import LoginFailures


class ThrottledModelBackend(ModelBackend):
    """ModelBackend behind a throttle: after LOGIN_FAILURES_PER_ACCOUNT failed logins to one
    username, or LOGIN_FAILURES_PER_IP from one address, within LOGIN_LOCKOUT_MINUTES, no
    password is checked at all (right or wrong) until that window has passed."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        account, address = _keys(request, username or kwargs.get("username") or "")
        window_start = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        recent = LoginFailures.objects.filter(since__gte=window_start)
        if recent.filter(Q(key=account, count__gte=settings.LOGIN_FAILURES_PER_ACCOUNT)
                         | Q(key=address, count__gte=settings.LOGIN_FAILURES_PER_IP)).exists():
            if request is not None:
                request.login_throttled = True  # the login page says why
            raise PermissionDenied("Too many failed logins.")  # authenticate() stops here: no other backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            _count_failure([account, address], window_start)
        else:
            LoginFailures.objects.filter(key=account).delete()  # the address keeps its count
        return user


def _keys(request, username: str) -> tuple[str, str]:
    return f"account:{username.strip().casefold()[:150]}", f"ip:{_client_address(request)}"


def _client_address(request) -> str:
    """The client's address; behind our proxy (SECURE_PROXY_SSL_HEADER trusted), the one it
    appended to X-Forwarded-For, since REMOTE_ADDR is then the proxy itself."""
    if request is None:
        return "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.split(",")[-1].strip()[:45]
    return request.META.get("REMOTE_ADDR", "unknown")[:45]


def _count_failure(keys: list[str], window_start) -> None:
    now = timezone.now()
    for key in keys:
        LoginFailures.objects.filter(key=key, since__lt=window_start).delete()  # an old window starts over
        failures, created = LoginFailures.objects.get_or_create(key=key, defaults={"count": 1, "since": now})
        if not created:
            LoginFailures.objects.filter(key=key).update(count=F("count") + 1)
