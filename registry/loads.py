"""Loading the national registry's files: a full list replaces the numbers of each area code it
covers, a change list applies its adds and deletes. Each load is a TaskLog job (registry_load):
the upload or `manage.py import_registry` stores the file (save_file), a worker on the imports
queue or the command runs it (load).

A load reads its file once, streaming. On PostgreSQL the whole load is one transaction (its
progress committed through a second connection): a full list of one area code is COPYed (FREEZE)
straight into that area code's new table, a block of plain lines at a time as the file has them
(formats.Block); any other file goes into a temporary table (`incoming_registry`: COPY). On
SQLite the file goes into that table by executemany, its progress committed as it goes. A file
that is not a registry file is refused once read, before anything changes. Then, holding the
job's row and its area codes' rows locked (a second load of the same area code waits for it),
the load changes the registry and records the counts:
- a full list, on PostgreSQL: each area code's new table gets its primary key, is counted against
  the old partition (one merge join; nothing on a first load), then the old partition is detached
  and dropped and the new table attached (its CHECK spares ATTACH its scan). Readers never see a
  half-loaded area code: they read the old partition until the commit, then the new one. On
  SQLite: the area code's gone numbers deleted and its new ones inserted, in the one transaction;
- a change list: for each number its last record in the file counts; adds are inserted
  (ON CONFLICT DO NOTHING) and deletes deleted, set-based; refused for an area code never loaded
  in full (its changes would apply to nothing known).
"""

import io
import logging
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from blacklist.services import retry_on_deadlock
from tasks_logs import jobs
from tasks_logs.models import RejectedRow, TaskLog

from .formats import PLAIN, STATES, Block, Refused, RegistryReader, area_code_exists, state_of
from .models import AREA_SPAN, AreaCode, RegistryFile, RegistryNumber

logger = logging.getLogger(__name__)

TABLE = RegistryNumber._meta.db_table
STAGED = "incoming_registry"
NULL = "\\N"  # in COPY's text format
STAGE_CHUNK = 50_000  # records per COPY (executemany on SQLite); progress is committed between them

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
                with _staging_table() as cursor, _reading(task_log.pk, on_progress) as progress:
                    loaded = _stage(cursor, task_log, reader, progress)
                    progress(reader.lines, TaskLog.Phase.MERGING)  # before the load locks the row
                    _apply_once(task_log.pk, reader, loaded)
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


@contextmanager
def _staging_table() -> Iterator:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")  # a crashed run's, on this connection
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGED} (number bigint NOT NULL, change char(1),"
                       " line integer NOT NULL DEFAULT 0)")
        try:
            yield cursor
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED}")


@contextmanager
def _reading(task_log_id: int, on_progress: Callable[[int], None] | None) -> Iterator[Callable[..., None]]:
    """Where a load runs, and how it reports the lines read (and its phase). PostgreSQL: one
    transaction from the file's first line to the commit of its changes, so a one-area-code full
    list's table is created and COPYed (FREEZE) in it and a refused or crashed load leaves nothing;
    its progress is committed through a second connection, as jobs.merge_reporter does (a write
    that fails stops the reports, never the load). SQLite:
    no transaction around the reading (its one write lock would hold the progress back); each
    report commits."""
    def report(lines: int, phase: str | None = None) -> None:
        TaskLog.objects.filter(pk=task_log_id, state=TaskLog.State.RUNNING).update(
            processed=lines, updated_at=timezone.now(), **({"phase": phase} if phase else {}))
        if on_progress:
            on_progress(lines)

    if connection.vendor != "postgresql":
        yield report
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    reporting = True

    def report_aside(lines: int, phase: str | None = None) -> None:
        nonlocal reporting
        if reporting:
            try:
                with side.cursor() as cursor:
                    cursor.execute(f"UPDATE {TaskLog._meta.db_table} SET processed = %s, updated_at = %s,"  # noqa: S608 — table name ours
                                   " phase = coalesce(%s, phase) WHERE id = %s AND state = %s",
                                   [lines, timezone.now(), phase, task_log_id, TaskLog.State.RUNNING])
            except DatabaseError as error:  # as jobs.merge_reporter: a failed write stops the reports, never the load
                logger.warning("TaskLog %s: its progress could not be written (%s); the load goes on",
                               task_log_id, error)
                reporting = False
        if on_progress:
            on_progress(lines)

    try:
        with transaction.atomic():
            yield report_aside
    finally:
        side.close()


