"""API keys (make, revoke, let in) and the blacklist lookups behind check and scrub.

The per-request paths (`authenticate`, `lookup`) use plain SQL on Django's connection: the
ORM's query building costs several times the indexed lookup itself, on every dialer call.
"""

import collections
import functools
import hashlib
import json
import logging
import secrets
import weakref
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from blacklist.models import BlacklistedNumber, DncList, Reason, Status, internal_list_id
from blacklist.phones import PREFIX_MARK, SHORTEST_PREFIX, batch_candidates, lookup_candidates
from blacklist.services import write_lock_timed_out
from registry.formats import area_code_exists
from registry.models import AREA_SPAN, EXCHANGE_SPAN, AreaCode, RegistryExchange

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
_LISTS = DncList._meta.db_table
_KEY_LISTS = ApiKey.lists.through._meta.db_table
_KEY_COLUMNS = ["id", "name", "can_check", "can_add", "can_approve", "all_lists", "expires_at", "revoked_at",
                "last_used_at", "created_by_id"]
_REGISTRY = RegistryExchange._meta.db_table
_AREA_CODES = AreaCode._meta.db_table
# The psycopg2 connections on which each of check's statements is PREPAREd: api_check, and
# api_check_registry when a request asks the national registry too (registry=1).
_PREPARED_ON: collections.defaultdict[str, weakref.WeakSet] = collections.defaultdict(weakref.WeakSet)
_LISTING_WIDTH = 8  # the columns of _LISTING_COLUMNS, last in check's query
_REGISTRY_WIDTH = 2  # with the registry: whether it lists the number, its area code's data date; before the listing


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


