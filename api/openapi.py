"""The OpenAPI 3.1 document served at /api/v1/openapi.json, written by hand. The tests check
every response the API gives them against it (api/tests/test_openapi.py)."""

from blacklist.models import Channel
from blacklist.phones import E164

from .services import MAX_NUMBERS

_STATUS = {
    "type": ["string", "null"],
    "enum": ["review", "approved", "permanent", None],
    "description": "The number's status on the blacklist; null when it is not listed.",
}
_SINCE = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "When the number took its current status (UTC); null when it is not listed.",
}
_REASON = {
    "type": ["string", "null"],
    "description": "Why the number is listed: its reason's slug (e.g. `consumer_request`, kept when a Manager renames"
    " the reason); null when it is not listed.",
}
_REASON_NAME = {
    "type": ["string", "null"],
    "description": "The reason's name as shown in the web app (e.g. `Consumer request`); null when it is not listed.",
}
_RECEIVED_AT = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "When the (earliest) request to list it arrived (UTC); null when it is not listed.",
}
_DATE_OR_TIME = "ISO 8601: a date (`2026-11-20`, midnight in the server's TIME_ZONE) or a date and time" \
    " (`2026-11-20T14:30:00Z`; without an offset, in the server's TIME_ZONE)"
_NUMBER_OBJECT = {
    "type": "object",
    "required": ["phone"],
    "additionalProperties": False,
    "description": "A number with the details of the request to list it (docs/compliance.md). Every field but"
    " `phone` may be left out or null: reason Consumer request, channel `api`, received now. A detail that is"
    " not a string (or null), an unknown field or no `phone` refuses the request (400); a detail whose content"
    " is wrong (an unknown reason, a date in the future, a note over 500 characters…) rejects this number only"
    " (listed in `rejected`, with why).",
    "properties": {
        "phone": {"type": ["string", "integer"], "description": "Any written form."},
        "reason": {"type": ["string", "null"], "description": "A reason's slug (`wrong_number`) or name, any case"
                   " (`Wrong number`)."},
        "channel": {"type": ["string", "null"], "description": "How the request came: "
                    + ", ".join(f"`{value}`" for value in Channel.values) + "; default `api`. A label (`Phone call`),"
                    " any case, is taken too."},
        "received_at": {"type": ["string", "null"], "description": f"When the request arrived, {_DATE_OR_TIME};"
                        " never in the future; default now."},
        "note": {"type": ["string", "null"], "description": "Free text, up to 500 characters."},
        "expires_at": {"type": ["string", "null"], "description": f"When it stops blocking, {_DATE_OR_TIME}; in"
                       " the future; only for a reason that may expire (e.g. `wrong_number`), never before the"
                       " retention of a retained reason."},
    },
}
_BLOCKED = {
    "type": "boolean",
    "description": "Whether the dialer must not call it: approved and permanently approved numbers always; numbers"
    " for review too unless the server runs with BLOCK_NUMBERS_UNDER_REVIEW=0; with `registry=1`, numbers the"
    " national registry lists too unless the server runs with REGISTRY_BLOCKS=0.",
}
_LIST_ENTRY = {
    "type": "object",
    "required": ["list", "list_id", "status", "reason", "reason_name", "since", "received_at", "prefix"],
    "additionalProperties": False,
    "description": "An entry of one of our lists.",
    "properties": {
        "list": {"type": "string", "description": "The list's name, e.g. `Internal` or `Client: Acme`."},
        "list_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["review", "approved", "permanent"]},
        "reason": {"type": "string", "description": "The entry's reason's slug."},
        "reason_name": {"type": "string"},
        "since": {"type": "string", "format": "date-time"},
        "received_at": {"type": "string", "format": "date-time"},
        "prefix": {"type": ["string", "null"], "description": "The prefix entry that blocks it (`+1201*`); null"
                   " when the number itself is listed."},
    },
}
_REGISTRY_ENTRY = {
    "type": "object",
    "required": ["source", "data_date"],
    "additionalProperties": False,
    "description": "With `registry=1` and REGISTRY_BLOCKS on: the national registry lists the number.",
    "properties": {
        "source": {"const": "national_registry"},
        "data_date": {"type": "string", "format": "date", "description": "The date of its area code's data."},
    },
}
_NATIONAL_REGISTRY = {
    "oneOf": [
        {
            "type": "object",
            "required": ["listed", "data_date", "area_code_loaded"],
            "additionalProperties": False,
            "properties": {
                "listed": {"type": "boolean", "description": "Whether the registry lists the number, as of"
                           " `data_date`. False too when its area code was never loaded: see `area_code_loaded`."},
                "data_date": {"type": ["string", "null"], "format": "date", "description": "The date of the"
                              " registry's data for the number's area code (stale after REGISTRY_STALE_DAYS); null"
                              " when the area code was never loaded."},
                "area_code_loaded": {"type": "boolean", "description": "False: the registry's list of this area"
                                     " code was never loaded here, so `listed: false` says nothing."},
            },
        },
        {"type": "null", "description": "Not a number the registry covers: it holds US (and US territory) area"
                                        " codes only; other countries, Canada and the Caribbean get null."},
    ],
    "description": "Only with `registry=1`: the national Do-Not-Call registry's answer on the number, beside our"
    " lists' (docs/registry.md). Invalid inputs of a scrub get null.",
}


