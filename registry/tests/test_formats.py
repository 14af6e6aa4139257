"""Reading registry files: each form, unreadable lines counted (never guessed), files refused whole."""

import pytest

from registry.formats import ADD, DELETE, Refused, RegistryReader, area_code_exists, state_of

from .files import flat, numbers, xml, zipped


def read(data: bytes, **options) -> tuple[list, RegistryReader]:
    reader = RegistryReader(data, **options)
    return list(reader.records()), reader


@pytest.mark.parametrize(("code", "exists"), [(201, True), (212, True), (415, True), (787, True), (555, False),
                                               (999, False), (911, False), (416, False), (100, False)])
def test_area_codes_that_exist_are_those_of_the_us_in_service(code, exists):
    assert area_code_exists(code) is exists  # 416 is Toronto's: not in the US registry


def test_each_area_code_knows_its_state():
    assert [state_of(code) for code in (201, 212, 415, 787, 800)] == ["NJ", "NY", "CA", "PR", ""]


def test_a_flat_list_reads_both_number_forms_and_counts_what_it_cannot_read():
    data = (b"2015550123\n201,5550124\n\n201555012\n20155501234\n9995550123\nhello\n2125550100\r\n"
            b"2125550101\n2125550102\n")
    records, reader = read(data)

    assert [(r.number, r.change, r.line) for r in records] == [
        (2015550123, None, 1), (2015550124, None, 2), (2125550100, None, 8), (2125550101, None, 9),
        (2125550102, None, 10)]
    assert [(u.line, u.text, u.reason) for u in reader.kept] == [
        (4, "201555012", "9 digits, not 10"), (5, "20155501234", "11 digits, not 10"),
        (6, "9995550123", "area code 999 does not exist"), (7, "hello", "not a phone number")]
    assert (reader.changes, reader.readable, reader.unreadable, reader.area_codes) == (False, 5, 4, {201, 212})


def test_a_change_list_reads_flags_and_dates_in_each_form():
    data = (b"2015550123,A,2026-11-01\n201,5550124,delete,11/01/2026\n2015550125,add,11/01/2026\n"
            b"2015550126,X,2026-11-01\n2015550127,A,2026-13-01\n2015550128,A\n")
    records, reader = read(data)

    assert [(r.number, r.change) for r in records] == [(2015550123, ADD), (2015550124, DELETE), (2015550125, ADD)]
    assert [u.reason for u in reader.kept] == ["'X' is not A (added) or D (deleted)",
                                               "'2026-13-01' is not a date (YYYY-MM-DD or MM/DD/YYYY)",
                                               "a change record needs the number, A or D, and the date"]


def test_xml_and_zip_members_are_told_by_content_not_by_name():
    full = numbers(201, 50)
    data = zipped(("list.dat", flat(full)), ("more.txt", xml(numbers(212, 20))))
    records, reader = read(data)

    assert [r.number for r in records] == full + numbers(212, 20)
    assert reader.unreadable == 0


def test_an_xml_change_list():
    records, _ = read(xml(numbers(201, 3), ["A", "D", "A"]))

    assert [r.change for r in records] == [ADD, DELETE, ADD]


def test_the_first_hundred_unreadable_lines_are_kept_all_are_counted():
    data = flat(numbers(201, 500)) + b"12345\n" * 150
    _, reader = read(data)

    assert (reader.unreadable, len(reader.kept), reader.kept[-1].line) == (150, 100, 600)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "no line of it holds a phone number"),
    (b"name,email\nann,ann@example.com\n", "no line of it holds a phone number"),
    (b"2015550123\nabc\ndef\n", "2 of its 3 lines are not registry numbers"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary, not a registry file"),
    (zipped(("a.txt", flat(numbers(201, 100))))[:-40], "The ZIP file is truncated or corrupt"),
    (b"<?xml version='1.0'?><DNCRegistry><Record><AreaCode>201", "is not readable XML"),
    (b'<!DOCTYPE r [<!ENTITY a "2015550123">]><r><Record><PhoneNumber>&a;</PhoneNumber></Record></r>',
     "is not readable XML"),
])
def test_a_file_that_is_not_a_registry_file_is_refused(data, message):
    with pytest.raises(Refused, match=message):
        read(data)


def test_a_number_of_another_area_code_refuses_an_area_codes_file():
    with pytest.raises(Refused, match="Line 3 holds 2125550100, a number of area code 212: this is not area code 201"):
        read(b"2015550123\n2015550124\n2125550100\n", area_code=201)


def test_a_change_record_in_a_full_list_is_unreadable():
    _, reader = read(b"2015550123\n2015550124,A,2026-11-01\n2015550125\n", changes=False)

    assert [u.reason for u in reader.kept] == ["a change record in a full list"]


def test_reading_streams_a_large_zip_without_listing_it():
    data = zipped(("big.txt", flat(numbers(201, 200_000))))
    reader = RegistryReader(data)

    assert sum(1 for _ in reader.records()) == 200_000
