"""Reading uploaded CSV files of phone numbers: the file rules, checked once in the request.

Generous with what spreadsheets produce (UTF-8 with or without BOM, UTF-16, Windows-1252,
CRLF, quotes, a header row, blank lines, a trailing delimiter), strict about what is not a
list of numbers (empty, binary, several columns, too many rows, too large): such a file is
refused whole with a `BadFile` that names the problem and the line. The worker reads the
stored text again with `data_rows`, so both sides see exactly the same rows.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from django.conf import settings

MAX_ROWS = 50_000
EXTENSIONS = {".csv", ".txt"}

_SIGNATURES = [  # what people rename to .csv, and what to do instead
    (b"PK\x03\x04", "is a ZIP archive, such as an Excel workbook (.xlsx) renamed to .csv; in Excel use"
                    " File › Save As › CSV"),
    (b"\xd0\xcf\x11\xe0", "is an Excel 97–2003 workbook (.xls); in Excel use File › Save As › CSV"),
    (b"%PDF", "is a PDF document, not a CSV file"),
    (b"\x1f\x8b", "is a gzip archive; unpack it first"),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never in text; tab, CR and LF are fine
_DELIMITERS = (",", ";", "\t")
_RFC_EXTENSION = re.compile(r";\s*ext\s*=", re.IGNORECASE)
_HEADER_WORDS = re.compile(r"phone|number|tel|mobile|cell|msisdn|dnc|contact", re.IGNORECASE)


class BadFile(ValueError):
    """A file refused whole; `message` says what is wrong, and where, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CsvFile:
    """An uploaded file that passed the file rules: its text and how many data rows it has."""

    name: str
    text: str
    encoding: str
    size: int
    rows: int


def max_bytes() -> int:
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def rules_text() -> str:
    """The file rules in one sentence, for the form's help text."""
    return (
        f"A .csv or .txt file of at most {settings.UPLOAD_MAX_MB} MB with one column of phone numbers, up to"
        f" {MAX_ROWS:,} rows; a header row such as “phone” is skipped. Numbers without a country code are"
        f" read as {settings.DEFAULT_PHONE_REGION} numbers; numbers a spreadsheet turned into 4.16E+09 are"
        " rejected (format the column as text before saving). An extension (ext 5, x5, #5) is dropped: the line"
        " is what is listed."
    )


def read_csv(name: str, file: BinaryIO) -> CsvFile:
    """Apply every file rule to an uploaded or local file; raise BadFile on the first broken one."""
    if PurePath(name).suffix.lower() not in EXTENSIONS:
        raise BadFile(f"“{name}” is not a CSV file: upload a .csv (or .txt) file.")
    size = file.seek(0, io.SEEK_END)
    if size > max_bytes():
        raise BadFile(f"The file is {size / 1024 / 1024:.1f} MB; the limit is {settings.UPLOAD_MAX_MB} MB.")
    file.seek(0)
    text, encoding = decode(file.read())
    rows = 0
    for line, _value in data_rows(text):
        rows += 1
        if rows > MAX_ROWS:
            raise BadFile(
                f"The file has more than {MAX_ROWS:,} rows (line {line:,} is row {rows:,});"
                f" split it into files of at most {MAX_ROWS:,} rows."
            )
    if not rows:
        raise BadFile("The file has no phone numbers in it (only blank lines or a header).")
    return CsvFile(name=PurePath(name).name, text=text, encoding=encoding, size=size, rows=rows)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in; BadFile when it is empty or not text."""
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise BadFile(f"The file {what}.")
    if _looks_utf16(data):
        text, encoding = _utf16(data), "utf-16"
    else:
        text, encoding = _eight_bit(data.removeprefix(b"\xef\xbb\xbf"))
    if not text.strip():
        raise BadFile("The file is empty.")
    check_text(text)
    return text, encoding


def check_text(text: str) -> None:
    """BadFile when decoded text is no list of numbers: binary characters, or JSON sent as CSV
    (whose first line would otherwise be half-read as a number)."""
    if control := _CONTROL.search(text):
        line = text.count("\n", 0, control.start()) + 1
        character = ord(control.group())
        raise BadFile(f"Line {line} holds binary data (character {character:#04x}): this is not a text file.")
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("[", "{"):
        line = text.count("\n", 0, len(text) - len(start)) + 1
        raise BadFile(f"Line {line} starts with “{start[0]}”: this is JSON, not one phone number a line.")


def _looks_utf16(data: bytes) -> bool:
    """A UTF-16 byte order mark, or every other byte zero (ASCII text in UTF-16 without one)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = data[:4096]
    return len(sample) >= 4 and any(half.count(0) > 0.9 * len(half) for half in (sample[0::2], sample[1::2]))


def _utf16(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise BadFile("The file looks like UTF-16 text but cannot be read as such: save it as CSV (UTF-8).") from None


def _eight_bit(data: bytes) -> tuple[str, str]:
    """UTF-8 when it is valid UTF-8, else Windows-1252 (what Excel writes), else Latin-1."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def data_rows(text: str) -> Iterator[tuple[int, str]]:
    """(line number, value) for each data row: blank lines and a header skipped, values stripped.

    Raises BadFile when a line has values in two columns or cannot be read as CSV."""
    column = None
    for line, cells in _rows(text):
        values = [(index, cell.strip()) for index, cell in enumerate(cells) if cell.strip()]
        if not values:
            continue
        if len(values) > 1:
            shown = ", ".join(value[:20] for _, value in values[:3])
            raise BadFile(
                f"Line {line:,} has {len(values)} values ({shown}): the file must have one column of phone numbers."
            )
        index, value = values[0]
        if column is None:
            column = index
            if _is_header(value):
                continue
        elif index != column:
            raise BadFile(
                f"Line {line:,} has its number in column {index + 1}, the lines before in column {column + 1}:"
                " the file must have one column of phone numbers."
            )
        yield line, value


def first_column(text: str) -> list[str]:
    """The first cell of each row that has one, for the API's text/csv bodies: read and checked as
    files are (check_text first), other columns ignored; a first row without digits is a header."""
    values = [cells[0].strip() for _line, cells in _rows(text) if cells and cells[0].strip()]
    if values and not any(character.isdigit() for character in values[0]):
        values = values[1:]
    if not values:  # as an empty file is refused: most likely the wrong body, not an empty list
        raise BadFile("No phone numbers in it: only blank lines or a header.")
    return values


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row; BadFile for a quote never closed or a line csv cannot read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    line = 0
    try:
        for cells in reader:
            first_line, line = line + 1, reader.line_num
            if line != first_line and any(cell.strip() for cell in cells):  # no phone number runs over lines
                raise BadFile(f"Line {first_line:,}: a quote (\") opened on this line is never closed.")
            yield line, cells
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise BadFile(
                f"Line {reader.line_num:,}: a value runs on for over 100 KB; is a quote (\") never closed?"
            ) from None
        raise BadFile(f"Line {reader.line_num:,} cannot be read as CSV ({error}).") from None


def _delimiter(text: str) -> str:
    """The separator most lines at the top use (a trailing one included); a comma when none."""
    lines = text[:65536].splitlines()[:200]
    lines = [_RFC_EXTENSION.sub("", line) for line in lines]  # `…0123;ext=5` is one value, not two
    counts = {delimiter: sum(delimiter in line for line in lines) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _is_header(value: str) -> bool:
    """`phone`, `Phone Number`, `Téléphone`, `DNC list`…: words, no digits."""
    return not any(character.isdigit() for character in value) and bool(_HEADER_WORDS.search(value))