_BLOCKED_BY = {
    "type": "array",
    "description": "Every entry that blocks the number on the lists looked at (`lists=`, else every list the key may"
    " use; archived lists too), strongest first: the number itself or a prefix covering it, on one list each; then,"
    " with `registry=1`, the national registry's item (`source: national_registry`) if it lists the number and"
    " blocks. Empty when it is not blocked. The top-level status, since, reason and received_at are the strongest"
    " entry's of our lists (the highest status, then the earliest in it), a for-review entry's too when review does"
    " not block; null when only the registry lists it.",
    "items": {"oneOf": [_LIST_ENTRY, _REGISTRY_ENTRY]},
}
_LISTS_PARAMETER = {
    "name": "lists",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Look at these lists only: names (any case) or ids, comma-separated, e.g. `Internal,Client: Acme`"
    " or `1,7`. Default: every list the key may use. An unknown one: 400; one outside a limited key's lists: 403;"
    " both name them in `lists`.",
    "example": "Internal",
}
_REGISTRY_PARAMETER = {
    "name": "registry",
    "in": "query",
    "required": False,
    # An enum without "type" (both strings): given a "type", schemathesis's negative phase also sends
    # other types, describing a filter lambda with ast.parse from its two threads at once, which
    # CPython 3.11 sometimes fails ("AST constructor recursion depth mismatch"): with this parameter
    # typed, test_schemathesis failed 1 run in 2 on that error, untyped 0 in 5.
    "schema": {"enum": ["0", "1"]},
    "description": "`1`: answer from the national Do-Not-Call registry too (`national_registry`; a number it lists"
    " is blocked unless the server runs with REGISTRY_BLOCKS=0). Default `0`: our lists only, the answer as"
    " before. Any other value: 400.",
}


def _error_response(description: str) -> dict:
    return {"description": description, "content": _json("#/components/schemas/Error")}


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": schema_ref}}}


def _numbers_body(what: str, objects: bool = False) -> dict:
    if objects:
        items: dict = {"oneOf": [{"type": "string"}, {"type": "integer"}, {"$ref": "#/components/schemas/NumberToAdd"}]}
        described = ("Strings (any written form), integers, or objects with a number's request details. Any other"
                     " item (null, true, 4.15E9, a list), or an object field that is a list, an object, true or a"
                     " fraction, refuses the request: 400.")
        example: list = ["+14155550123", {"phone": "(212) 555-1234", "reason": "consent_revoked", "channel": "sms",
                                          "received_at": "2026-11-20T14:30:00Z", "note": "Replied STOP"}, "12345"]
    else:
        items = {"type": ["string", "integer"]}
        described = "Strings (any written form) or integers. Any other item (null, true, 4.15E9, a list, an object)" \
            " refuses the request: 400."
        example = ["+14155550123", "(212) 555-1234", "12345"]
    return {
        "required": True,
        "description": f"Up to {MAX_NUMBERS:,} numbers to {what}, in any written form.",
        "content": {
            "application/json": {
                "schema": {"type": "array", "maxItems": MAX_NUMBERS, "items": items, "description": described},
                "example": example,
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "UTF-8; the first column, one number a row; a first row without digits is a"
                    " header. Read like an uploaded file: a quote never closed, a control character (NUL…), JSON,"
                    " or no number at all refuses the request (400, naming the line).",
                },
                "example": "phone\n+14155550123\n(212) 555-1234\n",
            },
        },
    }


