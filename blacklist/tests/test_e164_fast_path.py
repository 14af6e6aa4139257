"""+1 numbers already in E.164 ("+14155550123"), answered from their first six characters
(phone_cache's fast path), get exactly `normalize_phone`'s answers: every area code with every
first exchange digit, toll-free, premium, N11 and fictitious exchanges, in several default
regions, cold and warm, beside values one character off that shape."""

import random

import pytest

from blacklist import phone_cache
from blacklist.phones import InvalidPhone, normalize_phone

SPECIAL_AREA_CODES = ["800", "833", "844", "855", "866", "877", "888", "900", "500", "533", "700", "710", "555",
                      "456", "211", "911", "011", "111", "200", "300", "600", "880", "887", "889"]
SPECIAL_LINES = ["2110000", "4110000", "5550100", "5550199", "5551234", "9110000", "2000000", "9999999"]


def expected(value: str) -> tuple[str, str]:
    try:
        return normalize_phone(value), ""
    except InvalidPhone as error:
        return "", error.reason


def e164_numbers() -> list[str]:
    rng = random.Random(17)
    numbers = [f"+1{area:03}{exchange}{rng.randrange(1_000_000):06}" for area in range(1000) for exchange in range(10)]
    numbers += [f"+1{area}{line}" for area in SPECIAL_AREA_CODES for line in SPECIAL_LINES]
    rng.shuffle(numbers)
    return numbers


def near_misses() -> list[str]:
    """Values one step off "+1" and ten ASCII digits, which must take the general path."""
    return ["+1415555012", "+141555501234", "+14155550123 ", " +14155550123", "+2415555012 3", "+44207946095",
            "+442079460958", "+14155550l23", "+1４１５５５５０１２３", "+1٤١٥٥٥٥٠١٢٣", "+1415555012³", "14155550123",
            "+1-4155550123", "+1(415)5550123", "+14155550123x5", "++4155550123", "+1415555012*", "+04155550123"]


@pytest.fixture(params=["US", "CA", "GB", "DE"])
def region(request, settings):
    settings.DEFAULT_PHONE_REGION = request.param
    phone_cache.clear()
    return request.param


def test_e164_plus_one_numbers_get_exactly_normalize_phones_answers(region):
    numbers = e164_numbers()
    for value in numbers:
        assert phone_cache.normalized(value) == expected(value), (region, value)
    for value in reversed(numbers):  # warm: every head met
        assert phone_cache.normalized(value) == expected(value), (region, value)
    assert phone_cache._nanp_heads, "the fast path answered none of them"


def test_values_one_step_off_e164_take_the_general_path_with_the_same_answers(region):
    for value in near_misses():
        assert phone_cache.normalized(value) == expected(value), (region, value)


def test_prepare_leaves_answers_unchanged(region):
    phone_cache.prepare()
    for value in e164_numbers()[:2000] + near_misses():
        assert phone_cache.normalized(value) == expected(value), (region, value)
