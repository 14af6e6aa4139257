"""CSV downloads, the one writer: streamed line by line (10 million rows in constant memory),
UTF-8 with a byte order mark (so Excel reads it as UTF-8), and every cell safe in a spreadsheet."""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Status
from .phones import E164

# What a spreadsheet would run as a formula; it also reads the full-width forms (＝ ＋ － ＠, which
# Excel and LibreOffice fold to their ASCII ones) as formula starts.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
HEADER = ["number", "status", "added", "added by", "source", "last status change", "list"]


def csv_download(rows: Iterable[Iterable], file_name: str) -> StreamingHttpResponse:
    """Every CSV download: `rows` (a header first) streamed as an attachment named `file_name`."""
    lines = itertools.chain(["\ufeff"], csv_lines(rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
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
