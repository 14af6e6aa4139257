"""Password attempts, counted before the password is checked: the one throttle behind every login
form (ours and the admin's, through the backend) and the password change form.

An attempt takes one try from its account's and its address's allowance in one conditional
statement (`INSERT … ON CONFLICT DO UPDATE … WHERE count < limit RETURNING`), so deciding and
counting cannot be torn apart: however many requests arrive at once, in however many processes,
at most the limit of passwords is ever checked per window. A right password gives the account a
fresh start and the address its try back.
"""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import LoginFailures

_TABLE = LoginFailures._meta.db_table
# Both rows in one statement, the account's first (every attempt locks in that order: no deadlock).
# A row whose window has passed starts over at 1; a row at its limit is left alone and not returned.
_TAKE_TRIES = f"""
INSERT INTO {_TABLE} ("key", "count", "since") VALUES (%(account)s, 1, %(now)s), (%(address)s, 1, %(now)s)
ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN {_TABLE}."since" < %(window_start)s THEN 1 ELSE {_TABLE}."count" + 1 END,
    "since" = CASE WHEN {_TABLE}."since" < %(window_start)s THEN excluded."since" ELSE {_TABLE}."since" END
WHERE {_TABLE}."since" < %(window_start)s
    OR {_TABLE}."count" < CASE WHEN {_TABLE}."key" = %(account)s THEN %(account_limit)s ELSE %(address_limit)s END
RETURNING "key"
"""  # noqa: S608 — table name from model metadata, every value a bound %(name)s


class Throttled(Exception):
    """The account or the address used up its tries in the current window: no password is checked."""


@dataclass(frozen=True)
class Attempt:
    """One counted password attempt; counted as a failure unless `succeeded()` is called."""

    account: str
    address: str

    def succeeded(self) -> None:
        """The password was right: the account starts over, the address gets back the try it took."""
        LoginFailures.objects.filter(key=self.account).delete()
        LoginFailures.objects.filter(key=self.address, count__gt=0).update(count=F("count") - 1)


def attempt(request, username: str) -> Attempt:
    """Take one try for `username` from the request's client address before checking a password
    (Throttled, with nothing counted, when either is used up)."""
    account = f"account:{username.strip().casefold()[:150]}"
    address = f"ip:{client_address(request)}"
    now = timezone.now()
    params: dict[str, Any] = {"account": account, "address": address, "now": now,
              "window_start": now - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES),
              "account_limit": settings.LOGIN_FAILURES_PER_ACCOUNT, "address_limit": settings.LOGIN_FAILURES_PER_IP}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_TAKE_TRIES, params)
            if len(cursor.fetchall()) < 2:
                raise Throttled("Too many failed logins.")  # rolls back the try taken from the other row
    except Throttled:
        if request is not None:
            request.login_throttled = True  # the login page says why
        raise
    return Attempt(account, address)


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, unless that is one of TRUSTED_PROXIES; then the
    rightmost X-Forwarded-For entry that is not a trusted proxy (what a client writes into the
    header itself sits to the left of what the proxies append, and is never reached)."""
    if request is None:
        return "unknown"
    address = request.META.get("REMOTE_ADDR", "").strip()
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    while forwarded and _is_trusted_proxy(address):
        address = forwarded.pop()
    return address[:45] or "unknown"


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)
