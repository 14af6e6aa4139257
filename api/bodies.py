"""Reading the numbers a scrub or add request sends: a JSON list, or a text/csv body read by the
upload's reader (blacklist/csv_files.py, the same row rules as uploaded files). What cannot be
read raises BadBody, which the endpoints answer as a JSON 400 (415 for another content type).
An add request's list may hold objects with a number's request details beside plain numbers:
entries_to_add checks each, with the web forms' own RequestDetailsForm."""

import json
from collections.abc import Sequence

from django.core.exceptions import RequestDataTooBig

from blacklist import csv_files
from blacklist.forms import DETAIL_FIELDS, RequestDetailsForm
from blacklist.models import Channel, Status
from blacklist.phones import MAX_INPUT_LENGTH, is_written_prefix, normalized
from blacklist.request_details import Entry, RequestDetails

from .services import MAX_NUMBERS

JSON_TYPES = {type(None): "null", bool: "true or false", float: "a number with a fraction or exponent", list: "a list",
              dict: "an object"}


class BadBody(Exception):
    """A request body the API cannot read; `status` is 400, or 415 for another content type."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


Item = str | int | dict
OBJECT_FIELDS = ("phone", *DETAIL_FIELDS)  # an add request's object: {"phone", "reason", …}
# The API adds whole numbers only: a prefix blocks a whole range, so a Manager adds it, where they see it.
PREFIX_REFUSED = "a prefix block: prefix blocks are added on the web page by a Manager"


def numbers_in_body(request) -> Sequence[str | int]:
    """A scrub request's numbers: a JSON list of strings and integers, or a CSV body's numbers,
    at most MAX_NUMBERS. Anything else raises BadBody."""
    return _items_in_body(request, objects=False)  # type: ignore[return-value]  # no objects read


def items_to_add_in_body(request) -> Sequence[Item]:
    """An add request's numbers: as numbers_in_body, and objects of a number with its details."""
    return _items_in_body(request, objects=True)


def _items_in_body(request, objects: bool) -> Sequence[Item]:
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadBody(f"The body is too large: send at most {MAX_NUMBERS:,} numbers a request.") from None
    if request.content_type == "application/json":
        numbers: Sequence[Item] = _json_list(body, objects)
    elif request.content_type == "text/csv":
        numbers = _csv_numbers(body)
    else:
        raise BadBody("Send a JSON list (Content-Type: application/json) or one number a line (text/csv).", 415)
    if len(numbers) > MAX_NUMBERS:
        raise BadBody(f"{len(numbers):,} numbers sent; at most {MAX_NUMBERS:,} a request.")
    return numbers


def _json_list(body: bytes, objects: bool) -> list[Item]:
    """A flat list of strings and integers (and objects of strings, integers and nulls), the only
    items the document allows: nothing deeper is echoed back (so no answer can be too deep to
    write) and no float (NaN, 1e999) reaches one."""
    try:
        numbers = json.loads(body, parse_constant=_not_json, parse_int=_json_int)
    except (ValueError, RecursionError):  # bad JSON or bad UTF-8 (both ValueErrors), absurd nesting
        raise BadBody("The body is not valid JSON.") from None
    if not isinstance(numbers, list):
        raise BadBody('Send a JSON list of phone numbers, e.g. ["+14155550123", "(212) 555-1234"].')
    for index, item in enumerate(numbers):
        if objects and type(item) is dict:
            _check_object(index + 1, item)
        elif type(item) not in (str, int):
            what = JSON_TYPES[type(item)]
            raise BadBody(f"Item {index + 1} is {what}: send each number as a string (or an integer).")
    return numbers


def _check_object(position: int, item: dict) -> None:
    """The shape of an add request's object (its content is checked per number: entries_to_add)."""
    if unknown := [key for key in item if key not in OBJECT_FIELDS]:
        raise BadBody(f"Item {position} has an unknown field “{unknown[0][:40]}”: the fields are"
                      f" {', '.join(OBJECT_FIELDS)}.")
    if type(item.get("phone")) not in (str, int):
        got = "no “phone”" if "phone" not in item else f"a “phone” that is {JSON_TYPES[type(item['phone'])]}"
        raise BadBody(f"Item {position} has {got}: give the number as a string (or an integer).")
    for name in DETAIL_FIELDS:
        if type(item.get(name)) not in (str, type(None)):
            value = item[name]
            what = "an integer" if type(value) is int else JSON_TYPES[type(value)]
            raise BadBody(f"Item {position}'s “{name}” is {what}: each detail is a string (or null).")


def entries_to_add(items: Sequence[Item], status: Status) -> tuple[list[Entry], list[dict]]:
    """An add request's items as Entries (plain numbers: the API's default details), and the
    rejected ones, each `{"input": the item as sent, "reason": why}`: a bad number or a bad detail
    rejects its item only. Details are checked by one form, once per distinct set."""
    form = RequestDetailsForm(channel=Channel.API, status=status)
    checked: dict[tuple, RequestDetails | list[str]] = {}
    entries, rejected = [], []
    for item in items:
        fields = item if isinstance(item, dict) else {"phone": item}
        if isinstance(fields["phone"], str) and is_written_prefix(fields["phone"]):
            phone, reason = "", PREFIX_REFUSED
        else:
            phone, reason = normalized(fields["phone"])  # _check_object: there is one
        problems = [reason] if reason else []
        details = None
        if isinstance(item, dict) and (given := tuple(fields.get(name) for name in DETAIL_FIELDS)) != (None,) * 5:
            if given not in checked:
                checked[given] = form.check(dict(zip(DETAIL_FIELDS, given, strict=True)))
            outcome = checked[given]
            if isinstance(outcome, RequestDetails):
                details = outcome
            else:
                problems.extend(outcome)
        if problems:
            rejected.append({"input": item, "reason": "; ".join(problems)})
        else:
            entries.append(Entry(phone, details))
    return entries, rejected


def _not_json(constant: str):
    raise BadBody(f"The body is not valid JSON: {constant} is no JSON value.")


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INPUT_LENGTH:  # also keeps int() off a million-digit number
        raise BadBody(f"The body holds an integer of {len(digits):,} digits: no phone number is that long.")
    return int(digits)


def _csv_numbers(body: bytes) -> list[str]:
    """A text/csv body's numbers, read and checked as an uploaded file's rows are."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadBody("The CSV body is not UTF-8 text.") from None
    try:
        return csv_files.read_text(text)
    except csv_files.BadFile as bad:
        raise BadBody(f"CSV body refused. {bad.message}") from None
