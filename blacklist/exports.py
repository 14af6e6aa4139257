"""CSV exports, streamed: a generator of lines, so 10 million rows export in constant memory."""

import csv
import io
from collections.abc import Iterable, Iterator

from django.utils import timezone

from .models import Status

# What a spreadsheet would run as a formula; it also reads the full-width forms (＝ ＋ － ＠, which
# Excel and LibreOffice fold to their ASCII ones) as formula starts.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
HEADER = ["number", "status", "added", "added by", "source", "last status change"]


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula: risky starts get a leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line, every field quoted; the caller neutralizes cells it must."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def number_rows(numbers) -> Iterator[list[str]]:
    """The export of a list tab: a header, then one row per number, read in chunks."""
    yield HEADER
    labels = dict(Status.choices)
    columns = ("phone", "status", "added_at", "added_by__username", "source_task__file_name", "status_changed_at")
    for phone, status, added_at, added_by, source, changed_at in numbers.values_list(*columns).iterator(5_000):
        yield [
            phone,  # validated E.164, only "+" and digits: exported as it is, as a quoted text cell
            labels[status],
            timezone.localtime(added_at).isoformat(timespec="seconds"),
            spreadsheet_safe(added_by or ""),
            spreadsheet_safe(source or "manual"),
            timezone.localtime(changed_at).isoformat(timespec="seconds"),
        ]