# An entry as check and scrub see it: not once expired (`expires_at` compared in the query itself,
# with the request's time, bound), with its list and reason. The columns make a Listing.
# PostgreSQL writes the two times as text in UTC to the microsecond ("2026-11-27T18:05:00.123456",
# which sorts as the time does): cheaper than psycopg2 reading them as datetimes for Python to
# write back as text, thousands of times in a scrub. SQLite's are read as datetimes (_time_text).
_LISTING_COLUMNS = ("n.phone, n.dnc_list_id, l.name, n.status,"
                    " to_char(n.status_changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), r.slug, r.name,"
                    " to_char(n.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
_SQLITE_LISTING_COLUMNS = ("n.phone, n.dnc_list_id, l.name, n.status, n.status_changed_at, r.slug, r.name,"
                           " n.received_at")
_LISTING_JOINS = f" LEFT JOIN {_REASONS} r ON r.id = n.reason_id LEFT JOIN {_LISTS} l ON l.id = n.dnc_list_id"


def _not_expired(now: str) -> str:
    return f"(n.expires_at IS NULL OR n.expires_at > {now} OR n.status = {int(Status.PERMANENT)})"


@functools.cache
def _check_sql(vendor: str, candidates: int, registry: bool = False) -> str:
    """check's one query: the key, its creator's state and permissions for each scope, the lists
    it is limited to (unless it may use all), every list's id and name when the request names
    lists, and one row per entry that lists the number or one of its prefixes (the number and its
    `candidates` prefixes, `phone = ANY(…)`: the unique (phone, list) index, never a scan of the
    prefixes); the key's columns repeat on each row. PostgreSQL: $1 the candidates, $2 the time,
    $3 the key's hash, $4 whether to name the lists; SQLite: the same as %s, in the order they
    appear (want_lists, candidates…, time, hash).

    With the `registry`, two more columns before the entry's: whether the national registry lists
    the number (its bit, $5, in its exchange's bitmap, $6, probed by primary key: see
    registry.models.RegistryExchange) and the data date of its area code ($7; null: never loaded).
    A statement of its own, so checks without the registry never read its tables."""
    postgres = vendor == "postgresql"
    key_lists = "array_agg(kl.dnclist_id)" if postgres else "json_group_array(kl.dnclist_id)"
    pair = "json_build_array(a.id, a.name)" if postgres else "json_array(a.id, a.name)"
    every_list = f"json_agg({pair})" if postgres else f"json_group_array({pair})"
    phones = "= ANY($1)" if postgres else f"IN ({', '.join(['%s'] * candidates) or 'NULL'})"
    return (
        f"SELECT {', '.join('k.' + column for column in _KEY_COLUMNS)}, u.is_active, {_creator_scopes()},"  # noqa: S608 — names ours (model metadata); phones, time, flag and key hash bound
        f" CASE WHEN k.all_lists THEN NULL ELSE (SELECT {key_lists} FROM {_KEY_LISTS} kl"
        f" WHERE kl.apikey_id = k.id) END,"
        f" CASE WHEN {'$4' if postgres else '%s'} THEN (SELECT {every_list} FROM {_LISTS} a) END,"
        f"{_registry_columns(postgres) if registry else ''}"
        f" {_LISTING_COLUMNS if postgres else _SQLITE_LISTING_COLUMNS}"
        f" FROM {_KEYS} k LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = k.created_by_id"
        f" LEFT JOIN {_NUMBERS} n ON n.phone {phones} AND {_not_expired('$2' if postgres else '%s')}"
        f"{_LISTING_JOINS} WHERE k.key_hash = {'$3' if postgres else '%s'}"
    )


def _registry_columns(postgres: bool) -> str:
    bit, exchange, code = ("$5", "$6", "$7") if postgres else ("%s", "%s", "%s")
    return (f" COALESCE((SELECT get_bit(re.bits, {bit}) FROM {_REGISTRY} re WHERE re.exchange = {exchange}), 0),"  # noqa: S608 — names ours; values bound
            f" (SELECT ac.data_date FROM {_AREA_CODES} ac WHERE ac.code = {code}),")


class KeyRefused(Exception):
    """No key, or a wrong, revoked or expired one; the message says which, for the caller."""


class ListsRefused(Exception):
    """A `lists=`/`list=` the call cannot take: unknown names or ids (400), or lists outside the
    key's (403). `lists` are the offending ones, as sent."""

    def __init__(self, message: str, status: int, lists: list[str]):
        super().__init__(message)
        self.status = status
        self.lists = lists


class Listing(NamedTuple):
    """An entry that lists a number (itself, or one of its prefixes) on one list, as check and
    scrub report it. A tuple, made once per row read: a scrub of 10,000 numbers reads thousands."""

    entry: str  # the number, or the prefix that covers it ("+1201*")
    list_id: int
    list_name: str
    status: Status
    since: str  # when it took its current status: UTC, to the microsecond (_time_text)
    reason: str  # its slug
    reason_name: str
    received_at: str  # when the (earliest) request arrived: as `since`
    blocked: bool  # blocks(status)
    # Its item of `blocked_by`, formatted once however many numbers of a scrub it covers (a prefix
    # entry); formatted here, not by DjangoJSONEncoder: for a 10,000-number scrub that saves ~40 ms.
    answer: dict

    def strength(self) -> tuple:
        """Sorts the strongest entry first: the highest status, then the earliest in it."""
        return -self.status, self.since, self.list_id, self.entry


def blocks(status: int) -> bool:
    """The one place deciding which statuses stop the dialer."""
    return status != Status.REVIEW or settings.BLOCK_NUMBERS_UNDER_REVIEW


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(name: str, *, can_check: bool, can_add: bool, can_approve: bool, expires_at: datetime | None,
               user=None, lists: Collection[DncList] = ()) -> tuple[ApiKey, str]:
    """Make a key, limited to `lists` if any are given (else every list); return it with its
    secret, which is stored nowhere and cannot be shown again."""
    secret = KEY_START + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name, prefix=secret[:12], key_hash=hash_key(secret), can_check=can_check, can_add=can_add,
            can_approve=can_add and can_approve, expires_at=expires_at, created_by=user, all_lists=not lists,
        )
        key.lists.set(lists)
    return key, secret


