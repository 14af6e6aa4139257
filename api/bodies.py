"""Reading the numbers a scrub or add request sends: a JSON list, or a text/csv body read by the
upload's reader (blacklist/csv_files.py, the same row rules as uploaded files). What cannot be
read raises BadBody, which the endpoints answer as a JSON 400 (415 for another content type)."""

import json
from collections.abc import Sequence

from django.core.exceptions import RequestDataTooBig

from blacklist import csv_files
from blacklist.phones import MAX_INPUT_LENGTH

from .services import MAX_NUMBERS

JSON_TYPES = {type(None): "null", bool: "true or false", float: "a number with a fraction or exponent", list: "a list",
              dict: "an object"}


class BadBody(Exception):
    """A request body the API cannot read; `status` is 400, or 415 for another content type."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def numbers_in_body(request) -> Sequence[str | int]:
    """A scrub or add request's numbers: a JSON list of strings and integers, or a CSV body's
    numbers, at most MAX_NUMBERS. Anything else raises BadBody."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadBody(f"The body is too large: send at most {MAX_NUMBERS:,} numbers a request.") from None
    if request.content_type == "application/json":
        numbers: Sequence[str | int] = _json_list(body)
    elif request.content_type == "text/csv":
        numbers = _csv_numbers(body)
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
