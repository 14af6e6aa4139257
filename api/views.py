"""The dialer's API under /api/v1/ (JSON; an API key, no login session, no CSRF token). Request
bodies are read in api/bodies.py; the API page, where keys are made, is api/key_views.py."""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from audit.events import Source
from audit.models import Event
from blacklist import services as blacklist_services
from blacklist.models import Channel, Status
from blacklist.phones import normalized
from blacklist.request_details import RequestDetails

from . import services
from .bodies import BadBody, entries_to_add, items_to_add_in_body, numbers_in_body
from .openapi import OPENAPI

SCOPE_VERBS = {"check": "check or scrub numbers (scope “check”)", "add": "add numbers (scope “add”)"}


API_DETAILS = RequestDetails(channel=Channel.API)  # a plain number's: Consumer request, received now
BUSY_RETRY_AFTER = 1  # seconds; a race lasts as long as the other request's transaction


def api_view(methods: list[str], scope: str | None = None):
    """What every API endpoint accepts: these methods (GET brings HEAD; OPTIONS says which, others
    get a JSON 405), no session and no CSRF token, and, given a scope, an active API key holding it
    (see _refusal). A body or query it cannot read (BadBody) is a JSON 400/415, lists it cannot
    use (ListsRefused) a JSON 400/403 naming them; a change the database kept failing for others
    changing the same numbers (Busy) a JSON 503."""
    allowed = [*methods, "HEAD"] if "GET" in methods else methods
    allow = ", ".join([*allowed, "OPTIONS"])

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "OPTIONS":
                return HttpResponse(status=204, headers={"Allow": allow})
            if request.method not in allowed:
                return json_response({"error": f"{request.method} is not allowed here; use {' or '.join(methods)}."},
                                     status=405, headers={"Allow": allow})
            if scope and (refused := _refusal(request, scope)):
                return refused
            try:
                return view(request, *args, **kwargs)
            except BadBody as bad:
                return _error(bad.status, str(bad))
            except services.ListsRefused as refused:
                return _error(refused.status, str(refused), lists=refused.lists)
            except blacklist_services.ArchivedList as archived:  # archived since the view looked
                return _error(400, f"{archived} Nothing was added.")
            except blacklist_services.Busy:
                return _error(503, "Other changes to the same numbers kept this request from going through."
                                   " Nothing was added: send it again.",
                              headers={"Retry-After": str(BUSY_RETRY_AFTER)})

        return csrf_exempt(login_not_required(wrapper))

    return decorate


def json_response(data, status: int = 200, headers=None) -> JsonResponse:
    """Every API answer: strict JSON (json.dumps would write NaN or Infinity, which no JSON parser reads)."""
    return JsonResponse(data, status=status, headers=headers, json_dumps_params={"allow_nan": False})


