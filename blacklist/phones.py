"""Phone numbers in, E.164 out: the one place that decides what a valid number is.

Every path that takes a number from a person, a file or a dialer (uploads, the hand-entry form,
the API, a number's history) asks `normalized`, the one entry point: `("+14155550123", "")` or
`("", the reason for people)`. It gives exactly `normalize_phone`'s answers (which define the
rules, raising InvalidPhone), remembered per process by `phone_cache`. So `415.555.0123` and
`+1 (415) 555-0123` are the same row, and junk never reaches the blacklist. Stored numbers are
E.164 (`E164`, the one pattern for it).

Extensions: a dialer may send `+1 415 555 0123 ext 5`; what is blocked or checked is the line.
Any common extension form (`ext 5`, `ext. 5`, `extension 5`, `x5`, `#5`, `,5`, `;ext=5`) is
accepted and dropped: `+14155550123`. Letters anywhere else refuse the value.
"""

import functools
import re
from collections.abc import Collection

import phonenumbers
from django.conf import settings
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, NumberParseException, PhoneNumberFormat, ValidationResult

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")  # what every stored number looks like
PREFIX_MARK = "*"  # ends a stored prefix entry: "+1201*" blocks every number starting +1201
PREFIX = re.compile(r"^\+[1-9][0-9]{1,13}\*$")  # what every stored prefix entry looks like
SHORTEST_PREFIX = 3  # "+1" and a digit: no stored prefix entry is shorter (lookup_candidates)
MAX_INPUT_LENGTH = 64  # longer than any written phone number, with room for spaces and punctuation
MAX_EXTENSION_DIGITS = 7  # longer "extensions" are more likely a second number (`4155550123,2125550100`)

_LETTERS = re.compile(r"[A-Za-z]")
# An extension at the end, in the forms people and dialers write (RFC 3966's `;ext=` included).
_EXTENSION = re.compile(
    rf"\s*(?:;\s*ext\s*=|ext(?:ension)?\.?|x|#|,+)\s*:?\s*\d{{1,{MAX_EXTENSION_DIGITS}}}\s*#?\s*$", re.IGNORECASE
)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")  # what Excel makes of 4155550123
_TEL_PREFIX = re.compile(r"^tel:", re.IGNORECASE)
_PREFIX_ENDS = ("*", "x", "X")  # how a written prefix ends (_WRITTEN_PREFIX)
# A prefix as people write it: digits (spacing allowed) then `*`, or VICIdial's X's (201XXXXXXX).
_WRITTEN_PREFIX = re.compile(r"^(?P<head>\+?[0-9().\- ]*[0-9][0-9().\- ]*?)\s*(?:\*|[xX]+)$")

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


def normalized(raw: str | int) -> tuple[str, str]:
    """("+14155550123", "") for a phone number, ("", the reason for people) for anything else:
    normalize_phone's answers, through the per-process cache (phone_cache). The API's JSON may
    send integers."""
    if isinstance(raw, int):
        if raw < 0:
            return "", "a negative number"  # str() would read the minus sign as a dash
        raw = str(raw)
    return phone_cache.normalized(raw)


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


def is_written_prefix(raw: str) -> bool:
    """Whether a value is written as a prefix entry (`+1 201*`, `201XXXXXXX`), not a number."""
    return _WRITTEN_PREFIX.match(_TEL_PREFIX.sub("", raw.strip().strip('"').strip())) is not None


def normalized_entry(raw: str | int, allow_prefix: bool) -> tuple[str, str]:
    """`normalized`, also reading prefix entries (`+1201*`) for those who may add them (Managers:
    `allow_prefix`); for the others a prefix is refused with the reason. Only a value that ends
    like a prefix (`*`, X) is read as one: plain numbers take `normalized`'s cached path at its speed."""
    if isinstance(raw, str) and raw.rstrip().rstrip('"').rstrip().endswith(_PREFIX_ENDS) and is_written_prefix(raw):
        if not allow_prefix:
            return "", "a prefix block: only Managers may add one"
        return _normalized_prefix(raw, settings.DEFAULT_PHONE_REGION, settings.MIN_PREFIX_DIGITS)
    return normalized(raw)


