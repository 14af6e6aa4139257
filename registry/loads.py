"""Loading the national registry's files: a full list replaces the numbers of each area code it
covers, a change list applies its adds and deletes. Each load is a TaskLog job (registry_load):
the upload or `manage.py import_registry` stores the file (save_file), a worker on the imports
queue or the command runs it (load).

A load reads its file once, streaming, into memory: for a full list, a bitmap per area code
(registry.bitmaps: 1.25 MB each, a block of plain lines set at once); for a change list, each
area code's records in file order. Its progress commits as it reads; nothing of the registry
changes while it does, so a file that is not a registry file is refused, once read, with nothing
changed. Then, in one transaction holding the job's row and its area codes' rows locked (a
second load of the same area code waits for it), for each area code: its stored bitmap is read,
the new one made (a full list's own; a change list's adds set and deletes cleared, each number's
last record in the file counting), the two counted against each other, and the exchanges whose
bits changed written (models.RegistryExchange). Readers see the area code's old rows until the
commit, then the new ones: never a half-loaded area code. A change list is refused for an area
code never loaded in full (its changes would apply to nothing known).
"""

import io
import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from blacklist.services import retry_on_deadlock
from tasks_logs import jobs
from tasks_logs.models import RejectedRow, TaskLog

from . import bitmaps
from .formats import ADD, PLAIN, STATES, Block, Record, Refused, RegistryReader, area_code_exists, state_of
from .models import AREA_SPAN, AreaCode, RegistryFile

logger = logging.getLogger(__name__)

CHUNK = 50_000  # records read between two progress reports

__all__ = ["Refused", "load", "save_file", "summary"]


def check_options(area_code: int | None, state: str, data_date: date | None = None) -> None:
    """Refused for an area code that does not exist, a state we do not know or a date of the data
    in the future (freshness counts from it), before storing anything."""
    if area_code is not None and not (200 <= area_code <= 999 and area_code_exists(area_code)):
        raise Refused(f"Area code {area_code} does not exist: it is no US area code in service. Nothing was loaded.")
    if state and state not in STATES.values():
        raise Refused(f"{state!r} is not a US state or territory (two letters, e.g. NJ). Nothing was loaded.")
    if data_date is not None and data_date > timezone.localdate():
        raise Refused(f"The date of the data, {data_date}, is in the future. Nothing was loaded.")


def save_file(
    name: str, content: bytes, *, changes: bool | None = None, area_code: int | None = None, state: str = "",
    data_date: date | None = None, user=None,
) -> TaskLog:
    """Store a registry file with a queued registry_load TaskLog, in one transaction; the caller
    sends the task once it commits, or runs `load` in the foreground. `changes`: a change list
    (True), a full list (False), or told by the file (None); `area_code`/`state`: the file is that
    one's (refused otherwise); `data_date`: the date of the registry's data (default: today)."""
    check_options(area_code, state, data_date)
    params = {"changes": changes, "area_code": area_code, "state": state,
              "data_date": (data_date or timezone.localdate()).isoformat()}
    with transaction.atomic():
        task_log = TaskLog.objects.create(kind=TaskLog.Kind.REGISTRY_LOAD, file_name=name[:255], created_by=user,
                                          params=params)
        RegistryFile.objects.create(task_log=task_log, content=content, size=len(content))
    return task_log


def load(task_log: TaskLog, on_progress: Callable[[int], None] | None = None) -> TaskLog:
    """Load the registry file stored with a registry_load TaskLog and record what happened on it.
    Safe to run twice: the changes and the counts commit together, once (see tasks_logs.jobs)."""
    if jobs.claim(task_log.pk, processed=0, total=0, phase=TaskLog.Phase.READING):
        with jobs.failing(task_log.pk, "The load failed and changed nothing"):
            try:
                params = task_log.params
                reader = RegistryReader(_stored_file(task_log.pk), changes=params["changes"],
                                        area_code=params["area_code"])
                jobs.set_phase(task_log.pk, TaskLog.Phase.CHECKING)
                report = _reporter(task_log.pk, on_progress)
                found = _read(reader, params["state"], report)
                report(reader.lines, TaskLog.Phase.MERGING)  # before the load locks the row
                _apply_once(task_log.pk, reader, found)
            except Refused as refusal:
                jobs.fail(task_log.pk, str(refusal))
    return TaskLog.objects.get(pk=task_log.pk)


def summary(task_log: TaskLog) -> str:
    """A registry load's counts in one line, as the command prints them."""
    return (f"{task_log.new:,} added, {task_log.deleted:,} deleted, {task_log.unchanged:,} unchanged,"
            f" {task_log.invalid:,} unreadable, {task_log.duplicates:,} repeated within the file.")