_REFUSALS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "405": {"$ref": "#/components/responses/MethodNotAllowed"},
}
_BODY_REFUSALS = {
    "400": _error_response(
        f"Bad body: not JSON (NaN and Infinity are not JSON), not a list, an item neither a string nor an integer"
        f" (adding: nor an object of the right shape), more than {MAX_NUMBERS:,} numbers, not UTF-8, too large, or CSV"
        " that cannot be read (the error names the line). Or an unknown list (scrub: `lists=`; adding: `list=`, or an"
        " archived one), named in `lists`. Or (scrub) `registry=` neither 0 nor 1."
    ),
    **_REFUSALS,
    "415": _error_response("The body is neither application/json nor text/csv."),
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "DNC blacklist API",
        "version": "1",
        "description": (
            "What a dialer asks right before it dials: is this number on the Do-Not-Call blacklist? Numbers may be"
            " written in any common form; without a country code they are read in the server's DEFAULT_PHONE_REGION."
            " An extension (`ext 5`, `ext. 5`, `x5`, `#5`, `,5`, `;ext=5`) is accepted and dropped: what is checked,"
            " blocked or added is the line. Answers give the number in E.164. Answers are always JSON, errors"
            " included (an unknown path: 404; another method: 405 with an Allow header). Authenticate with an API"
            " key made on the web app's API page, sent as"
            " `Authorization: Bearer <key>`."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"apiKey": []}],
    "paths": {
        "/api/v1/blacklist/check": {
            "get": {
                "operationId": "check",
                "summary": "Is one number blocked?",
                "description": "Scope `check`. Always read from the database: a number removed in the web app is"
                " no longer blocked from the next call on. HEAD answers the same status and headers, without a body.",
                "parameters": [
                    {
                        "name": "phone",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1},
                        "description": "Any written form, URL-encoded (a + is %2B); an extension is dropped.",
                        "example": "+14155550123",
                    },
                    _LISTS_PARAMETER,
                    _REGISTRY_PARAMETER,
                ],
                "responses": {
                    "200": {
                        "description": "The verdict.",
                        "content": _json("#/components/schemas/Verdict"),
                    },
                    "400": _error_response(
                        "No phone parameter (or a query of over 1,000 parameters), or not a phone number: empty, too"
                        " short, letters… (`reason` says why); or an unknown list in `lists=` (named in `lists`);"
                        " or `registry=` neither 0 nor 1."
                    ),
                    **_REFUSALS,
                },
            }
        },
        "/api/v1/blacklist/scrub": {
            "post": {
                "operationId": "scrub",
                "summary": "Check a list of numbers at once.",
                "description": "Scope `check`. One result per input, in input order. Junk inputs get `valid: false`"
                " and a `reason`; they do not fail the request. One lookup for the whole batch: every number and"
                " each prefix that could cover it.",
                "parameters": [_LISTS_PARAMETER, _REGISTRY_PARAMETER],
                "requestBody": _numbers_body("check"),
                "responses": {
                    "200": {
                        "description": "One result per input.",
                        "content": _json("#/components/schemas/ScrubResult"),
                    },
                    **_BODY_REFUSALS,
                },
            }
        },
        "/api/v1/blacklist/numbers": {
            "post": {
                "operationId": "addNumbers",
                "summary": "Add numbers to the blacklist (the dialer's own do-not-call requests).",
                "description": "Scope `add`. Numbers are added for review, or approved when the key may approve."
                " A number already listed is never lowered, only raised; an earlier `received_at` replaces a later"
                " one. Each number may come with the details of its request (an object); a plain number is a"
                " Consumer request received now through the API. Junk inputs and objects with a bad detail are"
                " listed in `rejected`, with why; the valid ones are added. received = new + raised + unchanged +"
                " duplicates + invalid. Into one list, `list=` (default Internal). Whole numbers only: a prefix"
                " block (`+1201*`, `201XXXXXXX`) is rejected with why, as Managers add those on the web page.",
                "parameters": [{
                    "name": "list",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The list to add into: its name (any case) or id. Default: Internal; for a key"
                    " limited to lists without Internal, its one list (with several, name one: 400). Unknown or"
                    " archived: 400; outside a limited key's lists: 403. Nothing is added then.",
                    "example": "Internal",  # always there: the examples (and fuzzers using them) add
                }],
                "requestBody": _numbers_body("add", objects=True),
                "responses": {
                    "200": {
                        "description": "What was done.",
                        "content": _json("#/components/schemas/AddResult"),
                    },
                    **_BODY_REFUSALS,
                    "503": {
                        **_error_response(
                            "Other changes to the same numbers at the same moment kept this one from going through"
                            " (after several tries on the server). Nothing was added: send the same request again"
                            " after Retry-After seconds. Adding is idempotent, so a repeat is always safe."
                        ),
                        "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}},
                    },
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": [],
                "responses": {
                    "200": {"description": "This OpenAPI 3.1 document.", "content": {"application/json": {}}},
                    "405": {"$ref": "#/components/responses/MethodNotAllowed"},
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key from the web app's API page."}
        },
        "responses": {
            "Unauthorized": {
                **_error_response("No API key, or an unknown, revoked or expired one."),
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
            },
            "Forbidden": _error_response("The key lacks the scope this call needs, or is limited to some lists and"
                                         " the call names others (named in `lists`)."),
            "MethodNotAllowed": {
                **_error_response("Another method than this call's (checked before the key)."),
                "headers": {
                    "Allow": {"schema": {"type": "string"}, "required": True, "description": "e.g. `POST, OPTIONS`"}
                },
            },
        },
        "schemas": {
            "Verdict": {
                "type": "object",
                "required": ["phone", "blocked", "status", "since", "reason", "reason_name", "received_at",
                             "blocked_by"],
                "additionalProperties": False,
                "description": "A number is blocked when it, or a prefix covering it, is on one of the lists looked at"
                " at a blocking status. An entry whose expiry has passed is not listed any more.",
                "properties": {
                    "phone": {"type": "string", "pattern": E164.pattern, "description": "E.164"},
                    "blocked": _BLOCKED,
                    "status": _STATUS,
                    "since": _SINCE,
                    "reason": _REASON,
                    "reason_name": _REASON_NAME,
                    "received_at": _RECEIVED_AT,
                    "blocked_by": _BLOCKED_BY,
                    "national_registry": _NATIONAL_REGISTRY,
                },
                "example": {
                    "phone": "+14155550123", "blocked": True, "status": "approved", "since": "2026-01-05T10:00:00.000Z",
                    "reason": "consumer_request", "reason_name": "Consumer request",
                    "received_at": "2026-01-02T15:20:00.000Z",
                    "blocked_by": [
                        {"list": "Internal", "list_id": 1, "status": "approved", "reason": "consumer_request",
                         "reason_name": "Consumer request", "since": "2026-01-05T10:00:00.000Z",
                         "received_at": "2026-01-02T15:20:00.000Z", "prefix": None},
                        {"list": "Client: Acme", "list_id": 7, "status": "review", "reason": "consumer_request",
                         "reason_name": "Consumer request", "since": "2026-02-01T09:00:00.000Z",
                         "received_at": "2026-02-01T09:00:00.000Z", "prefix": "+1415*"},
                    ],
                },
            },
            "ScrubLine": {
                "type": "object",
                "required": ["input", "valid", "reason", "phone", "blocked", "status", "since", "reason_name",
                             "received_at", "blocked_by"],
                "additionalProperties": False,
                "properties": {
                    "input": {"description": "The input as sent."},
                    "valid": {"type": "boolean"},
                    "reason": {"type": ["string", "null"], "description": "Invalid: why it is no phone number. Valid:"
                               " why it is listed, its reason's slug (as in check); null when not listed."},
                    "phone": {"type": ["string", "null"], "pattern": E164.pattern, "description": "E.164"},
                    "blocked": _BLOCKED,
                    "status": _STATUS,
                    "since": _SINCE,
                    "reason_name": _REASON_NAME,
                    "received_at": _RECEIVED_AT,
                    "blocked_by": _BLOCKED_BY,
                    "national_registry": _NATIONAL_REGISTRY,
                },
            },
            "ScrubResult": {
                "type": "object",
                "required": ["count", "blocked", "invalid", "results"],
                "additionalProperties": False,
                "properties": {
                    "count": {"type": "integer", "minimum": 0},
                    "blocked": {"type": "integer", "minimum": 0},
                    "invalid": {"type": "integer", "minimum": 0},
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/ScrubLine"}},
                },
            },
            "AddResult": {
                "type": "object",
                "required": ["list", "list_id", "status", "received", "new", "raised", "unchanged", "duplicates",
                             "invalid", "rejected"],
                "additionalProperties": False,
                "properties": {
                    "list": {"type": "string", "description": "The list added into."},
                    "list_id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["review", "approved"], "description": "The status given."},
                    "received": {"type": "integer", "minimum": 0},
                    "new": {"type": "integer", "minimum": 0, "description": "Added to the blacklist."},
                    "raised": {"type": "integer", "minimum": 0, "description": "Already listed lower; raised."},
                    "unchanged": {"type": "integer", "minimum": 0, "description": "Listed this high or higher."},
                    "duplicates": {"type": "integer", "minimum": 0, "description": "Repeats within this request."},
                    "invalid": {"type": "integer", "minimum": 0},
                    "rejected": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["input", "reason"],
                            "additionalProperties": False,
                            "properties": {
                                "input": {"description": "The item as sent: a string, an integer or an object."},
                                "reason": {"type": "string", "description": "Why: `too short`, or each bad detail"
                                           " of an object (`Unknown reason “x”: use one of …`), joined by `; `."},
                            },
                        },
                    },
                },
            },
            "NumberToAdd": _NUMBER_OBJECT,
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {
                    "error": {"type": "string", "description": "What went wrong, for people."},
                    "reason": {"type": "string", "description": "Why it is not a phone number, e.g. `too short`."},
                    "lists": {"type": "array", "items": {"type": "string"},
                              "description": "The lists refused, as sent (unknown, archived, or outside the key's)."},
                },
            },
        },
    },
}
