import pytest
from django.test import override_settings

from blacklist.phones import InvalidPhone, format_phone, normalize_phone, phone_prefix


@pytest.mark.parametrize(
    "written, e164",
    [
        ("+1 (415) 555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("415-555-0123", "+14155550123"),
        ("(415) 555 0123", "+14155550123"),
        ("4155550123", "+14155550123"),
        ("14155550123", "+14155550123"),
        ("1-415-555-0123", "+14155550123"),
        ("+14155550123", "+14155550123"),
        ("  +1 415 555 0123  ", "+14155550123"),
        ('"415-555-0123"', "+14155550123"),
        ("tel:+1-415-555-0123", "+14155550123"),
        ("TEL:+14155550123", "+14155550123"),
        ("011 44 20 7946 0958", "+442079460958"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("+49 30 901820", "+4930901820"),
        ("(212) 555-1234", "+12125551234"),
        ("212/555/1234", "+12125551234"),
        ("\u00a0415\u00a0555\u00a00123", "+14155550123"),  # non-breaking spaces from spreadsheets
        ("４１５５５５０１２３", "+14155550123"),  # full-width digits
    ],
)
def test_common_written_forms_normalize_to_e164(written, e164):
    assert normalize_phone(written, "US") == e164


@pytest.mark.parametrize(
    "junk, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("12345", "too short"),
        ("1", "not a phone number"),
        ("555-CALL-NOW", "contains letters"),
        ("1-800-FLOWERS", "contains letters"),
        ("abc", "contains letters"),
        ("4.15555E+09", "in scientific notation (a spreadsheet rounded it); export the column as text"),
        ("4,15555E+09", "in scientific notation (a spreadsheet rounded it); export the column as text"),
        ("+999 123 456", "unknown country code"),
        ("415555012345678901", "too long"),
        ("555-555-5555", "invalid for region US"),
        ("+44 1 2345 6789", "invalid for region GB"),
        ("555 0123", "too short (no area code)"),
        ("=HYPERLINK(\"x\")", "contains letters"),
        ("-- ..", "not a phone number"),
        ("9" * 80, "too long to be a phone number"),
    ],
)
def test_impossible_numbers_are_refused_with_a_human_reason(junk, reason):
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(junk, "US")
    assert refused.value.reason == reason


@override_settings(DEFAULT_PHONE_REGION="GB")
def test_numbers_without_country_code_read_in_the_configured_region():
    assert normalize_phone("020 7946 0958") == "+442079460958"
    assert normalize_phone("+1 415 555 0123") == "+14155550123"


@pytest.mark.parametrize(
    "typed, prefix",
    [
        ("415555", "+1415555"),
        ("(415) 555", "+1415555"),
        ("1415", "+1415"),
        ("+44 20", "+4420"),
        ("415-555-0123", "+14155550123"),
        ("", ""),
        ("---", ""),
    ],
)
def test_prefix_of_a_partly_typed_number(typed, prefix):
    assert phone_prefix(typed, "US") == prefix


def test_prefix_drops_the_national_trunk_zero_outside_nanp():
    assert phone_prefix("020 79", "GB") == "+442079"


def test_stored_numbers_are_shown_nationally_at_home_and_internationally_abroad():
    assert format_phone("+14155550123") == "(415) 555-0123"
    assert format_phone("+442079460958") == "+44 20 7946 0958"
