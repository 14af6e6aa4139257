"""Reading the National Do-Not-Call Registry's files (docs/registry.md shows each form).

One pass, streaming: `RegistryReader.pieces()` yields a `Record` per readable line (or a `Block`
of a full list's plain lines, many at once) and counts the others (`Unreadable`, the first
MAX_KEPT kept with their line and text); nothing is guessed.
- flat text, one number a line: `2015550123` or `201,5550123`;
- change records, `number,A|D,date` (number in either form; `add`/`delete`; `YYYY-MM-DD` or `MM/DD/YYYY`);
- XML, `<Record>` elements (`AreaCode` + `PhoneNumber`, or a 10-digit `PhoneNumber`; `ChangeType`
  and `ChangeDate` in change lists), read with defusedxml: no DTD, no entities;
- any of these ZIP-compressed, one or more members: known by content, never by name.
A file that is not a registry file (binary junk, a corrupt ZIP, no readable line or mostly
unreadable ones, another area code's numbers under --area-code) raises `Refused`.
"""

import functools
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, NamedTuple

import phonenumbers
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from phonenumbers import geocoder

MAX_KEPT = 100  # unreadable lines kept with their text, for the job's page
ADD, DELETE = "A", "D"
FLAGS = {"a": ADD, "add": ADD, "added": ADD, "d": DELETE, "delete": DELETE, "deleted": DELETE}
_DIGITS = re.compile(r"\d+")
SNIFF = 4096  # bytes looked at to tell ZIP, XML, text and binary junk apart
BLOCK = 1 << 20  # bytes of text read at a time, cut after a line end: a block of plain lines is checked whole
PLAIN = 11  # bytes of a plain line: 10 digits and "\n"
BOM = b"\xef\xbb\xbf"


class Refused(ValueError):
    """A file refused whole, before anything changes: its message says why, for people."""


class Record(NamedTuple):  # a tuple: made 10 million times a file, a frozen dataclass costs twice as much
    number: int  # 10 digits, area code first
    change: str | None  # ADD or DELETE in a change list; None in a full list
    line: int


class Block(NamedTuple):
    """Lines of a full list that are all plain numbers of one area code, each 10 digits and a
    "\n" (a "\r\n" made "\n"): checked whole, in bytes, and read by numpy at once (registry.bitmaps)."""

    text: bytes
    area_code: int
    first_line: int


@dataclass(frozen=True)
class Unreadable:
    line: int
    text: str
    reason: str


@functools.cache
def area_code_exists(code: int) -> bool:
    """Whether `code` is a US (or US territory) area code in service, as libphonenumber knows them."""
    number = phonenumbers.parse(f"+1{code}2345678")
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in US_REGIONS


US_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP"}
STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC", "Washington D.C.": "DC", "Florida": "FL",
    "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA",
    "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE",
    "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR",
    "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA",  # libphonenumber's name for 206, 253, 360…
    "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Puerto Rico": "PR", "Guam": "GU", "U.S. Virgin Islands": "VI",
    "American Samoa": "AS", "Northern Mariana Islands": "MP",
}


@functools.cache
def state_of(code: int) -> str:
    """The two-letter state (or territory) of an area code, "" when libphonenumber does not say
    (a non-geographic code such as 800)."""
    number = phonenumbers.parse(f"+1{code}2345678")
    region = phonenumbers.region_code_for_number(number)
    if region in US_REGIONS - {"US"}:
        return region
    place = geocoder.description_for_number(number, "en")  # "New Jersey", or "New York, NY"
    if match := re.search(r", ([A-Z]{2})$", place):
        return match.group(1)
    return STATES.get(place, "")


