"""The dialer's API under /api/v1/ (JSON; an API key, no login session, no CSRF token), and the
API page where admins make and revoke keys."""

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from audit.events import Source
from audit.models import Event
from blacklist import csv_files, phone_cache
from blacklist import services as blacklist_services
from blacklist.models import Status
from blacklist.phones import MAX_INPUT_LENGTH

from . import services
from .forms import ApiKeyForm
from .models import ApiKey
from .openapi import OPENAPI
from .services import MAX_NUMBERS

SCOPE_VERBS = {"check": "check or scrub numbers (scope “check”)", "add": "add numbers (scope “add”)"}
JSON_TYPES = {type(None): "null", bool: "true or false", float: "a number with a fraction or exponent", list: "a list",
              dict: "an object"}


class BadBody(Exception):
    """A request body the API cannot read; `status` is 400, or 415 for another content type."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


BUSY_RETRY_AFTER = 1  # seconds; a race lasts as long as the other request's transaction


def api_view(methods: list[str], scope: str | None = None):
    """What every API endpoint accepts: these methods (GET brings HEAD; OPTIONS says which, others
    get a JSON 405), no session and no CSRF token, and, given a scope, an active API key holding it
    (see _refusal). A body or query it cannot read (BadBody) is a JSON 400/415; a change the
    database kept failing for others changing the same numbers (Busy) a JSON 503."""
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
            except blacklist_services.Busy:
                return _error(503, "Other changes to the same numbers kept this request from going through."
                                   " Nothing was added: send it again.",
                              headers={"Retry-After": str(BUSY_RETRY_AFTER)})

        return csrf_exempt(login_not_required(wrapper))

    return decorate


def json_response(data, status: int = 200, headers=None) -> JsonResponse:
    """Every API answer: strict JSON (json.dumps would write NaN or Infinity, which no JSON parser reads)."""
    return JsonResponse(data, status=status, headers=headers, json_dumps_params={"allow_nan": False})


def _refusal(request, scope: str, phone: str | None = None) -> JsonResponse | None:
    """401 for no key or a bad one, 403 for a key without `scope`; None lets the request in, with
    `request.api_key` set, and `request.listing` the blacklist row of `phone` (read in the same query)."""
    try:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")  # not request.headers: it copies them all
        request.api_key, request.listing = services.authenticate(authorization, phone)
    except services.KeyRefused as refused:
        return _error(401, str(refused), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if not request.api_key.allows(scope):
        lost = f"can_{scope}" in request.api_key.withheld  # the key has the scope; its creator lost the right
        return _error(403, f"This API key may not {SCOPE_VERBS[scope]}"
                           + (": the user who made it no longer may." if lost else "."))
    return None


def _error(status: int, message: str, headers=None, **details) -> JsonResponse:
    return json_response({"error": message, **details}, status=status, headers=headers)


def _numbers_in_body(request) -> list:
    """A scrub or add request's numbers: a JSON list of strings and integers, or a CSV body's first
    column (a first row without digits is a header), at most MAX_NUMBERS. Anything else raises BadBody."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadBody(f"The body is too large: send at most {MAX_NUMBERS:,} numbers a request.") from None
    if request.content_type == "application/json":
        numbers: list[str | int] | list[str] = _json_list(body)
    elif request.content_type == "text/csv":
        numbers = _csv_column(body)
    else:
        raise BadBody("Send a JSON list (Content-Type: application/json) or one number a line (text/csv).", 415)
    if len(numbers) > MAX_NUMBERS:
        raise BadBody(f"{len(numbers):,} numbers sent; at most {MAX_NUMBERS:,} a request.")
    return numbers


def _json_list(body: bytes) -> list[str | int]:
    """A flat list of strings and integers, the only items the document allows: nothing nested is
    echoed back (so no answer can be too deep to write) and no float (NaN, 1e999) reaches one."""
    try:
        numbers = json.loads(body, parse_constant=_not_json, parse_int=_json_int)
    except (ValueError, RecursionError):  # bad JSON or bad UTF-8 (both ValueErrors), absurd nesting
        raise BadBody("The body is not valid JSON.") from None
    if not isinstance(numbers, list):
        raise BadBody('Send a JSON list of phone numbers, e.g. ["+14155550123", "(212) 555-1234"].')
    for index, item in enumerate(numbers):
        if type(item) not in (str, int):
            what = JSON_TYPES[type(item)]
            raise BadBody(f"Item {index + 1} is {what}: send each number as a string (or an integer).")
    return numbers


def _not_json(constant: str):
    raise BadBody(f"The body is not valid JSON: {constant} is no JSON value.")


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INPUT_LENGTH:  # also keeps int() off a million-digit number
        raise BadBody(f"The body holds an integer of {len(digits):,} digits: no phone number is that long.")
    return int(digits)


