"""`normalize_phone` for the many numbers of an upload or an API call: exactly its answers, faster.

Callers ask `phones.normalized`, which answers through this cache.

Full `phonenumbers` parsing and validation costs 25–70 µs a number, most of an import's time.
Two caches, kept per worker process, give the same answers without paying that for every row:

1. Plainly written values (digits, spaces, `()-.`, a leading `+`) are keyed by their digits:
   phonenumbers reads nothing else in them, so `(415) 555-0123` and `415.555.0123` are one entry.
2. Validated prefixes. phonenumbers reads a number with patterns from its metadata: the
   international and national prefixes to strip, then each number type (`[2-9]\\d{6}` and the
   like). For a prefix such as `4155` of a 10-digit US number we check, once, that each pattern
   gives the same answer whatever digits follow: rewritten so that a marker Y passes every digit
   test, "Y…" not matching proves that no tail matches; rewritten so that a marker X passes only
   where the pattern takes any digit (\\d), "X…" matching proves that every tail matches. When
   every pattern is decided, all numbers of that length under that prefix are read alike and share
   one full validation; when not, a longer prefix is tried, down to the number itself.

Numbers outside the shapes checked here simply go to `normalize_phone`. Tests compare this
module with `normalize_phone` on generated numbers of many countries and written forms.
"""

import functools
import re

from django.conf import settings
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberFormat, example_number, format_number

from .phones import MAX_INPUT_LENGTH, InvalidPhone, normalize_phone

_PLAIN = re.compile(r"^\+?[0-9().\- ]+$")  # digits and the punctuation phonenumbers reads as spacing
_NOT_DIGITS = re.compile(r"[^0-9]")
_TYPES = ("general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
          "personal_number", "voip", "pager", "uan", "voicemail")
_MAX_NATIONAL = 17  # phonenumbers' longest national number
_UNDECIDED, _UNCACHEABLE = object(), object()
_MAX_PREFIXES = 200_000  # about 40 MB; past it the cache starts afresh

_prefixes: dict[tuple[str, str, int, str], object] = {}
# E.164 numbers of +1 ("+14155550123"), what dialers mostly send: answered from their first six
# characters alone, without reading the value as a written number (_nanp_share).
_NANP_LENGTH, _NANP_HEAD = 12, 6
_nanp_heads: dict[tuple[str, str], object] = {}


def normalized(value: str) -> tuple[str, str]:
    """("+14155550123", "") or ("", reason), exactly as `normalize_phone(value)` decides."""
    if len(value) == _NANP_LENGTH and value.startswith("+1") and value.isascii() and value[2:].isdigit():
        shared = _nanp_heads.get((value[:_NANP_HEAD], settings.DEFAULT_PHONE_REGION))
        if shared is None:
            shared = _nanp_share(value, settings.DEFAULT_PHONE_REGION)
        if shared is not _UNDECIDED:
            return (value, "") if shared == "" else ("", shared)  # type: ignore[return-value]  # a reason here
    if len(value) <= MAX_INPUT_LENGTH and _PLAIN.match(value):
        digits = _NOT_DIGITS.sub("", value)
        if len(digits) >= 3:  # fewer is "not a number" or "too short" depending on punctuation
            plus, region = value[0] == "+", settings.DEFAULT_PHONE_REGION
            return _by_prefix(plus, digits, region) or _cached(("+" if plus else "") + digits, region)
    return _cached(value, settings.DEFAULT_PHONE_REGION)


def prepare() -> None:
    """Compile, ahead of any request, what proving the default region's prefixes takes (about
    0.1 s for +1's 25 regions): gunicorn calls it as each worker starts (gunicorn.conf.py), so a
    fresh worker's first numbers pay only their own prefixes."""
    region = settings.DEFAULT_PHONE_REGION
    normalized(format_number(example_number(region), PhoneNumberFormat.E164))  # type: ignore[arg-type]  # every region has one


def clear() -> None:
    """Forget all answers (the benchmark measures a cold start with it)."""
    _prefixes.clear()
    _nanp_heads.clear()
    _cached.cache_clear()
    _template.cache_clear()


@functools.lru_cache(maxsize=200_000)
def _cached(value: str, region: str) -> tuple[str, str]:
    try:
        return normalize_phone(value, region), ""
    except InvalidPhone as error:
        return "", error.reason


