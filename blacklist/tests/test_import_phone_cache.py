"""The import's validation cache answers exactly as `normalize_phone` does, number by number,
for many countries and written forms, including numbers that share a cached prefix."""

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blacklist import phone_cache
from blacklist.phones import InvalidPhone, normalize_phone

COUNTRY_CODES = [1, 7, 20, 27, 31, 33, 34, 39, 44, 49, 52, 54, 55, 61, 64, 65, 81, 86, 91, 234, 353, 358, 852, 971, 999]
SPACING = ["", " ", "-", ".", "(", ")", " (", ") "]
HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def expected(value: str) -> tuple[str, str]:
    try:
        return normalize_phone(value), ""
    except InvalidPhone as error:
        return "", error.reason


def written(digits: str, spacing: list[str]) -> str:
    return "".join(space + digit for space, digit in zip(spacing, digits, strict=False)).strip() or digits


numbers_under_one_prefix = st.tuples(
    st.sampled_from(["+", "", "1", "011", "0", "00"]),   # international, national, trunk and exit prefixes
    st.sampled_from(COUNTRY_CODES).map(str) | st.just(""),
    st.text(alphabet="0123456789", min_size=1, max_size=6),  # the shared prefix
    st.lists(st.text(alphabet="0123456789", min_size=0, max_size=8), min_size=1, max_size=6),  # tails
    st.lists(st.sampled_from(SPACING), min_size=24, max_size=24),
)


@pytest.fixture(params=["US", "GB", "DE", "AR"])
def region(request, settings):
    settings.DEFAULT_PHONE_REGION = request.param
    return request.param


@HYPOTHESIS
@given(case=numbers_under_one_prefix)
def test_numbers_sharing_a_prefix_get_exactly_normalize_phones_answers(region, case):
    lead, code, prefix, tails, spacing = case
    for tail in tails:
        digits = code + prefix + tail
        if lead == "+":
            value = "+" + written(digits, spacing)
        else:
            value = written(lead + digits, spacing)
        if value.strip():
            assert phone_cache.normalized(value) == expected(value), (region, value)


def test_every_regions_example_numbers_and_their_neighbours_agree(region):
    for region_code in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region_code)
        national = phonenumbers.national_significant_number(example)
        code = str(example.country_code)
        for variant in {national, national[:-1] + "0", national[:-2] + "99", national[:3] + "1" * (len(national) - 3),
                        national + "1", national[:-1]}:
            for value in ("+" + code + variant, f"+{code} {variant[:3]} {variant[3:]}", variant, code + variant):
                assert phone_cache.normalized(value) == expected(value), (region, value)


def test_a_cold_cache_and_a_warm_one_agree(region):
    values = [f"(212) {exchange}-{line:04d}" for exchange in (200, 555, 911, 100) for line in (0, 1234, 9999)]
    values += ["+44 20 7946 0958", "020 7946 0958", "+49 30 123456", "030 123456", "+54 9 11 1234 5678"]
    warm = [phone_cache.normalized(value) for value in values]
    phone_cache.clear()
    assert [phone_cache.normalized(value) for value in values] == warm == [expected(value) for value in values]


def test_the_widened_patterns_let_the_marker_in_only_where_a_digit_test_stands():
    assert phone_cache._widen(r"2[0-4]\d{3}", "Y") == r"[2Y][0-4Y][\dY]{3}"
    assert phone_cache._widen(r"2[0-4]\d{3}", "X") == r"2[0-4][\dX]{3}"
    assert phone_cache._widen(r"(?:1|2\d)?", "Y") == r"(?:[1Y]|[2Y][\dY])?"
    with pytest.raises(ValueError):
        phone_cache._widen(r"\s", "X")
