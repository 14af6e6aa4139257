"""Reading registry files: each form, unreadable lines counted (never guessed), files refused whole."""

from collections.abc import Iterator

import pytest

from registry import formats
from registry.formats import ADD, BOM, DELETE, PLAIN, Block, Record, Refused, RegistryReader, area_code_exists, state_of

from .files import flat, numbers, xml, zipped


def records(reader: RegistryReader) -> Iterator[Record]:
    """Every readable record, a Block's lines each as the Record it stands for."""
    for piece in reader.pieces():
        if isinstance(piece, Block):
            for offset, start in enumerate(range(0, len(piece.text), PLAIN)):
                yield Record(int(piece.text[start:start + PLAIN - 1]), None, piece.first_line + offset)
        else:
            yield piece


def read(data: bytes, **options) -> tuple[list, RegistryReader]:
    reader = RegistryReader(data, **options)
    return list(records(reader)), reader


@pytest.mark.parametrize(("code", "exists"), [(201, True), (212, True), (415, True), (787, True), (555, False),
                                               (999, False), (911, False), (416, False), (100, False)])
def test_area_codes_that_exist_are_those_of_the_us_in_service(code, exists):
    assert area_code_exists(code) is exists  # 416 is Toronto's: not in the US registry


def test_each_area_code_knows_its_state():
    assert [state_of(code) for code in (201, 206, 212, 304, 415, 787, 800)] == [
        "NJ", "WA", "NY", "WV", "CA", "PR", ""]


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

    assert sum(1 for _ in records(reader)) == 200_000


# A full list's plain lines are checked a block at a time (formats.BLOCK bytes), in bytes; small
# blocks here cut these files into many.

def test_a_clean_full_list_comes_in_blocks_of_its_own_text(monkeypatch):
    monkeypatch.setattr(formats, "BLOCK", 10 * PLAIN)
    data = flat(numbers(201, 95))
    reader = RegistryReader(data)

    pieces = list(reader.pieces())

    assert all(isinstance(piece, Block) for piece in pieces) and len(pieces) == 10
    assert b"".join(piece.text for piece in pieces) == data
    assert (reader.lines, reader.readable, reader.changes, reader.area_codes) == (95, 95, False, {201})


@pytest.mark.parametrize("block", [7, 5 * PLAIN, 1 << 20])
def test_blocks_with_a_bad_line_crlf_a_bom_and_no_final_line_end_read_as_lines_would(monkeypatch, block):
    monkeypatch.setattr(formats, "BLOCK", block)
    good = numbers(201, 30)
    lines = [str(number) for number in good]
    lines[14] = "201555012"  # one bad line in the middle
    data = BOM + ("\r\n".join(lines[:20]) + "\r\n" + "\n".join(lines[20:])).encode()  # no line end after the last

    records, reader = read(data)

    assert [(r.number, r.line) for r in records] == [(n, i + 1) for i, n in enumerate(good) if i != 14]
    assert [(u.line, u.reason) for u in reader.kept] == [(15, "9 digits, not 10")]
    assert (reader.lines, reader.readable, reader.unreadable, reader.changes) == (30, 29, 1, False)


def test_a_block_of_two_area_codes_or_an_unknown_one_is_read_line_by_line(monkeypatch):
    monkeypatch.setattr(formats, "BLOCK", 4 * PLAIN)
    data = flat(numbers(201, 3) + numbers(212, 3)) + b"9995550123\n" * 4 + b"2015550100\r2015550101\r"

    records, reader = read(data)

    assert [r.number for r in records] == numbers(201, 3) + numbers(212, 3) + [2015550100, 2015550101]
    assert [(u.line, u.reason) for u in reader.kept][:1] == [(7, "area code 999 does not exist")]
    assert (reader.lines, reader.unreadable, reader.area_codes) == (12, 4, {201, 212})


def test_a_number_of_another_area_code_deep_in_an_area_codes_file_refuses_it(monkeypatch):
    monkeypatch.setattr(formats, "BLOCK", 10 * PLAIN)
    data = flat(numbers(201, 57) + numbers(212, 1) + numbers(201, 20, start=100))

    with pytest.raises(Refused, match="Line 58 holds 2122000000, a number of area code 212: this is not area code"
                                      " 201's file"):
        read(data, area_code=201)