def _stage(cursor, task_log: TaskLog, reader: RegistryReader, report) -> str | None:
    """Read the stored file, STAGE_CHUNK records at a time; Refused if it is not a registry file
    (or not the area code's or state's it was loaded as). On PostgreSQL a full list of one area
    code goes straight into its new table (COPY FREEZE, its plain lines as they are: see
    formats.Block), whose name is returned; anything else goes into the staging table (None)."""
    params = task_log.params
    postgresql = connection.vendor == "postgresql"
    pieces = reader.pieces() if postgresql else reader.records()
    loaded: str | None = None  # the new table of the one area code read so far (PostgreSQL, full list)
    while chunk := _chunk(pieces):
        if not postgresql:
            cursor.executemany(f"INSERT INTO {STAGED} VALUES (%s, %s, %s)",  # noqa: S608 — table name ours
                               [(record.number, record.change, record.line) for record in chunk])
        elif reader.changes:
            text = "".join(f"{record.number}\t{record.change}\t{record.line}\n" for record in chunk)
            cursor.copy_expert(f"COPY {STAGED} FROM STDIN", io.StringIO(text))
        else:
            codes = {piece.area_code if isinstance(piece, Block) else piece.number // AREA_SPAN for piece in chunk}
            if loaded is None and len(codes) == 1 and not reader.area_codes - codes:  # the first chunk
                loaded = _create_new_table(cursor, codes.pop(), task_log.pk)
            elif loaded is not None and reader.area_codes != {_code_of(loaded)}:  # another area code: staged after all
                cursor.execute(f"INSERT INTO {STAGED} (number) SELECT number FROM {loaded}")  # noqa: S608 — table names ours
                cursor.execute(f"DROP TABLE {loaded}")
                loaded = None
            data = b"".join(piece.text if isinstance(piece, Block) else b"%d\n" % piece.number for piece in chunk)
            into = f"{loaded} FROM STDIN WITH (FREEZE)" if loaded else f"{STAGED} (number) FROM STDIN"
            cursor.copy_expert(f"COPY {into}", io.BytesIO(data))
        report(reader.lines)
    if params["state"] and (others := sorted(code for code in reader.area_codes if state_of(code) != params["state"])):
        raise Refused(f"Area code(s) {', '.join(map(str, others))} are not in {params['state']}: this is not"
                      f" {params['state']}'s file. Nothing was loaded.")
    if not loaded and (len(reader.area_codes) > 1 or reader.changes):  # each area code (number's last record) by index
        cursor.execute(f"CREATE INDEX {STAGED}_number ON {STAGED} (number, line)")
    return loaded


def _chunk(pieces: Iterator) -> list:
    """The next pieces of the file, STAGE_CHUNK records' worth (a Block counts its lines)."""
    chunk, size = [], 0
    for piece in pieces:
        chunk.append(piece)
        size += len(piece.text) // PLAIN if isinstance(piece, Block) else 1
        if size >= STAGE_CHUNK:
            break
    return chunk


def _new_table(code: int, task_log_id: int) -> str:
    """The table a load builds an area code's new partition in: the job's own (two loads of one
    area code may read their files at once; they apply one after the other)."""
    return f"{TABLE}_{code}_load{task_log_id}"


def _create_new_table(cursor, code: int, task_log_id: int) -> str:
    """An area code's new table, empty, with the CHECK matching its partition's bounds (checked
    row by row as the numbers come, it spares ATTACH PARTITION its scan of the table)."""
    low, high = _bounds(code)
    new = _new_table(code, task_log_id)
    cursor.execute(f"CREATE TABLE {new} (number bigint NOT NULL,"
                   f" CONSTRAINT {new}_range CHECK (number >= {low} AND number < {high}))")
    return new


def _code_of(table: str) -> int:
    return int(table.removeprefix(f"{TABLE}_").split("_")[0])


@dataclass
class _Counts:
    added: int = 0
    deleted: int = 0
    unchanged: int = 0
    distinct: int = 0  # the file's numbers, each counted once


@retry_on_deadlock
def _apply_once(task_log_id: int, reader: RegistryReader, loaded: str | None) -> None:
    """A load's one transaction: the registry's changes, the unreadable lines and the counts."""
    if not (task_log := jobs.locked(task_log_id)):  # another run of the same job got here first
        return
    codes = sorted(reader.area_codes)
    full = not reader.changes
    postgresql = connection.vendor == "postgresql"
    counts: dict[int, _Counts] = {}
    with connection.cursor() as cursor:
        if full and postgresql:  # full loads one at a time (each swaps partitions); readers and change lists go on
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE")
        if full:
            AreaCode.objects.bulk_create([AreaCode(code=code, state=state_of(code)) for code in codes],
                                         ignore_conflicts=True)
        area_codes = {area.code: area for area in AreaCode.objects.select_for_update().filter(code__in=codes)}
        if not full and (never := [code for code in codes if code not in area_codes
                                   or area_codes[code].loaded_at is None]):
            raise Refused(f"Area code(s) {', '.join(map(str, never))} were never loaded in full: load a full list"
                          " first, then its change lists. Nothing was changed.")
        with jobs.merge_reporter(task_log_id, len(codes)) as report:
            for done, code in enumerate(codes, 1):
                if not full:
                    counts[code] = _apply_changes(cursor, code)
                elif postgresql:
                    counts[code] = _build_partition(cursor, code, *((loaded, reader.readable) if loaded
                                                                     else _staged_table(cursor, code, task_log_id)))
                else:
                    counts[code] = _replace_sqlite(cursor, code)
                report(done)
        if full and postgresql:  # the swaps last: the parent's exclusive lock is held only from here to the commit
            for code in codes:
                _swap_partition(cursor, code, loaded or _new_table(code, task_log_id))
    _record(task_log, reader, area_codes, counts)


def _bounds(code: int) -> tuple[int, int]:
    return code * AREA_SPAN, (code + 1) * AREA_SPAN


def _staged_table(cursor, code: int, task_log_id: int) -> tuple[str, int]:
    """An area code's numbers of a staged full list (of several area codes) in its new table,
    and how many."""
    low, high = _bounds(code)
    new = _create_new_table(cursor, code, task_log_id)
    cursor.execute(f"INSERT INTO {new} SELECT number FROM {STAGED} WHERE number >= {low} AND number < {high}")  # noqa: S608 — table names ours
    return new, cursor.rowcount


def _build_partition(cursor, code: int, new: str, rows: int) -> _Counts:
    """The new table holding a full list's `rows` numbers of one area code made ready to be its
    partition: its primary key; counted against the partition it replaces. A registry file
    repeats no number, so the primary key is built on the numbers as they came; only if that
    finds one repeated are the repeats deleted first."""
    distinct = rows
    try:
        with transaction.atomic():
            cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {new}_pkey PRIMARY KEY (number)")
    except IntegrityError:  # a number repeated within the file
        cursor.execute(f"DELETE FROM {new} repeat USING {new} first"  # noqa: S608 — table name ours
                       " WHERE repeat.number = first.number AND repeat.ctid > first.ctid")
        distinct -= cursor.rowcount
        cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {new}_pkey PRIMARY KEY (number)")
    cursor.execute("SELECT to_regclass(%s)", [f"{TABLE}_{code}"])
    if cursor.fetchone()[0] is None:  # a first load: nothing to count against
        return _Counts(added=distinct, distinct=distinct)
    # One merge join of the two primary keys (index-only scans: COPY FREEZE set the new table's
    # pages all-visible, and the old partition's), counting the old numbers and those in both.
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute(f"SELECT count(old.number), count(old.number) FILTER (WHERE new.number IS NOT NULL)"  # noqa: S608 — table names ours
                   f" FROM {TABLE}_{code} old LEFT JOIN {new} new USING (number)")
    old, unchanged = cursor.fetchone()
    cursor.execute("RESET enable_hashjoin")
    cursor.execute("RESET enable_nestloop")
    return _Counts(added=distinct - unchanged, deleted=old - unchanged, unchanged=unchanged, distinct=distinct)


def _swap_partition(cursor, code: int, new: str) -> None:
    """Detach and drop an area code's partition, attach its new table in its place."""
    low, high = _bounds(code)
    partition = f"{TABLE}_{code}"
    cursor.execute("SELECT to_regclass(%s)", [partition])
    if cursor.fetchone()[0] is not None:
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition}")
        cursor.execute(f"DROP TABLE {partition}")
    cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {new} FOR VALUES FROM ({low}) TO ({high})")
    cursor.execute(f"ALTER TABLE {new} DROP CONSTRAINT {new}_range")  # the partition's bounds say it now
    cursor.execute(f"ALTER TABLE {new} RENAME TO {partition}")
    cursor.execute(f"ALTER INDEX {new}_pkey RENAME TO {partition}_pkey")


