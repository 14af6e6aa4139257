"""CSV downloads, the one writer: streamed line by line (10 million rows in constant memory),
UTF-8 with a byte order mark (so Excel reads it as UTF-8), and every cell safe in a spreadsheet.
On PostgreSQL a tab's export is written by the database itself (one COPY), byte for byte the file
the Python writer makes."""

import contextlib
import csv
import io
import itertools
import queue
import threading
from collections.abc import Iterable, Iterator

from django.db import connections
from django.db.models import Case, CharField, Func, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.http import StreamingHttpResponse
from django.utils import timezone
from psycopg2 import errors, extensions

from .models import Status
from .phones import E164

# What a spreadsheet would run as a formula; it also reads the full-width forms (＝ ＋ － ＠, which
# Excel and LibreOffice fold to their ASCII ones) as formula starts.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
HEADER = ["number", "status", "added", "added by", "source", "last status change", "list"]


def csv_download(rows: Iterable[Iterable], file_name: str) -> StreamingHttpResponse:
    """Every CSV download: `rows` (a header first) streamed as an attachment named `file_name`."""
    return _attachment(itertools.chain(["\ufeff"], csv_lines(rows)), file_name)


def numbers_download(numbers, file_name: str) -> StreamingHttpResponse:
    """The export of a list tab: `numbers` in their order, as csv_download(number_rows(numbers))
    sends them; on PostgreSQL the same bytes come from one COPY, several times faster."""
    if connections[numbers.db].vendor != "postgresql":
        return csv_download(number_rows(numbers), file_name)
    header = "\ufeff" + next(csv_lines([HEADER]))
    return _attachment(itertools.chain([header.encode()], copied_rows(numbers)), file_name)


def _attachment(content: Iterable, file_name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula: risky starts get a leading apostrophe. An
    E.164 number (`+` and digits, at most a number to a spreadsheet) stays as it is."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) and not E164.match(text) else text


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line, every field quoted and made spreadsheet_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def number_rows(numbers) -> Iterator[list]:
    """The export of a list tab: a header, then one row per number, read in chunks."""
    yield HEADER
    labels = dict(Status.choices)
    columns = ("phone", "status", "added_at", "added_by__username", "source_task__file_name", "status_changed_at",
               "dnc_list__name")
    rows = numbers.values_list(*columns).iterator(5_000)
    for phone, status, added_at, added_by, source, changed_at, dnc_list in rows:
        yield [
            phone,
            labels[status],
            timezone.localtime(added_at).isoformat(timespec="seconds"),
            added_by,
            source or "manual",
            timezone.localtime(changed_at).isoformat(timespec="seconds"),
            dnc_list,
        ]


# COPY hands over one row per write; rows are gathered into chunks of about this size for the response.
COPY_CHUNK_BYTES = 256 * 1024
COPY_CHUNKS_AHEAD = 4  # the most the database may run ahead of the client: memory stays flat
# E164 as PostgreSQL reads it: Python's `$` also matches before a final newline.
E164_SQL = E164.pattern.removesuffix("$") + r"\n?$"
E164_STARTS = ", ".join(f"'+{digit}'" for digit in "123456789")
LOCAL_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'  # isoformat(timespec="seconds") in the session's zone


class SpreadsheetSafe(Func):
    """spreadsheet_safe in PostgreSQL, for a text that is never NULL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        text, params = compiler.compile(self.source_expressions[0])
        starts = ", ".join(["%s"] * len(FORMULA_STARTS))
        # E164 without the regular expression engine, which costs more than the rest of a row: "+",
        # a digit 1-9, then 1 to 14 more digits. What this misses (a final newline) the pattern judges.
        e164 = (f"ltrim(substr({text}, 3), '0123456789') = '' AND left({text}, 2) IN ({E164_STARTS})"
                f" AND length({text}) BETWEEN 3 AND 16")
        sql = (f"CASE WHEN left({text}, 1) NOT IN ({starts}) THEN {text} WHEN {e164} THEN {text}"
               f" WHEN {text} ~ %s THEN {text} ELSE '''' || {text} END")
        return sql, (*params, *FORMULA_STARTS, *params * 6, E164_SQL, *params * 2)


def _local_time(field: str) -> Func:
    return Func(field, Value(LOCAL_TIME_FORMAT), function="to_char", output_field=CharField())


def export_columns(numbers):
    """number_rows's cells as SQL expressions over the same filtered, ordered `numbers`."""
    status = Case(*[When(status=value, then=Value(label)) for value, label in Status.choices],
                  output_field=CharField())
    return numbers.values_list(
        SpreadsheetSafe("phone"),
        status,
        _local_time("added_at"),
        SpreadsheetSafe(Coalesce("added_by__username", Value(""))),
        SpreadsheetSafe(Coalesce(NullIf("source_task__file_name", Value("")), Value("manual"))),
        _local_time("status_changed_at"),
        SpreadsheetSafe("dnc_list__name"),
    )


def copied_rows(numbers) -> Iterator[bytes]:
    """number_rows's CSV lines but the header, made by one COPY in the database: a reader thread
    runs it on this request's connection (the request is idle while its response streams) and
    hands chunks over a short queue, so a 10-million-row export holds a few chunks at a time."""
    database = connections[numbers.db]
    sql, params = export_columns(numbers).query.get_compiler(numbers.db).as_sql()
    database.ensure_connection()
    raw = database.connection
    with raw.cursor() as cursor:  # COPY takes no parameters: the driver quotes them in
        copy = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)", params)
    chunks: queue.Queue = queue.Queue(COPY_CHUNKS_AHEAD)
    reader = threading.Thread(target=_copy_into, args=(raw, copy, timezone.get_current_timezone_name(), chunks),
                              daemon=True)
    reader.start()
    finished = False
    try:
        while (chunk := chunks.get()) is not None:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk
        finished = True
    finally:
        if not finished and reader.is_alive():  # the client went away: stop the query, free the connection
            raw.cancel()
            while reader.is_alive():
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.1)
        reader.join()