def revoke(key: ApiKey, user=None) -> bool:
    """Revoke the key from its next request on; False if it already was."""
    return bool(ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now(), revoked_by=user))


def authenticate(authorization: str, phone: str | None = None, name_lists: bool = False,
                 registry_number: int | None = None
                 ) -> tuple[ApiKey, list[Listing], list[tuple[int, str]], dict | None]:
    """The active key named by an `Authorization: Bearer <key>` header (else KeyRefused) and,
    given a normalized phone, the entries listing it or one of its prefixes on any list, and, if
    `name_lists`, every list's (id, name) to read a `lists=` with (choose_lists), and, given its
    `registry_number` (registry_number()), the national registry's answer on it (registry_answer;
    else None): all read in the same query, so check's whole answer costs one round trip to the
    database.

    Read on every request, so a revoked key is refused from its next request on, in every
    process, and so is a key whose creator is deactivated or deleted; a key's scopes are cut to
    what its creator may do now (the withheld ones are listed in `key.withheld`), and its
    `key.list_ids` are the lists it is limited to (None: every list). A caller chooses the key,
    not its hash, so the index lookup's timing reveals nothing about stored hashes.
    """
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise KeyRefused("Send an API key as the header `Authorization: Bearer <key>`.")
    rows = _key_and_number(lookup_candidates(phone) if phone else [], hash_key(secret), name_lists, registry_number)
    if not rows:
        raise KeyRefused("Unknown API key.")
    head = rows[0][:-_LISTING_WIDTH]
    registry = None
    if registry_number is not None:
        head, (listed, data_date) = head[:-_REGISTRY_WIDTH], head[-_REGISTRY_WIDTH:]
        registry = registry_answer(bool(listed), data_date)
    *key_values, creator_active, creator_scopes, key_lists, every_list = head
    make = _listing_maker()
    listings = [make(*row[-_LISTING_WIDTH:]) for row in rows if row[-_LISTING_WIDTH] is not None]
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
    key.list_ids = None if key.all_lists else frozenset(_json_array(key_lists))
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        _record_use(key, now)
    return key, listings, [(list_id, name) for list_id, name in _json_array(every_list)], registry


def _key_and_number(candidates: list[str], key_hash: str, name_lists: bool, registry_number: int | None
                    ) -> list[tuple]:
    """Run check's one query (no candidates: no entry; a registry number: the registry's columns
    too). On PostgreSQL it is PREPAREd once per connection: planning this join costs about as much
    as running it, and skipping that saves ~0.1 ms a request (bench/bench_api.py). Needs session
    pooling if a PgBouncer sits in between."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # expired at or before it: not listed
    registry = []  # its bit in its exchange's row, its exchange, its area code: as check's SQL names them
    if registry_number is not None:
        registry = [registry_number % EXCHANGE_SPAN, registry_number // EXCHANGE_SPAN, registry_number // AREA_SPAN]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_check_sql(connection.vendor, len(candidates), bool(registry)),
                           [name_lists, *registry, *candidates, now, key_hash])
            return cursor.fetchall()
    # Django's CONN_HEALTH_CHECKS would first ping a reused connection (`SELECT 1`): a second round
    # trip, as long as this query's own. This read-only query is the probe instead: if the server
    # dropped the connection, it is opened again and the query sent once more, as the ping would
    # have had it. Not inside a transaction, whose work a new connection would lose.
    probe = connection.connection is not None and not connection.in_atomic_block
    if probe:
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django 4.1+; not in django-stubs
    try:
        return _execute_check(candidates, now, key_hash, name_lists, registry)
    except (OperationalError, InterfaceError):
        if not probe or connection.is_usable():  # a live connection: the error is the query's own
            raise
        connection.close()
        return _execute_check(candidates, now, key_hash, name_lists, registry)


def _execute_check(candidates: list[str], now, key_hash: str, name_lists: bool, registry: list[int]) -> list[tuple]:
    name, types = ("api_check_registry", ", integer, integer, integer") if registry else ("api_check", "")
    with connection.cursor() as cursor:
        if connection.connection not in _PREPARED_ON[name]:  # a new connection after Django reconnects
            cursor.execute(f"PREPARE {name} (varchar[], timestamptz, varchar, boolean{types}) AS"
                           f" {_check_sql(connection.vendor, 0, bool(registry))}")
            _PREPARED_ON[name].add(connection.connection)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * (4 + len(registry)))})",
                       [candidates, now, key_hash, name_lists, *registry])
        return cursor.fetchall()


def _json_array(value) -> list:
    """An aggregate's list: PostgreSQL gives a list (or None for no rows), SQLite JSON text."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def known_lists() -> list[tuple[int, str]]:
    """Every list's (id, name), to read a `lists=` with (scrub, add; check reads them in its query)."""
    return list(DncList.objects.order_by("pk").values_list("pk", "name"))