@functools.lru_cache(maxsize=4096)  # a change list's million records share a few dates
def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD` or `MM/DD/YYYY`; None for anything else."""
    for form in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            pass
    return None


@dataclass
class RegistryReader:
    """Reads one stored file. `changes`: True for a change list, False for a full list, None to
    tell from the first readable line. `area_code`: refuse numbers of any other area code."""

    data: bytes
    changes: bool | None = None
    area_code: int | None = None
    lines: int = 0
    readable: int = 0
    unreadable: int = 0
    kept: list[Unreadable] = field(default_factory=list)
    area_codes: set[int] = field(default_factory=set)

    def pieces(self) -> Iterator[Record | Block]:
        """Every readable record, in file order, a full list's runs of plain lines of one area
        code as Blocks of text (read by numpy at once: no Python per line); then Refused if the
        file was not a registry file."""
        if self.data[:4] == b"PK\x03\x04" or self.data[:4] == b"PK\x05\x06":
            yield from self._zip()
        else:
            yield from self._member(io.BytesIO(self.data), "")
        if not self.readable:
            raise Refused(f"This is not a registry file: no line of it holds a phone number{self._example()}")
        if self.unreadable > self.readable:
            raise Refused(f"This is not a registry file: {self.unreadable:,} of its {self.lines:,} lines are not"
                          f" registry numbers{self._example()}")

    def _example(self) -> str:
        if not self.kept:
            return "."
        first = self.kept[0]
        return f" (line {first.line}: {first.reason}: {first.text!r})."

    def _zip(self) -> Iterator[Record | Block]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.data))
            members = [info for info in archive.infolist() if not info.is_dir()]
            if not members:
                raise Refused("The ZIP file holds no file.")
            for info in members:
                with archive.open(info) as member:
                    yield from self._member(member, info.filename)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as error:
            raise Refused(f"The ZIP file is truncated or corrupt ({error}); nothing was loaded.") from None

    def _member(self, stream: IO[bytes], name: str) -> Iterator[Record | Block]:
        head = stream.read(SNIFF)
        rest = io.BufferedReader(_Rest(head, stream))
        if b"\x00" in head:
            raise Refused(f"{name or 'The file'} is binary, not a registry file of text or XML.")
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            yield from self._xml(rest, name)
        else:
            yield from self._text(rest)

    def _text(self, stream: IO[bytes]) -> Iterator[Record | Block]:
        """The lines, a BLOCK of bytes at a time cut after its last "\n": a block of plain lines
        of one area code is one Block; any other block is read line by line."""
        rest, first = b"", True
        while True:
            data = stream.read(BLOCK)
            block = rest + data
            if data:
                end = block.rfind(b"\n") + 1
                block, rest = block[:end], block[end:]
                if not block:  # no line end yet
                    continue
            if first:
                block, first = block.removeprefix(BOM), False
            if plain := self._plain(block):
                yield plain
            else:
                for line_text in io.TextIOWrapper(io.BytesIO(block), encoding="utf-8", errors="replace", newline=None):
                    yield from self._line(line_text)
            if not data:
                return

    def _plain(self, block: bytes) -> Block | None:
        """The block as one Block if it is a full list's lines, each a plain number of one area code
        that exists (that of --area-code, if given); else None. Checked in bytes, at C speed."""
        text = block.replace(b"\r\n", b"\n") if b"\r" in block else block
        if text and not text.endswith(b"\n"):
            text += b"\n"  # the file's last line, without its line end
        count, odd = divmod(len(text), PLAIN)
        if self.changes is True or odd or not count or not text[:3].isdigit():
            return None
        code = int(text[:3])
        if self.area_code not in (None, code) or not (code >= 200 and area_code_exists(code)):
            return None
        if text[PLAIN - 1::PLAIN] != b"\n" * count or not text.replace(b"\n", b"").isdigit():
            return None
        if any(text[i::PLAIN] != text[i:i + 1] * count for i in range(3)):  # another area code
            return None
        piece = Block(text, code, self.lines + 1)
        self.lines += count
        self.readable += count
        self.changes = False
        self.area_codes.add(code)
        return piece

    def _line(self, line_text: str) -> Iterator[Record]:
        self.lines += 1
        text = line_text.strip()
        if not text:
            return
        if len(text) == 10 and text.isdigit() and self.changes is not True:  # a full list's usual line
            number = int(text)
            if (code := number // 10**7) in self.area_codes and self.area_code in (None, code):
                self.readable += 1
                self.changes = False
                yield Record(number, None, self.lines)
                return
        fields = [part.strip().strip('"') for part in text.split(",")]
        if len(fields) >= 2 and len(fields[0]) == 3 and len(fields[1]) == 7 and fields[1].isdigit():
            fields = [fields[0] + fields[1], *fields[2:]]  # "201,5550123"
        yield from self._record(fields[0], fields[1:3] if len(fields) > 1 else [], text, extra=len(fields) > 3)

    def _xml(self, stream: IO[bytes], name: str) -> Iterator[Record]:
        try:
            for _, element in iterparse(stream, forbid_dtd=True, forbid_entities=True, forbid_external=True):
                if _local(element.tag) != "record":
                    continue
                self.lines += 1
                values = {_local(child.tag): (child.text or "").strip() for child in element}
                element.clear()
                number = values.get("areacode", "") + values.get("phonenumber", "")
                change = [values[key] for key in ("changetype", "changedate") if key in values]
                text = ",".join(value for value in values.values())
                yield from self._record(number, change, text, extra=False)
        except (ParseError, DefusedXmlException) as error:
            raise Refused(f"{name or 'The file'} is not readable XML ({error}); nothing was loaded.") from None

    def _record(self, number_text: str, change: list[str], text: str, extra: bool) -> Iterator[Record]:
        line = self.lines
        reason = _number_problem(number_text) or ("too many fields" if extra else "")
        if not reason and self.changes is None:  # the first readable number tells a change list
            self.changes = bool(change)
        reason = reason or _change_problem(change, bool(self.changes))
        if reason:
            self.unreadable += 1
            if len(self.kept) < MAX_KEPT:
                self.kept.append(Unreadable(line, text[:100], reason))
            return
        number = int(number_text)
        code = number // 10**7
        if self.area_code is not None and code != self.area_code:
            raise Refused(f"Line {line} holds {number_text}, a number of area code {code}: this is not area code"
                          f" {self.area_code}'s file. Nothing was loaded.")
        self.area_codes.add(code)
        self.readable += 1
        yield Record(number, FLAGS[change[0].lower()] if self.changes else None, line)


def _number_problem(text: str) -> str:
    """Why `text` is not a registry number ("" if it is one)."""
    if not _DIGITS.fullmatch(text):
        return "not a phone number"
    if len(text) != 10:
        return f"{len(text)} digits, not 10"
    if text[0] in "01":
        return "an area code cannot start with 0 or 1"
    if not area_code_exists(int(text[:3])):
        return f"area code {text[:3]} does not exist"
    return ""


def _change_problem(change: list[str], in_change_list: bool) -> str:
    """Why a record's fields after the number do not fit its list ("" if they do)."""
    if not in_change_list:
        return "a change record in a full list" if change else ""
    if len(change) != 2:
        return "a change record needs the number, A or D, and the date"
    if change[0].lower() not in FLAGS:
        return f"{change[0]!r} is not A (added) or D (deleted)"
    if parse_date(change[1]) is None:
        return f"{change[1]!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)"
    return ""


def _local(tag) -> str:
    """An element's name without its namespace, lower-cased."""
    return str(tag).rsplit("}", 1)[-1].lower()


class _Rest(io.RawIOBase):
    """A stream read from its start again after its first bytes were sniffed."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size], self.head = self.head[:size], self.head[size:]
            return size
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