def _nanp_share(value: str, region: str):
    """The answer (as _share's) for every "+1" number of ten digits starting as `value` does for
    its first four national digits (area code and the exchange's first digit: phonenumbers' +1
    patterns decide whole area codes or single exchanges), remembered; _UNDECIDED where the
    patterns depend on more digits, or phonenumbers would read such a number otherwise."""
    shared = _UNDECIDED
    if _template(True, _NANP_LENGTH - 1, value[1:4], region) == ("1", 1) and _decided(1, value[2:_NANP_HEAD], 6):
        e164, reason = _cached(value, region)
        shared = reason if reason else "" if e164 == value else _UNDECIDED
    if len(_nanp_heads) >= _MAX_PREFIXES:
        _nanp_heads.clear()
    _nanp_heads[value[:_NANP_HEAD], region] = shared
    return shared


def _by_prefix(plus: bool, digits: str, region: str) -> tuple[str, str] | None:
    """The answer shared by the numbers under this one's shortest deciding prefix, or None."""
    template = _template(plus, len(digits), digits[:3], region)
    if template is None:
        return None
    country_code, skip = template
    national = digits[skip:]
    for depth in range(1, len(national) + 1):
        key = (region, country_code, len(national), national[:depth])
        shared = _prefixes.get(key)
        if shared is None:
            if len(_prefixes) >= _MAX_PREFIXES:
                _prefixes.clear()
            shared = _prefixes[key] = _share(country_code, national, depth, plus, digits, region)
        if shared is _UNCACHEABLE:
            return None
        if shared is not _UNDECIDED:
            return ("+" + country_code + national, "") if shared == "" else ("", shared)  # type: ignore[return-value]  # a reason here: the sentinels are ruled out
    return None


def _share(country_code: str, national: str, depth: int, plus: bool, digits: str, region: str):
    """"" (valid) or the reason it is not, for every number under national[:depth], from one full
    validation of this one; _UNDECIDED while a pattern depends on the digits after the prefix."""
    if not _decided(int(country_code), national[:depth], len(national) - depth):
        return _UNDECIDED
    e164, reason = _cached(("+" if plus else "") + digits, region)
    if reason:
        return reason
    return "" if e164 == "+" + country_code + national else _UNCACHEABLE


@functools.lru_cache(maxsize=10_000)
def _template(plus: bool, length: int, head: str, region: str) -> tuple[str, int] | None:
    """(country code, digits before the national number) when phonenumbers reads every number of
    this length starting with `head` as that code and the rest; None when it might read some of them
    otherwise (an international or national prefix to strip, an unknown or non-geographic code)."""
    default = PhoneMetadata.metadata_for_region(region)
    tail = length - len(head)
    if plus:  # +CC…: the first known code of 1 to 3 digits, looked up as phonenumbers does
        if head[0] == "0":
            return None
        code = next((int(head[:n]) for n in (1, 2, 3) if int(head[:n]) in COUNTRY_CODE_TO_REGION_CODE), None)
        if code is None:
            return None
        skip, prefixes_of = len(str(code)), []
    else:  # national (415…), or the default country's code then national (1 415…)
        code, prefixes_of = default.country_code, [default]  # type: ignore[union-attr]  # a known region's metadata has it
        skip = len(str(code)) if head.startswith(str(code)) else 0
        if _may_match(default.international_prefix, head, tail):  # type: ignore[union-attr]  # a known region's metadata has it
            return None
        general = default.general_desc.national_number_pattern  # type: ignore[union-attr]  # a known region's metadata has it
        if skip and (_may_match(default.national_prefix_for_parsing, head[skip:], tail)  # type: ignore[union-attr]  # a known region's metadata has it
                     or _may_match(general, head, tail, whole=True)
                     or not _always_matches(general, head[skip:], tail)):  # type: ignore[arg-type]  # every region has a general pattern
            return None  # phonenumbers keeps or strips that code depending on the digits after it
    regions = _metadata(code)
    if regions is None or not 2 <= length - skip <= _MAX_NATIONAL:
        return None
    if any(_may_match(metadata.national_prefix_for_parsing, head[skip:], tail) for metadata in prefixes_of + regions):
        return None
    return str(code), skip


@functools.cache
def national_lengths(country_code: int) -> list[int]:
    """The lengths a valid national number of this country code may have (every region's)."""
    regions = [PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
               for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())]
    return sorted({length for metadata in regions if metadata is not None
                   for length in metadata.general_desc.possible_length if length > 0})  # type: ignore[union-attr]  # every region has a general description