@functools.lru_cache(maxsize=4_096)
def _normalized_prefix(raw: str, region: str, min_digits: int) -> tuple[str, str]:
    try:
        return normalize_prefix(raw, region, min_digits), ""
    except InvalidPhone as error:
        return "", error.reason


def normalize_prefix(raw: str, region: str | None = None, min_digits: int | None = None) -> str:
    """A written prefix as stored: `+1 (201) *`, `1201*` and `201XXXXXXX` are `+1201*`; raise
    InvalidPhone with the reason when it is too broad (a bare country code, fewer than
    MIN_PREFIX_DIGITS digits after it), when no valid number of its country starts with it, or
    when it is a whole number already."""
    region = region or settings.DEFAULT_PHONE_REGION
    min_digits = settings.MIN_PREFIX_DIGITS if min_digits is None else min_digits
    written = _WRITTEN_PREFIX.match(_TEL_PREFIX.sub("", raw.strip().strip('"').strip()))
    if written is None:
        raise InvalidPhone("not a prefix (digits followed by * or X's)")
    start = phone_prefix(written["head"], region)  # the digits as written, as an E.164 start: "+1201"
    country_code = _country_code_of(start[1:])
    if country_code is None:
        raise InvalidPhone("unknown country code")
    national = start[1 + len(str(country_code)):]
    if not national:
        raise InvalidPhone(f"a bare country code (+{country_code}): too broad")
    if len(national) < min_digits:
        raise InvalidPhone(f"too broad: at least {min_digits} digits after the country code (+{country_code})")
    lengths = _national_lengths(country_code)
    if lengths and len(national) >= max(lengths):
        raise InvalidPhone("a whole number, not a prefix: write it without the *")
    if not any(_may_start(country_code, national, length) for length in lengths if length > len(national)):
        raise InvalidPhone(f"no valid number of +{country_code} starts with it")
    return f"+{country_code}{national}{PREFIX_MARK}"


def lookup_candidates(e164: str) -> list[str]:
    """What check and scrub look up for a number: itself and each prefix entry that could block it
    (`+1201*`, `+12015*`, …), so one indexed `phone = ANY(…)` finds both, never a scan of prefixes."""
    return [e164, *(e164[:end] + PREFIX_MARK for end in range(SHORTEST_PREFIX, len(e164)))]


def batch_candidates(numbers: Collection[str]) -> set[str]:
    """Every number's lookup_candidates, each once. Built one length at a time from the longest,
    each length's heads cut from the distinct ones a digit longer (a batch's short heads are few):
    about 3× faster than calling lookup_candidates per number."""
    wanted = set(numbers)
    by_length: dict[int, set[str]] = {}
    for number in wanted:
        by_length.setdefault(len(number), set()).add(number)
    heads: set[str] = set()
    for end in range(max(by_length, default=0) - 1, SHORTEST_PREFIX - 1, -1):
        heads = {head[:end] for head in heads.union(by_length.get(end + 1, ()))}
        wanted.update([head + PREFIX_MARK for head in heads])
    return wanted


def format_phone(e164: str) -> str:
    """A stored E.164 number written for people: national form at home, international abroad;
    a prefix entry as its digits so written, and `…`."""
    if e164.endswith(PREFIX_MARK):
        return _format_prefix(e164)
    return _format_phone(e164, settings.DEFAULT_PHONE_REGION)


@functools.lru_cache(maxsize=4_096)
def _format_prefix(prefix: str) -> str:
    digits = prefix[1:-1]
    country_code = _country_code_of(digits)
    return f"+{country_code} {digits[len(str(country_code)):]}…" if country_code else prefix


def _country_code_of(digits: str) -> int | None:
    """The country code E.164 digits start with (the first known of 1 to 3 digits), or None; none
    starts with 0."""
    if not digits or digits[0] == "0":
        return None
    return next((int(digits[:n]) for n in (1, 2, 3) if int(digits[:n]) in COUNTRY_CODE_TO_REGION_CODE), None)


@functools.lru_cache(maxsize=65_536)  # list pages show the same numbers again and again
def _format_phone(e164: str, home_region: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == home_region:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


# Last: the cache builds on normalize_phone above (and imports this module for it).
from . import phone_cache  # noqa: E402
from .phone_cache import may_start as _may_start  # noqa: E402
from .phone_cache import national_lengths as _national_lengths  # noqa: E402