def _refusal(request, scope: str, phone: str | None = None, name_lists: bool = False,
             registry_number: int | None = None) -> JsonResponse | None:
    """401 for no key or a bad one, 403 for a key without `scope`; None lets the request in, with
    `request.api_key` set, and `request.listings` the entries listing `phone` or its prefixes,
    `request.known_lists` every list's (id, name) if `name_lists`, and `request.registry` the
    national registry's answer on `registry_number` if given (all read in the same query)."""
    try:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")  # not request.headers: it copies them all
        request.api_key, request.listings, request.known_lists, request.registry = services.authenticate(
            authorization, phone, name_lists, registry_number)
    except services.KeyRefused as refused:
        return _error(401, str(refused), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if not request.api_key.allows(scope):
        lost = f"can_{scope}" in request.api_key.withheld  # the key has the scope; its creator lost the right
        return _error(403, f"This API key may not {SCOPE_VERBS[scope]}"
                           + (": the user who made it no longer may." if lost else "."))
    return None


def _error(status: int, message: str, headers=None, **details) -> JsonResponse:
    return json_response({"error": message, **details}, status=status, headers=headers)


def _query_parameter(request, name: str) -> str | None:
    try:
        return request.GET.get(name)
    except TooManyFieldsSent:  # over DATA_UPLOAD_MAX_NUMBER_FIELDS: Django will not read the query at all
        raise BadBody(f"The query has too many parameters: send ?{name}=… alone.") from None


REGISTRY_VALUES = {None: False, "0": False, "1": True}  # ?registry=: absent or 0, our lists only; 1, the registry too


def _asks_registry(raw: str | None) -> bool:
    """Whether a call asks the national registry too (`registry=1`); any other value than 0 or 1: BadBody (400)."""
    if raw not in REGISTRY_VALUES:
        raise BadBody("registry= takes 1 (answer from the national Do-Not-Call registry too) or 0 (our lists only).")
    return REGISTRY_VALUES[raw]


@api_view(["GET"])  # the key is checked below, in the same query that looks the number up
def check(request):
    try:
        raw = request.GET.get("phone")
        tokens = services.list_tokens(request.GET.get("lists"))
        registry = request.GET.get("registry")
    except TooManyFieldsSent:  # over DATA_UPLOAD_MAX_NUMBER_FIELDS: Django will not read the query at all
        return _refusal(request, "check") or _error(400, "The query has too many parameters: send ?phone=… alone.")
    phone, reason = normalized(raw) if raw is not None else ("", "")
    asks_registry = REGISTRY_VALUES.get(registry, False)  # a bad value: refused below, once the key is known
    registry_number = services.registry_number(phone) if asks_registry and phone else None
    if refused := _refusal(request, "check", phone or None, name_lists=bool(tokens), registry_number=registry_number):
        return refused
    if raw is None:
        return _error(400, "Name the number to check: ?phone=… (any written form, URL-encoded: + is %2B).")
    if reason:
        return _error(400, f"Not checked: {reason}.", reason=reason)
    _asks_registry(registry)
    list_ids = services.choose_lists(request.api_key, tokens, request.known_lists)
    answer = services.verdict(phone, services.only_lists(request.listings, list_ids))
    return json_response(services.with_registry(answer, request.registry) if asks_registry else answer)


@api_view(["POST"], scope="check")
def scrub(request):
    tokens = services.list_tokens(_query_parameter(request, "lists"))
    asks_registry = _asks_registry(_query_parameter(request, "registry"))
    list_ids = services.choose_lists(request.api_key, tokens, services.known_lists() if tokens else [])
    inputs = numbers_in_body(request)
    answers = [normalized(raw) for raw in inputs]
    phones = {phone for phone, _ in answers if phone}
    listings = services.lookup(phones, list_ids)
    registry = services.registry_lookup(phones) if asks_registry else None
    return HttpResponse(services.scrub_json(inputs, answers, listings, registry), content_type="application/json")


@api_view(["POST"], scope="add")
def add_numbers(request):
    dnc_list = services.list_to_add_into(request.api_key, _query_parameter(request, "list"))
    if dnc_list.is_archived:
        return _error(400, f"{blacklist_services.ArchivedList(dnc_list)} Nothing was added.", lists=[dnc_list.name])
    inputs = items_to_add_in_body(request)
    status = Status.APPROVED if request.api_key.can_approve else Status.REVIEW
    entries, rejected = entries_to_add(inputs, status)
    phones = [entry.phone for entry in entries]
    source = Source(Event.Via.API, api_key=request.api_key)  # the key is the events' actor
    outcome = blacklist_services.add_numbers(entries, status, user=request.api_key.created_by, source=source,
                                             details=API_DETAILS, dnc_list=dnc_list)
    return json_response({
        "list": dnc_list.name,
        "list_id": dnc_list.pk,
        "status": services.STATUS_NAMES[status],
        "received": len(inputs),
        "new": outcome.new,
        "raised": outcome.raised,
        "unchanged": outcome.unchanged,
        "duplicates": len(phones) - len(set(phones)),
        "invalid": len(rejected),
        "rejected": rejected,
    })


@api_view(["GET"])
def openapi(request):
    return json_response(OPENAPI)


@csrf_exempt
@login_not_required
def not_found(request):
    """Any other path under /api/v1/: the API's JSON 404, never an HTML page."""
    return _error(404, f"No such API call: {request.path}. The calls are listed at {reverse('api:openapi')}.")