def _replace_sqlite(cursor, code: int) -> _Counts:
    """SQLite: an area code's numbers gone from the full list deleted, its new ones inserted."""
    low, high = _bounds(code)
    in_file = f"SELECT number FROM {STAGED} WHERE number >= %s AND number < %s"  # noqa: S608 — table name ours
    cursor.execute(f"SELECT count(DISTINCT number) FROM {STAGED} WHERE number >= %s AND number < %s", [low, high])  # noqa: S608 — table name ours
    distinct = cursor.fetchone()[0]
    cursor.execute(f"DELETE FROM {TABLE} WHERE number >= %s AND number < %s AND number NOT IN ({in_file})",  # noqa: S608 — table names ours
                   [low, high, low, high])
    deleted = cursor.rowcount
    cursor.execute(f"INSERT INTO {TABLE} (number) SELECT DISTINCT number FROM {STAGED}"  # noqa: S608 — table names ours
                   " WHERE number >= %s AND number < %s ORDER BY number ON CONFLICT DO NOTHING", [low, high])
    added = cursor.rowcount
    return _Counts(added=added, deleted=deleted, unchanged=distinct - added, distinct=distinct)


# A change list's records that count: each number's last in the file.
_LAST = (f"SELECT i.number FROM {STAGED} i WHERE i.number >= %s AND i.number < %s AND i.change = %s"  # noqa: S608 — table name ours
         f" AND i.line = (SELECT max(j.line) FROM {STAGED} j WHERE j.number = i.number)")