def _stored_file(task_log_id: int) -> bytes:
    """The bytes of the file stored with the job. PostgreSQL: read by a binary COPY, which sends
    the bytea as it is (a SELECT sends it as hex text, decoded in Python: twice the time at 100 MB)."""
    if connection.vendor != "postgresql":
        return bytes(RegistryFile.objects.values_list("content", flat=True).get(task_log_id=task_log_id))
    out = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY (SELECT content FROM {RegistryFile._meta.db_table}"  # noqa: S608 — table name ours
                           f" WHERE task_log_id = {int(task_log_id)}) TO STDOUT WITH (FORMAT binary)", out)
    data = out.getbuffer()
    # COPY's binary format: an 11-byte signature, flags, the header extension's length and
    # itself; then per row its field count (int16) and each field's length (int32) and bytes.
    (extension,) = struct.unpack_from("!i", data, 15)
    row = 19 + extension
    (field_count,) = struct.unpack_from("!h", data, row)
    if field_count == -1:  # the trailer: no row
        raise RegistryFile.DoesNotExist(f"No file is stored with job {task_log_id}.")
    (size,) = struct.unpack_from("!i", data, row + 2)
    return bytes(data[row + 6:row + 6 + size])


def _reporter(task_log_id: int, on_progress: Callable[[int], None] | None) -> Callable[..., None]:
    """How a load reports the lines read (and its phase): each report commits, for the Tasks Logs
    page to show at once. A write that fails stops the reports, never the load (as
    jobs.merge_reporter)."""
    reporting = True

    def report(lines: int, phase: str | None = None) -> None:
        nonlocal reporting
        if reporting:
            try:
                jobs.record_progress(task_log_id, processed=lines, **({"phase": phase} if phase else {}))
            except DatabaseError as error:
                logger.warning("TaskLog %s: its progress could not be written (%s); the load goes on",
                               task_log_id, error)
                reporting = False
        if on_progress:
            on_progress(lines)

    return report


