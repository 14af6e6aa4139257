"""Phone numbers in, E.164 out: the one place that decides what a valid number is.

Every path that takes a number from a person or a file (uploads, the hand-entry form, filters,
the API) goes through `normalize_phone`, so `415.555.0123` and `+1 (415) 555-0123` are the
same row, and junk never reaches the blacklist.

Extensions: a dialer may send `+1 415 555 0123 ext 5`; what is blocked or checked is the line.
Any common extension form (`ext 5`, `ext. 5`, `extension 5`, `x5`, `#5`, `,5`, `;ext=5`) is
accepted and dropped: `+14155550123`. Letters anywhere else refuse the value.
"""

import functools
import re

import phonenumbers
from django.conf import settings
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

MAX_INPUT_LENGTH = 64  # longer than any written phone number, with room for spaces and punctuation
MAX_EXTENSION_DIGITS = 7  # longer "extensions" are more likely a second number (`4155550123,2125550100`)

_LETTERS = re.compile(r"[A-Za-z]")
# An extension at the end, in the forms people and dialers write (RFC 3966's `;ext=` included).
_EXTENSION = re.compile(
    rf"\s*(?:;\s*ext\s*=|ext(?:ension)?\.?|x|#|,+)\s*:?\s*\d{{1,{MAX_EXTENSION_DIGITS}}}\s*#?\s*$", re.IGNORECASE
)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")  # what Excel makes of 4155550123
_TEL_PREFIX = re.compile(r"^tel:", re.IGNORECASE)

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short (no area code)",
}


class InvalidPhone(ValueError):
    """A value that is not a dialable phone number; `reason` says why, for people."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return `raw` as E.164 (`+14155550123`), or raise InvalidPhone with a human reason."""
    region = region or settings.DEFAULT_PHONE_REGION
    text = raw.strip().strip('"').strip()
    if not text:
        raise InvalidPhone("empty")
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhone("too long to be a phone number")
    if _SCIENTIFIC.match(text):
        raise InvalidPhone("in scientific notation (a spreadsheet rounded it); export the column as text")
    text = _EXTENSION.sub("", _TEL_PREFIX.sub("", text))  # the line is what is blocked, not the extension
    if _LETTERS.search(text):
        raise InvalidPhone("contains letters")  # 1-800-FLOWERS: phonenumbers would read letters as digits
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        raise InvalidPhone(_PARSE_REASONS.get(error.error_type, "not a phone number")) from None
    if number.extension:  # what phonenumbers reads as one, and _EXTENSION did not: `…0123,2125550100`
        raise InvalidPhone("digits after the number that are no extension (two numbers in one?)")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise InvalidPhone(_POSSIBLE_REASONS.get(possible, "not a phone number"))
    if not phonenumbers.is_valid_number(number):
        number_region = phonenumbers.region_code_for_country_code(number.country_code)  # type: ignore[arg-type]  # set by parse()
        raise InvalidPhone(f"invalid for region {number_region if number_region != 'ZZ' else region}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_prefix(raw: str, region: str | None = None) -> str:
    """The E.164 start of a partly typed number, for prefix search: `415555` → `+1415555`.

    A full number normalizes as usual; a fragment keeps its digits behind the region's country
    code, or behind its own when typed with `+`. Returns "" when nothing searchable was typed.
    """
    region = region or settings.DEFAULT_PHONE_REGION
    text = _TEL_PREFIX.sub("", raw.strip())
    try:
        return normalize_phone(text, region)
    except InvalidPhone:
        pass
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    if text.startswith("+"):
        return "+" + digits
    country_code = phonenumbers.country_code_for_region(region)
    if country_code == 1 and digits.startswith("1"):
        return "+" + digits  # NANP area codes never start with 1: a leading 1 is the country code
    national_prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix  # type: ignore[union-attr]  # a checked region (settings)
    if country_code != 1 and national_prefix and digits.startswith(national_prefix):
        digits = digits[len(national_prefix):]  # 020 7946 in GB → +44 20 7946
    return f"+{country_code}{digits}"


def format_phone(e164: str) -> str:
    """A stored E.164 number written for people: national form at home, international abroad."""
    return _format_phone(e164, settings.DEFAULT_PHONE_REGION)


@functools.lru_cache(maxsize=65_536)  # list pages show the same numbers again and again
def _format_phone(e164: str, home_region: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home_region:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