def _apply_changes(cursor, code: int) -> _Counts:
    """A change list's adds and deletes for one area code, set-based."""
    low, high = _bounds(code)
    cursor.execute(f"INSERT INTO {TABLE} (number) {_LAST} ORDER BY i.number ON CONFLICT DO NOTHING", [low, high, "A"])
    added = cursor.rowcount
    cursor.execute(f"DELETE FROM {TABLE} WHERE number >= %s AND number < %s AND number IN ({_LAST})",  # noqa: S608 — table name ours
                   [low, high, low, high, "D"])
    deleted = cursor.rowcount
    cursor.execute(f"SELECT count(DISTINCT number) FROM {STAGED} WHERE number >= %s AND number < %s", [low, high])  # noqa: S608 — table name ours
    distinct = cursor.fetchone()[0]
    return _Counts(added=added, deleted=deleted, unchanged=distinct - added - deleted, distinct=distinct)


def _record(task_log: TaskLog, reader: RegistryReader, area_codes: dict[int, AreaCode],
            counts: dict[int, _Counts]) -> None:
    """The area codes' freshness and counts, the unreadable lines, the job's result: in the load's transaction."""
    now = timezone.now()
    data_date = date.fromisoformat(task_log.params["data_date"])
    for code, area in area_codes.items():
        count = counts[code]
        area.numbers = area.numbers + count.added - count.deleted if reader.changes else count.distinct
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

