"""API keys (make, revoke, let in) and the blacklist lookups behind check and scrub.

The per-request paths (`authenticate`, `lookup`) use plain SQL on Django's connection: the
ORM's query building costs several times the indexed lookup itself, on every dialer call.
"""

import hashlib
import logging
import secrets
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection
from django.db.models import Q
from django.utils import timezone

from blacklist.models import BlacklistedNumber, Reason, Status
from blacklist.services import write_lock_timed_out

from .models import SCOPE_PERMISSIONS, ApiKey

logger = logging.getLogger(__name__)
KEY_START = "dnc_"
MAX_NUMBERS = 10_000  # a scrub or add request; well under Django's 2.5 MB body limit
# How stale a key's "last used" may be. Recording every request would add a committed write to
# each call and make a busy key's concurrent requests queue on its one row (bench/bench_api.py
# measures the write); once a minute, the first request of each minute pays it.
LAST_USED_PRECISION = timedelta(minutes=1)
STATUS_NAMES = {Status.REVIEW: "review", Status.APPROVED: "approved", Status.PERMANENT: "permanent"}

_NUMBERS = BlacklistedNumber._meta.db_table
_REASONS = Reason._meta.db_table
_KEYS = ApiKey._meta.db_table
_KEY_COLUMNS = ["id", "name", "can_check", "can_add", "can_approve", "expires_at", "revoked_at", "last_used_at",
                "created_by_id"]
_PREPARED_ON: weakref.WeakSet = weakref.WeakSet()  # the psycopg2 connections on which api_check is PREPAREd


def _creator_scopes() -> str:
    """SQL: which scopes' permissions (SCOPE_PERMISSIONS, bit 1 << i for the i-th) the key's creator
    `u` holds now, directly or through a group, as Django's ModelBackend decides (superusers hold
    all; is_active is read beside it). One subquery probing the three permissions' ids in the
    user-permission and group-permission indexes: about 0.1 ms on check's query."""
    wanted = [permission.split(".") for permission in SCOPE_PERMISSIONS.values()]  # constants of ours
    bits = " ".join(f"WHEN ct.app_label = '{app}' AND p.codename = '{code}' THEN {1 << i}"
                    for i, (app, code) in enumerate(wanted))
    which = " OR ".join(f"(ct.app_label = '{app}' AND p.codename = '{code}')" for app, code in wanted)
    user = get_user_model()
    return (
        f"CASE WHEN u.is_superuser THEN {(1 << len(wanted)) - 1} ELSE (SELECT COALESCE(SUM(CASE {bits} END), 0)"  # noqa: S608 — our own constants (SCOPE_PERMISSIONS, model metadata); no input in it
        f" FROM {Permission._meta.db_table} p JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id"
        f" WHERE ({which}) AND (EXISTS (SELECT 1 FROM {user.user_permissions.through._meta.db_table} up"
        f" WHERE up.user_id = u.id AND up.permission_id = p.id) OR EXISTS (SELECT 1"
        f" FROM {user.groups.through._meta.db_table} ug JOIN {Group.permissions.through._meta.db_table} gp"
        f" ON gp.group_id = ug.group_id WHERE ug.user_id = u.id AND gp.permission_id = p.id))) END"
    )


# A listed number as check and scrub see it: not once expired (`expires_at` compared in the
# query itself, with the request's time, bound), with its reason. The columns make a Listing.
_LISTING_COLUMNS = "n.status, n.status_changed_at, r.slug, r.name, n.received_at"
_NOT_EXPIRED = f"(n.expires_at IS NULL OR n.expires_at > %s OR n.status = {int(Status.PERMANENT)})"

# The key, its creator's state and permissions for each scope, and the number: one round trip.
_KEY_AND_NUMBER = (
    f"SELECT {', '.join('k.' + column for column in _KEY_COLUMNS)}, u.is_active, {_creator_scopes()},"  # noqa: S608 — names ours (model metadata); phone, time and key hash bound
    f" {_LISTING_COLUMNS}"
    f" FROM {_KEYS} k LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = k.created_by_id"
    f" LEFT JOIN {_NUMBERS} n ON n.phone = %s AND {_NOT_EXPIRED}"
    f" LEFT JOIN {_REASONS} r ON r.id = n.reason_id WHERE k.key_hash = %s"
)


class KeyRefused(Exception):
    """No key, or a wrong, revoked or expired one; the message says which, for the caller."""


@dataclass(frozen=True)
class Listing:
    """A number's row on the blacklist, as check and scrub report it."""

    status: Status
    since: datetime  # when it took its current status
    reason: str  # its slug
    reason_name: str
    received_at: datetime  # when the (earliest) request arrived

    @property
    def blocked(self) -> bool:
        """The one place deciding which statuses stop the dialer."""
        return self.status != Status.REVIEW or settings.BLOCK_NUMBERS_UNDER_REVIEW


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(name: str, *, can_check: bool, can_add: bool, can_approve: bool, expires_at: datetime | None,
               user=None) -> tuple[ApiKey, str]:
    """Make a key; return it with its secret, which is stored nowhere and cannot be shown again."""
    secret = KEY_START + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=secret[:12], key_hash=hash_key(secret), can_check=can_check, can_add=can_add,
        can_approve=can_add and can_approve, expires_at=expires_at, created_by=user,
    )
    return key, secret