@dataclass
class _Found:
    """What a file holds, per area code: a full list's bitmap, or a change list's records in file
    order (the numbers' last 7 digits, and whether each record adds)."""

    bits: dict[int, np.ndarray] = field(default_factory=dict)
    records: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    def add(self, numbers: np.ndarray, adds: np.ndarray | None) -> None:
        """Numbers read, in file order (with `adds`: a change list's)."""
        codes = numbers // AREA_SPAN
        groups: list[tuple[int, slice | np.ndarray]]
        if codes[0] == codes[-1] and (codes == codes[0]).all():  # the usual chunk: one area code
            groups = [(int(codes[0]), slice(None))]
        else:
            order = np.argsort(codes, kind="stable")  # each area code's records keep their order
            present, starts = np.unique(codes[order], return_index=True)
            groups = [(int(code), order[start:end]) for code, start, end
                      in zip(present, starts, [*starts[1:], len(order)], strict=True)]
        for code, which in groups:
            lines = numbers[which] - code * AREA_SPAN
            if adds is None:
                bitmaps.set_bits(self.bits.setdefault(code, bitmaps.empty()), lines)
            else:
                self.records.setdefault(code, []).append((lines, adds[which]))

    def last_records(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """A change list's numbers of the area code, each once (last 7 digits, in order), and
        whether its last record in the file adds it."""
        lines = np.concatenate([lines for lines, _ in self.records[code]])[::-1]
        adds = np.concatenate([adds for _, adds in self.records[code]])[::-1]
        unique, last = np.unique(lines, return_index=True)  # first seen from the end: the last record
        return unique, adds[last]


def _read(reader: RegistryReader, state: str, report: Callable[..., None]) -> _Found:
    """Read the stored file, CHUNK records at a time; Refused if it is not a registry file (or
    not the area code's or state's it was loaded as)."""
    found = _Found()
    pieces = reader.pieces()
    while chunk := _chunk(pieces):
        for piece in chunk:
            if isinstance(piece, Block):  # a full list's plain lines, all at once
                found.add(bitmaps.plain_numbers(piece.text), None)
        if records := [piece for piece in chunk if isinstance(piece, Record)]:
            numbers = np.fromiter((record.number for record in records), np.int64, len(records))
            found.add(numbers, np.fromiter((record.change == ADD for record in records), bool, len(records))
                      if reader.changes else None)
        report(reader.lines)
    if state and (others := sorted(code for code in reader.area_codes if state_of(code) != state)):
        raise Refused(f"Area code(s) {', '.join(map(str, others))} are not in {state}: this is not"
                      f" {state}'s file. Nothing was loaded.")
    return found


def _chunk(pieces: Iterator) -> list:
    """The next pieces of the file, CHUNK records' worth (a Block counts its lines)."""
    chunk, size = [], 0
    for piece in pieces:
        chunk.append(piece)
        size += len(piece.text) // PLAIN if isinstance(piece, Block) else 1
        if size >= CHUNK:
            break
    return chunk


@dataclass
class _Counts:
    added: int = 0
    deleted: int = 0
    unchanged: int = 0
    distinct: int = 0  # the file's numbers, each counted once
    listed: int = 0  # the area code's numbers after the load


@retry_on_deadlock
def _apply_once(task_log_id: int, reader: RegistryReader, found: _Found) -> None:
    """A load's one transaction: the registry's changes, the unreadable lines and the counts."""
    if not (task_log := jobs.locked(task_log_id)):  # another run of the same job got here first
        return
    codes = sorted(reader.area_codes)
    full = not reader.changes
    if full:
        AreaCode.objects.bulk_create([AreaCode(code=code, state=state_of(code)) for code in codes],
                                     ignore_conflicts=True)
    area_codes = {area.code: area for area in AreaCode.objects.select_for_update().filter(code__in=codes)}
    if not full and (never := [code for code in codes if code not in area_codes
                               or area_codes[code].loaded_at is None]):
        raise Refused(f"Area code(s) {', '.join(map(str, never))} were never loaded in full: load a full list"
                      " first, then its change lists. Nothing was changed.")
    counts: dict[int, _Counts] = {}
    with jobs.merge_reporter(task_log_id, len(codes)) as report:
        for done, code in enumerate(codes, 1):
            old = bitmaps.stored(code)
            new, counts[code] = _replaced(old, found.bits[code]) if full else _changed(old, *found.last_records(code))
            bitmaps.store(code, old, new)
            report(done)
    _record(task_log, reader, area_codes, counts)


def _replaced(old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, _Counts]:
    """A full list's bitmap in place of the stored one, counted against it."""
    unchanged, listed = bitmaps.count(new & old), bitmaps.count(new)
    return new, _Counts(added=listed - unchanged, deleted=bitmaps.count(old) - unchanged, unchanged=unchanged,
                        distinct=listed, listed=listed)


def _changed(old: np.ndarray, lines: np.ndarray, adds: np.ndarray) -> tuple[np.ndarray, _Counts]:
    """The stored bitmap with a change list's adds set and deletes cleared (`lines`: each number
    once; `adds`: whether its last record adds it)."""
    were = bitmaps.are_set(old, lines)
    new = old.copy()
    bitmaps.set_bits(new, lines[adds])
    bitmaps.clear_bits(new, lines[~adds])
    added, deleted = int((adds & ~were).sum()), int((~adds & were).sum())
    return new, _Counts(added=added, deleted=deleted, unchanged=len(lines) - added - deleted, distinct=len(lines),
                        listed=bitmaps.count(new))


def _record(task_log: TaskLog, reader: RegistryReader, area_codes: dict[int, AreaCode],
            counts: dict[int, _Counts]) -> None:
    """The area codes' freshness and counts, the unreadable lines, the job's result: in the load's transaction."""
    now = timezone.now()
    data_date = date.fromisoformat(task_log.params["data_date"])
    for code, area in area_codes.items():
        count = counts[code]
        area.numbers = count.listed
        area.data_date, area.loaded_at, area.last_load = data_date, now, task_log
    AreaCode.objects.bulk_update(area_codes.values(), ["numbers", "data_date", "loaded_at", "last_load"])
    RejectedRow.objects.bulk_create(
        RejectedRow(task_log=task_log, line=kept.line, value=kept.text, reason=kept.reason) for kept in reader.kept)
    total = _Counts(*(sum(getattr(count, field.name) for count in counts.values()) for field in fields(_Counts)))
    task_log.total = task_log.processed = reader.lines
    task_log.new, task_log.deleted, task_log.unchanged = total.added, total.deleted, total.unchanged
    task_log.duplicates, task_log.invalid = reader.readable - total.distinct, reader.unreadable
    what = "change list" if reader.changes else "full list"
    codes = ", ".join(map(str, sorted(area_codes)))
    unreadable = ""
    if reader.unreadable:
        listed = f" (the first {len(reader.kept)} are listed)" if reader.unreadable > len(reader.kept) else ""
        unreadable = f" {reader.unreadable:,} unreadable line(s) were skipped{listed}: see below."
    jobs.finish(task_log, f"The {what} of area code(s) {codes} was loaded (data of {data_date:%Y-%m-%d}).{unreadable}")