def _csv_column(body: bytes) -> list[str]:
    """A text/csv body's numbers, read and checked by the upload's CSV reader."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadBody("The CSV body is not UTF-8 text.") from None
    try:
        csv_files.check_text(text)
        return csv_files.first_column(text)
    except csv_files.BadFile as bad:
        raise BadBody(f"CSV body refused. {bad.message}") from None


def _normalized(raw: str | int) -> tuple[str | None, str | None]:
    """(E.164, None) for a phone number, (None, the reason) for anything else: normalize_phone's
    answers, through the per-process cache of validated prefixes that uploads use too."""
    if isinstance(raw, int) and raw < 0:
        return None, "a negative number"  # str() would read the minus sign as a dash
    phone, reason = phone_cache.normalized(str(raw))
    return phone or None, reason or None


def _scrub_result(raw, phone: str | None, reason: str | None, listings: dict) -> dict:
    """One scrub line: every line has the same keys, junk included."""
    if phone is None:
        return {"input": raw, "valid": False, "reason": reason, "phone": None, "blocked": False, "status": None,
                "since": None}
    return {"input": raw, "valid": True, "reason": None, **services.verdict(phone, listings.get(phone))}


# ---- The API ---------------------------------------------------------------------------------


@api_view(["GET"])  # the key is checked below, in the same query that looks the number up
def check(request):
    try:
        raw = request.GET.get("phone")
    except TooManyFieldsSent:  # over DATA_UPLOAD_MAX_NUMBER_FIELDS: Django will not read the query at all
        return _refusal(request, "check") or _error(400, "The query has too many parameters: send ?phone=… alone.")
    phone, reason = _normalized(raw) if raw is not None else (None, None)
    if refused := _refusal(request, "check", phone):
        return refused
    if raw is None:
        return _error(400, "Name the number to check: ?phone=… (any written form, URL-encoded: + is %2B).")
    if reason:
        return _error(400, f"Not checked: {reason}.", reason=reason)
    return json_response(services.verdict(phone, request.listing))  # type: ignore[arg-type]  # no reason: a number


@api_view(["POST"], scope="check")
def scrub(request):
    inputs = _numbers_in_body(request)
    normalized = [_normalized(raw) for raw in inputs]
    listings = services.lookup({phone for phone, _ in normalized if phone})
    results = [_scrub_result(raw, phone, reason, listings)
               for raw, (phone, reason) in zip(inputs, normalized, strict=True)]
    return json_response({
        "count": len(results),
        "blocked": sum(result["blocked"] for result in results),
        "invalid": sum(not result["valid"] for result in results),
        "results": results,
    })


@api_view(["POST"], scope="add")
def add_numbers(request):
    inputs = _numbers_in_body(request)
    normalized = [_normalized(raw) for raw in inputs]
    phones = [phone for phone, _ in normalized if phone]
    status = Status.APPROVED if request.api_key.can_approve else Status.REVIEW
    source = Source(Event.Via.API, api_key=request.api_key)  # the key is the events' actor
    outcome = blacklist_services.add_numbers(phones, status, user=request.api_key.created_by, source=source)
    rejected = [{"input": raw, "reason": reason}
                for raw, (phone, reason) in zip(inputs, normalized, strict=True) if not phone]
    return json_response({
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


# ---- The API page ----------------------------------------------------------------------------


def _page_context(request, form, secret="$DNC_API_KEY") -> dict:  # noqa: S107 — a placeholder shown in the example
    return {
        "keys": ApiKey.objects.select_related("created_by", "revoked_by"),
        "form": form,
        "secret": secret,
        "check_url": request.build_absolute_uri(reverse("api:check")),
        "scrub_url": request.build_absolute_uri(reverse("api:scrub")),
        "add_url": request.build_absolute_uri(reverse("api:add_numbers")),
        "openapi_url": request.build_absolute_uri(reverse("api:openapi")),
    }


@require_GET
@permission_required("api.view_apikey", raise_exception=True)
def keys(request):
    return render(request, "api/keys.html", _page_context(request, ApiKeyForm()))


@require_POST
@never_cache  # the new key is on this response only
@permission_required("api.add_apikey", raise_exception=True)
def create_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return render(request, "api/keys.html", _page_context(request, form), status=400)
    key, secret = services.create_key(**form.key_options(), user=request.user)
    return render(request, "api/key_created.html", {**_page_context(request, form, secret), "key": key})


@require_POST
@permission_required("api.change_apikey", raise_exception=True)
def revoke_key(request, pk):
    key = get_object_or_404(ApiKey, pk=pk)
    if services.revoke(key, request.user):
        messages.success(request, f"Revoked the API key “{key.name}”: requests with it are now refused (401).")
    else:
        messages.info(request, f"The API key “{key.name}” was already revoked.")
    return redirect("api:keys")