def revoke(key: ApiKey, user=None) -> bool:
    """Revoke the key from its next request on; False if it already was."""
    return bool(ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now(), revoked_by=user))


def authenticate(authorization: str, phone: str | None = None) -> tuple[ApiKey, Listing | None]:
    """The active key named by an `Authorization: Bearer <key>` header (else KeyRefused) and,
    given a normalized phone, that number's blacklist row, read in the same query: check's whole
    answer costs one round trip to the database.

    Read on every request, so a revoked key is refused from its next request on, in every
    process, and so is a key whose creator is deactivated or deleted; a key's scopes are cut to
    what its creator may do now (the withheld ones are listed in `key.withheld`). A caller
    chooses the key, not its hash, so the index lookup's timing reveals nothing about stored hashes.
    """
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise KeyRefused("Send an API key as the header `Authorization: Bearer <key>`.")
    row = _key_and_number(phone, hash_key(secret))
    if row is None:
        raise KeyRefused("Unknown API key.")
    *key_values, creator_active, creator_scopes = row[:-5]
    listing = _listing(*row[-5:]) if row[-5] is not None else None
    key = ApiKey(**dict(zip(_KEY_COLUMNS, key_values, strict=True)))
    key.expires_at, key.revoked_at, key.last_used_at = map(_aware, [key.expires_at, key.revoked_at, key.last_used_at])
    now = timezone.now()
    if (state := key.state(now)) != "active":
        raise KeyRefused(f"This API key has been {state}." if state == "revoked" else "This API key has expired.")
    if creator_active is None:
        raise KeyRefused("The user who made this API key no longer exists: ask for a new key.")
    if not creator_active:
        raise KeyRefused("The user who made this API key has been deactivated: ask for a new key.")
    key.withheld = {field for i, field in enumerate(SCOPE_PERMISSIONS)
                    if getattr(key, field) and not creator_scopes & (1 << i)}
    for field in key.withheld:
        setattr(key, field, False)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        _record_use(key, now)
    return key, listing


def _key_and_number(phone: str | None, key_hash: str) -> tuple | None:
    """Run check's one query (phone None: `= NULL` matches no number). On PostgreSQL it is
    PREPAREd once per connection: planning this join costs about as much as running it, and
    skipping that saves ~0.1 ms a request (bench/bench_api.py). Needs session pooling if a
    PgBouncer sits in between."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # expired at or before it: not listed
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(_KEY_AND_NUMBER, [phone, now, key_hash])
            return cursor.fetchone()
        if connection.connection not in _PREPARED_ON:  # a new connection after Django reconnects
            cursor.execute("PREPARE api_check (varchar, timestamptz, varchar) AS"
                           f" {_KEY_AND_NUMBER % ('$1', '$2', '$3')}")
            _PREPARED_ON.add(connection.connection)
        cursor.execute("EXECUTE api_check (%s, %s, %s)", [phone, now, key_hash])
        return cursor.fetchone()


def _record_use(key: ApiKey, now: datetime) -> None:
    stale = Q(last_used_at=None) | Q(last_used_at__lte=now - LAST_USED_PRECISION)
    try:
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)  # the condition: one write a minute
    except OperationalError as error:
        if not write_lock_timed_out(error):
            raise
        # SQLite: a long write (an import's merge) held the one write lock past the timeout. "Last
        # used" is a minute-coarse hint that a later request records; the call itself goes on.
        logger.warning("API key %s: last use not recorded, the database stayed locked", key.pk)
        return
    key.last_used_at = now


def lookup(phones: Collection[str]) -> dict[str, Listing]:
    """Blacklist rows of these E.164 numbers: one query for the whole batch, served by the
    unique index on phone."""
    if not phones:
        return {}
    columns = (f"SELECT n.phone, {_LISTING_COLUMNS} FROM {_NUMBERS} n"  # noqa: S608 — names from model metadata; the phones and time bound
               f" JOIN {_REASONS} r ON r.id = n.reason_id WHERE {_NOT_EXPIRED} AND")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter, not thousands of literals to parse
            cursor.execute(f"{columns} n.phone = ANY(%s)", [now, list(phones)])
        else:
            cursor.execute(f"{columns} n.phone IN ({', '.join(['%s'] * len(phones))})", [now, *phones])
        return {phone: _listing(*listing) for phone, *listing in cursor.fetchall()}


def _listing(status: int, since: datetime, reason: str, reason_name: str, received_at: datetime) -> Listing:
    return Listing(Status(status), _aware(since), reason, reason_name, _aware(received_at))  # type: ignore[arg-type]  # NOT NULL columns


def verdict(phone: str, listing: Listing | None) -> dict:
    """What check (and each valid scrub line) answers about one normalized number."""
    if listing is None:
        return {"phone": phone, "blocked": False, "status": None, "since": None, "reason": None, "reason_name": None,
                "received_at": None}
    # Formatted here, not by DjangoJSONEncoder: for a 10,000-number scrub that saves ~40 ms.
    return {"phone": phone, "blocked": listing.blocked, "status": STATUS_NAMES[listing.status],
            "since": _utc_text(listing.since), "reason": listing.reason, "reason_name": listing.reason_name,
            "received_at": _utc_text(listing.received_at)}


def _utc_text(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _aware(value: datetime | None) -> datetime | None:
    """In UTC: plain SQL on SQLite gives naive datetimes (Django stores UTC there), on PostgreSQL
    aware ones in the connection's time zone (UTC for Django's connections)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