def _copy_into(raw, copy: bytes, zone: str, chunks: queue.Queue) -> None:
    """Run `copy` with dates shown in `zone`, putting its chunks, then None (or the error), on `chunks`."""
    try:
        with raw.cursor() as cursor:
            cursor.execute("SELECT current_setting('TimeZone')")
            (usual_zone,) = cursor.fetchone()
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [zone])  # what to_char's TZH:TZM show
            try:
                rows = _CopiedRows(chunks)
                cursor.copy_expert(copy, rows)
                rows.flush()
            finally:
                _restore_zone(raw, cursor, usual_zone)
    except Exception as error:
        chunks.put(error)
    else:
        chunks.put(None)


def _restore_zone(raw, cursor, zone: str) -> None:
    """Django reads every date as UTC: put the session's zone back (a failed transaction undoes the
    setting on its own). A cancel sent as the COPY ended may land on the first try."""
    for attempt in range(2):
        if raw.info.transaction_status == extensions.TRANSACTION_STATUS_INERROR:
            return
        try:
            cursor.execute("SELECT set_config('TimeZone', %s, false)", [zone])
            return
        except errors.QueryCanceled:
            if attempt:
                raise


class _CopiedRows:
    """The file COPY writes to, one row per write: rows gathered into chunks on the queue, each
    ending in CR LF as Python's csv writer ends a line (COPY ends one with LF alone)."""

    def __init__(self, chunks: queue.Queue):
        self.chunks = chunks
        self.buffer = bytearray()

    def write(self, row: bytes) -> None:
        self.buffer += row[:-1]
        self.buffer += b"\r\n"
        if len(self.buffer) >= COPY_CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.chunks.put(bytes(self.buffer))
            self.buffer.clear()