def list_tokens(raw: str | None) -> list[str]:
    """A `lists=` as sent: names or ids, comma-separated; blanks dropped."""
    return [token.strip() for token in (raw or "").split(",") if token.strip()]


def choose_lists(key: ApiKey, tokens: list[str], lists: list[tuple[int, str]]) -> frozenset[int] | None:
    """The ids of the lists a call looks at: those named (names any case, or ids), else every list
    the key may use (None: all). Unknown names or ids raise ListsRefused (400), lists outside a
    limited key's too (403); each names them."""
    if not tokens:
        return key.list_ids
    chosen: dict[str, set[int]] = {token: {list_id for list_id, name in lists
                                           if token == str(list_id) or token.lower() == name.lower()}
                                   for token in tokens}
    if unknown := [token for token, ids in chosen.items() if not ids]:
        raise ListsRefused(f"Unknown list(s): {', '.join(unknown)}. A list is named by its name (any case) or its"
                           " id, as on the web app's Lists page.", 400, unknown)
    ids = frozenset().union(*chosen.values())
    if key.list_ids is not None and (outside := [token for token, found in chosen.items() if found - key.list_ids]):
        allowed = ", ".join(name for list_id, name in lists if list_id in key.list_ids) or "none left"
        raise ListsRefused(f"This API key may not use the list(s): {', '.join(outside)}. It is limited to: {allowed}.",
                           403, outside)
    return ids


def list_to_add_into(key: ApiKey, raw: str | None) -> DncList:
    """The list POST /numbers adds into: the one named by `?list=` (a name, any case, or an id),
    else Internal; for a key limited to lists without Internal, its one list, or it must name one.
    Unknown: ListsRefused (400); outside a limited key's lists: ListsRefused (403)."""
    token = (raw or "").strip()
    if not token:
        if key.list_ids is None or internal_list_id() in key.list_ids:
            return DncList.objects.get(pk=internal_list_id())
        if len(key.list_ids) == 1:
            return DncList.objects.get(pk=next(iter(key.list_ids)))
        allowed = ", ".join(DncList.objects.filter(pk__in=key.list_ids).values_list("name", flat=True))
        if not allowed:
            raise ListsRefused("This API key may add into no list: its lists were deleted.", 403, [])
        raise ListsRefused(f"Name the list to add into (?list=…): this API key is limited to {allowed}.", 400, [])
    ids = choose_lists(key, [token], known_lists()) or frozenset()  # never None: a list is named
    by_id = [list_id for list_id in ids if str(list_id) == token]  # "7": the list with id 7 before one named "7"
    return DncList.objects.get(pk=(by_id or sorted(ids))[0])


def only_lists(listings: list[Listing], list_ids: frozenset[int] | None) -> list[Listing]:
    return listings if list_ids is None else [listing for listing in listings if listing.list_id in list_ids]


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