def may_start(country_code: int, national: str, length: int) -> bool:
    """Whether some valid national number of `length` digits of this country starts `national`:
    a number type's pattern (fixed line, mobile, …: what makes a number valid) of one of its
    regions, widened with the marker Y ("some digit"), matches it whole."""
    regions = [PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
               for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())]
    return any(_may_match(getattr(metadata, name).national_number_pattern, national, length - len(national), whole=True)
               for metadata in regions if metadata is not None
               for name in _TYPES[1:] if getattr(metadata, name) is not None)


@functools.cache
def _metadata(country_code: int) -> list | None:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not regions or "001" in regions:  # non-geographic codes: left to normalize_phone
        return None
    return [PhoneMetadata.metadata_for_region(region) for region in regions]


def _decided(country_code: int, prefix: str, tail: int) -> bool:
    """Whether every pattern validation consults gives one answer for all `tail` digits after
    `prefix`: each region's leading digits (matched at the start) and number types (matched whole)."""
    some_tail, every_tail = prefix + "Y" * tail, prefix + "X" * tail
    for region in _metadata(country_code):  # type: ignore[union-attr]  # only codes _template found metadata for
        patterns = _patterns(region.id)
        if patterns is None:
            return False
        anything, checks = patterns
        if not anything.fullmatch(some_tail):
            continue  # no pattern of this region matches any of these numbers
        for some, every, whole in checks:
            if whole and some.fullmatch(some_tail) and not every.fullmatch(every_tail):
                return False
            if not whole and some.match(some_tail) and not every.match(every_tail):
                return False
    return True


@functools.cache
def _patterns(region: str):
    """A region's leading digits (matched at the start) and number types (matched whole), widened
    as (some digit, every digit, whole?) triples, with one pattern that matches where any of them
    can; None if one cannot be read (none, in today's metadata)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    found = [(metadata.leading_digits, False)] + [  # type: ignore[union-attr]  # a known region's metadata has it
        (getattr(metadata, name).national_number_pattern, True) for name in _TYPES if getattr(metadata, name)
    ]
    found = [(pattern, whole) for pattern, whole in found if pattern]
    try:
        anything = _compiled("|".join(f"(?:{pattern}){'' if whole else r'[0-9Y]*'}" for pattern, whole in found), "Y")
        return anything, [(_compiled(pattern, "Y"), _compiled(pattern, "X"), whole) for pattern, whole in found]
    except (ValueError, re.error):
        return None


def _may_match(pattern: str | None, prefix: str, tail: int, whole: bool = False) -> bool:
    """Whether `pattern` can match (at the start, or whole) `prefix` followed by some `tail` digits."""
    if not pattern:
        return False
    try:
        some = _compiled(pattern, "Y")
    except (ValueError, re.error):
        return True  # cannot tell, so assume it can
    return (some.fullmatch if whole else some.match)(prefix + "Y" * tail) is not None


def _always_matches(pattern: str, prefix: str, tail: int) -> bool:
    """Whether `pattern` matches whole `prefix` followed by any `tail` digits whatsoever."""
    try:
        every = _compiled(pattern, "X")
    except (ValueError, re.error):
        return False  # cannot tell, so assume not
    return every.fullmatch(prefix + "X" * tail) is not None


@functools.cache
def _compiled(pattern: str, marker: str) -> re.Pattern:
    return re.compile(_widen(pattern, marker))


def _widen(pattern: str, marker: str) -> str:
    """Let a marker character into a metadata pattern: "Y" wherever any digit test stands (a
    literal digit, a class, \\d), so that Y is "some digit"; "X" only where \\d stands, so that X
    is "any digit at all". Metadata patterns hold only digits, classes, \\d, groups, |, ? and {m,n}."""
    out, index, in_class, in_braces = [], 0, False, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escape = pattern[index:index + 2]
            if escape != r"\d":
                raise ValueError(f"unexpected escape {escape!r} in {pattern!r}")
            out.append(escape if in_class else f"[\\d{marker}]")
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(marker + "]" if char == "]" and marker == "Y" else char)
        elif in_braces:
            in_braces = char != "}"
            out.append(char)
        elif char == "[":
            if pattern[index + 1:index + 2] == "^":
                raise ValueError(f"unexpected negated class in {pattern!r}")
            in_class = True
            out.append(char)
        elif char == "{":
            in_braces = True
            out.append(char)
        elif char.isdigit() and marker == "Y":
            out.append(f"[{char}Y]")
        else:
            out.append(char)
        index += 1
    return "".join(out)