def lookup(phones: Collection[str], list_ids: frozenset[int] | None = None) -> dict[str, list[Listing]]:
    """The entries listing each of these E.164 numbers, or one of its prefixes, on these lists
    (None: every list): one query for the whole batch, each number and its prefixes that could be
    entries probed in the unique (phone, list) index; each entry is then given to every number it
    covers."""
    if not phones or list_ids is not None and not list_ids:
        return {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # PostgreSQL: array parameters, not thousands of literals to parse, and each candidate looked up
    # by a LATERAL index probe: given a long `= ANY(…)` (tens of thousands of candidates) the planner
    # may choose a parallel scan of the whole table instead (measured at 10M: 1.4 s against 0.3 s).
    # The candidates are made in the query: each number and its heads of the lengths prefix entries
    # have now, read in the same query from the index prefix_entry_lengths (a probe a length): 20,000
    # probes for 10,000 numbers when the prefixes have one length, against 44,000 for every prefix.
    # In `unnest(ARRAY(…))`, which the planner takes for 10 rows: estimated at 120,000 they were
    # costed high enough for JIT compiling and optimizing the query, 0.9 s instead of 0.08.
    # SQLite: every number's every prefix (batch_candidates) as JSON text (it binds at most 32,766
    # parameters), `IN` probing the unique index.
    postgres = connection.vendor == "postgresql"
    values = "= ANY(%s)" if postgres else "IN (SELECT value FROM json_each(%s))"
    params: list = [list(phones) if postgres else json.dumps(list(batch_candidates(phones))), now]
    lists = ""
    if list_ids is not None:
        lists = f" AND n.dnc_list_id {values}"
        params.append(sorted(list_ids) if postgres else json.dumps(sorted(list_ids)))
    if postgres:
        prefixes = f"FROM {_NUMBERS} WHERE phone LIKE '%%{PREFIX_MARK}'"  # prefix_entry_lengths' condition
        sql = (f"WITH RECURSIVE lengths(n) AS (SELECT min(length(phone)) {prefixes} UNION ALL"  # noqa: S608 — names from model metadata; phones, lists and time bound
               f" SELECT (SELECT min(length(phone)) {prefixes} AND length(phone) > n) FROM lengths"
               " WHERE n IS NOT NULL),"
               " numbers(phone) AS (SELECT unnest(%s::varchar[]))"
               f" SELECT {_LISTING_COLUMNS} FROM unnest(ARRAY(SELECT phone FROM numbers UNION SELECT"
               f" left(s.phone, l.n - 1) || '{PREFIX_MARK}' FROM numbers s JOIN lengths l"
               f" ON l.n - 1 >= {SHORTEST_PREFIX} AND l.n - 1 < length(s.phone))) AS c(phone) CROSS JOIN LATERAL"
               f" (SELECT * FROM {_NUMBERS} n WHERE n.phone = c.phone AND {_not_expired('%s')}{lists} OFFSET 0) n"
               f"{_LISTING_JOINS}")  # OFFSET 0: probed per candidate, never joined by a scan of the table
    else:
        sql = (f"SELECT {_SQLITE_LISTING_COLUMNS} FROM {_NUMBERS} n{_LISTING_JOINS}"  # noqa: S608 — as above
               f" WHERE n.phone {values} AND {_not_expired('%s')}{lists}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found: dict[str, list[Listing]] = {}
    make = _listing_maker()
    for row in rows:
        found.setdefault(row[0], []).append(make(*row))
    # Back to the numbers: a number's own entries, and those of each prefix found that it starts
    # with (its head of that length: most of a batch's candidates found nothing). A batch's prefix
    # entries come in few lengths: one dictionary probe a number for each.
    by_length: dict[int, dict[str, list[Listing]]] = {}
    for entry, entries in found.items():
        if entry.endswith(PREFIX_MARK):
            by_length.setdefault(len(entry) - 1, {})[entry[:-1]] = entries
    if not by_length:
        return found  # only the numbers' own entries
    listings: dict[str, list[Listing]] = {}
    for phone in phones:
        own = found.get(phone)
        for length, heads in by_length.items():
            if length < len(phone) and (covering := heads.get(phone[:length])) is not None:
                own = covering if own is None else own + covering  # never changes a list in `found`
        if own is not None:
            listings[phone] = own
    return listings


def registry_number(phone: str) -> int | None:
    """The national registry's integer for a normalized number it covers (+1 and a US or US-territory
    area code, as the registry's loads accept them), else None: the registry says nothing of it."""
    if len(phone) == 12 and phone.startswith("+1") and area_code_exists(int(phone[2:5])):
        return int(phone[2:])
    return None


def registry_answer(listed: bool, data_date: date | str | None) -> dict:
    """`national_registry` of a number the registry covers: whether it lists it, the date of its
    area code's data, and whether that area code was ever loaded (if not, "not listed" means
    "not known", and says so)."""
    return {"listed": listed, "data_date": None if data_date is None else str(data_date)[:10],
            "area_code_loaded": data_date is not None}


def registry_lookup(phones: Collection[str]) -> dict[str, dict]:
    """The national registry's answer (registry_answer) on each of these normalized numbers that it
    covers, in one query: a row (number, null) per number the registry lists, then a row (code, data
    date) per area code met (an area code is under 1,000, a number over 2·10⁹). Each number tests
    its bit in its exchange's row, found by primary key (registry.models.RegistryExchange): a
    correlated sub-select, so each is one probe whatever the batch's size, never a join the planner
    might make a scan of the whole table."""
    numbers = {phone: number for phone in phones if (number := registry_number(phone)) is not None}
    if not numbers:
        return {}
    codes = sorted({number // AREA_SPAN for number in numbers.values()})
    if connection.vendor == "postgresql":
        # The numbers as one text literal ('{2015550123,…}'), which the server reads in one go;
        # psycopg2's ARRAY[…] of a Python list is an expression of thousands of constants to parse.
        each, value, bit = "unnest(%s::bigint[]) n(v)", "n.v", "(n.v %% {span})::int"
        params: list = [f"{{{','.join(map(str, numbers.values()))}}}", codes]
        code_in = "= ANY(%s::int[])"
    else:
        each, value, bit = "json_each(%s) n", "n.value", "n.value %% {span}"
        params = [json.dumps(list(numbers.values())), json.dumps(codes)]
        code_in = "IN (SELECT value FROM json_each(%s))"
    sql = (f"SELECT {value}, NULL FROM {each} WHERE get_bit((SELECT re.bits FROM {_REGISTRY} re"  # noqa: S608 — names and constants ours; numbers bound
           f" WHERE re.exchange = {value} / {EXCHANGE_SPAN}), {bit.format(span=EXCHANGE_SPAN)}) = 1"
           f" UNION ALL SELECT ac.code, ac.data_date FROM {_AREA_CODES} ac WHERE ac.code {code_in}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    listed = {value for value, _ in rows if value >= AREA_SPAN}
    dates = {value: data_date for value, data_date in rows if value < AREA_SPAN}
    answers = {(code, flag): registry_answer(flag, dates.get(code))  # one answer shared by an area code's numbers
               for code in codes for flag in (False, True)}
    return {phone: answers[number // AREA_SPAN, number in listed] for phone, number in numbers.items()}


def registry_blocks(registry: dict | None) -> bool:
    """The one place deciding whether the registry's answer stops the dialer (REGISTRY_BLOCKS)."""
    return registry is not None and registry["listed"] and settings.REGISTRY_BLOCKS


REGISTRY_SOURCE = "national_registry"


def with_registry(line: dict, registry: dict | None) -> dict:
    """A verdict (check's answer, a scrub line) with the national registry's answer on its number
    (None: a number the registry does not cover) beside our lists'. Our lists' entries keep their
    place and their status, reason and dates; when the registry lists the number and blocks
    (registry_blocks), the number is blocked and `blocked_by` ends with the registry's item."""
    line["national_registry"] = registry
    if registry is not None and registry_blocks(registry):
        line["blocked"] = True
        line["blocked_by"] = [*line["blocked_by"], {"source": REGISTRY_SOURCE, "data_date": registry["data_date"]}]
    return line


def _listing_maker():
    """A function making the Listing of one row of _LISTING_COLUMNS, for one request: the statuses,
    whether they block and their names read once, not once a row."""
    statuses = {int(status): (status, blocks(status), STATUS_NAMES[status]) for status in Status}

    def make(entry: str, list_id: int, list_name: str, status: int, since: str | datetime, reason: str,
             reason_name: str, received_at: str | datetime) -> Listing:
        if not isinstance(since, str):  # SQLite
            since = _time_text(since)
        if not isinstance(received_at, str):
            received_at = _time_text(received_at)
        status_value, blocked, status_name = statuses[status]
        answer = {"list": list_name, "list_id": list_id, "status": status_name, "reason": reason,
                  "reason_name": reason_name, "since": since[:23] + "Z", "received_at": received_at[:23] + "Z",
                  "prefix": entry if entry.endswith(PREFIX_MARK) else None}  # the times to the millisecond
        return Listing(entry, list_id, list_name, status_value, since, reason, reason_name, received_at, blocked,
                       answer)

    return make


NOT_LISTED: dict = {"blocked": False, "status": None, "since": None, "reason": None, "reason_name": None,
                    "received_at": None, "blocked_by": ()}  # a tuple: shared by every answer, so never changed


def verdict(phone: str, listings: list[Listing]) -> dict:
    """What check answers about one normalized number: the strongest entry's status, reason and
    dates (the highest status, then the earliest in it), and every entry that blocks it, strongest
    first, naming its list and, for a prefix, the prefix."""
    return _verdict({"phone": phone}, listings)


def _verdict(line: dict, listings: list[Listing]) -> dict:
    if not listings:
        line.update(NOT_LISTED)
        return line
    ordered = sorted(listings, key=Listing.strength) if len(listings) > 1 else listings
    strongest = ordered[0].answer
    line.update(blocked=ordered[0].blocked, status=strongest["status"], since=strongest["since"],
                reason=strongest["reason"], reason_name=strongest["reason_name"],
                received_at=strongest["received_at"],
                blocked_by=[listing.answer for listing in ordered if listing.blocked])
    return line


def scrub_json(inputs: Sequence[str | int], answers: list[tuple[str, str]], listings: dict[str, list[Listing]],
               registry: dict[str, dict] | None = None) -> str:
    """scrub's answer, `{"count", "blocked", "invalid", "results": [a line per input]}`: each line
    `{"input": as sent, "valid": true, "reason": null, "phone": …}` followed by verdict's other keys
    ("reason" keeps its place after "valid"), or for junk `{"input", "valid": false, **NOT_LISTED,
    "reason": why, "phone": null}`; given the national registry's answers (registry_lookup; a number
    missing from them is one it does not cover), every line as with_registry makes it. The same text
    json.dumps writes for those dictionaries (api/tests/test_scrub_json.py compares them), written
    from parts encoded once: each entry's item of `blocked_by` however many numbers it covers, and
    an unlisted number's keys; a 10,000 number scrub's 3.9 MB took 2–3× longer as dictionaries
    encoded line by line."""
    unlisted = json.dumps({key: value for key, value in NOT_LISTED.items()
                           if key not in ("reason", "blocked", "blocked_by")})[1:-1] + ', "blocked_by": ['
    parts: dict[int, tuple[str, str, str]] = {}  # id(listing): its reason, the keys after "blocked", its item
    registry_parts: dict[int, tuple[str, str]] = {}  # id(answer): its text, its item of blocked_by
    lines = []
    blocked = invalid = 0
    for raw, (phone, reason) in zip(inputs, answers, strict=True):
        if not phone:
            invalid += 1
            junk = {"input": raw, "valid": False, **NOT_LISTED, "reason": reason, "phone": None}
            lines.append(json.dumps(junk if registry is None else with_registry(junk, None)))
            continue
        sent = _json_text(raw) if type(raw) is str else json.dumps(raw)
        found = listings.get(phone)
        if not found:
            reason_text, after_blocked, items, is_blocked = "null", unlisted, [], False
        else:
            ordered = sorted(found, key=Listing.strength) if len(found) > 1 else found
            for listing in ordered:
                if id(listing) not in parts:
                    parts[id(listing)] = _json_parts(listing)
            reason_text, after_blocked, _ = parts[id(ordered[0])]
            items = [parts[id(listing)][2] for listing in ordered if listing.blocked]
            is_blocked = ordered[0].blocked
        end = "]}"
        if registry is not None:
            answer = registry.get(phone)
            if answer is None:
                end = '], "national_registry": null}'
            else:
                if id(answer) not in registry_parts:
                    registry_parts[id(answer)] = _registry_parts(answer)
                answer_text, item = registry_parts[id(answer)]
                end = f'], "national_registry": {answer_text}}}'
                if registry_blocks(answer):
                    is_blocked = True
                    items = [*items, item]
        blocked += is_blocked
        lines.append(f'{{"input": {sent}, "valid": true, "reason": {reason_text}, "phone": "{phone}",'
                     f' "blocked": {"true" if is_blocked else "false"}, {after_blocked}{", ".join(items)}{end}')
    return (f'{{"count": {len(lines)}, "blocked": {blocked}, "invalid": {invalid}, "results": ['
            + ", ".join(lines) + "]}")


_json_text = json.encoder.encode_basestring_ascii  # json.dumps's own (C) string writer


def _json_parts(listing: Listing) -> tuple[str, str, str]:
    """A listing's text in scrub's answer (scrub_json): its reason, the keys after "blocked" up to
    `"blocked_by": [` when it is a number's strongest entry, and its item of `blocked_by` (its
    `answer`, key for key). Names go through json.dumps's string writer; the rest (status names,
    times, numbers, prefixes) are digits, letters and punctuation that JSON writes as they are."""
    answer = listing.answer
    status, since, received_at = answer["status"], answer["since"], answer["received_at"]
    reason, reason_name = _json_text(listing.reason), _json_text(listing.reason_name)  # NOT NULL columns
    prefix = f'"{listing.entry}"' if listing.entry.endswith(PREFIX_MARK) else "null"
    return (reason,
            f'"status": "{status}", "since": "{since}",'
            f' "reason_name": {reason_name}, "received_at": "{received_at}", "blocked_by": [',
            f'{{"list": {_json_text(listing.list_name)}, "list_id": {listing.list_id}, "status": "{status}",'
            f' "reason": {reason}, "reason_name": {reason_name}, "since": "{since}", "received_at": "{received_at}",'
            f' "prefix": {prefix}}}')


def _registry_parts(answer: dict) -> tuple[str, str]:
    """The registry's answer on a number as scrub writes it (`national_registry`), and its item of
    `blocked_by`, as with_registry makes them."""
    return json.dumps(answer), json.dumps({"source": REGISTRY_SOURCE, "data_date": answer["data_date"]})


def _time_text(value: datetime) -> str:
    """A time as PostgreSQL's _LISTING_COLUMNS write it: UTC, to the microsecond, no zone."""
    return _aware(value).replace(tzinfo=None).isoformat(timespec="microseconds")  # type: ignore[union-attr]


def _aware(value: datetime | None) -> datetime | None:
    """In UTC: plain SQL on SQLite gives naive datetimes (Django stores UTC there), on PostgreSQL
    aware ones in the connection's time zone (UTC for Django's connections)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
