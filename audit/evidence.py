"""A number's evidence record (docs/compliance.md): what it is now, whether its request was
honoured in time, and every event, as one plain structure that the page shows and the JSON and
CSV downloads serialize byte for byte the same way each time, so the SHA-256 printed on the
page identifies the exact file downloaded."""

import hashlib
import itertools
import json
from datetime import UTC, date, datetime

from django.utils import timezone

from blacklist.deadlines import business_days_between, business_days_late
from blacklist.exports import csv_lines
from blacklist.models import BlacklistedNumber, Channel, Status

from .models import Event

FORMAT = "dnc-evidence-record/1"
HONOURED = (Status.APPROVED, Status.PERMANENT)
STATUS = dict(Status.choices)
CHANNEL = dict(Channel.choices)
EVENT_COLUMNS = ["id", "at", "action", "from_status", "to_status", "by", "via", "api_key", "task", "file_name",
                 "line", "reason", "channel", "received_at", "deadline", "business_days_late", "note"]
STATE_FIELDS = ["status", "reason", "channel", "received_at", "deadline", "deadline_outcome", "honoured_at",
                "days_late", "note", "expires_at", "added_at", "added_by", "status_changed_at", "file_name", "line",
                "task"]


def utc(moment: datetime | None) -> str | None:
    """One spelling for every instant: UTC, to the second, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def record(phone: str, today: date | None = None) -> dict:
    """The evidence record of a number (E.164), listed or not; `today` (TIME_ZONE) judges open deadlines."""
    today = today or timezone.localdate()
    events = list(Event.objects.filter(phone=phone).select_related("task").order_by("at", "id"))
    number = (BlacklistedNumber.objects.filter(phone=phone)
              .select_related("reason", "added_by", "source_task").first())
    last = events[-1] if events else None
    removed = None
    if number is None and last is not None and last.action in (Event.Action.REMOVED, Event.Action.EXPIRED):
        removed = {"action": last.get_action_display(), "at": utc(last.at), "by": last.actor, "note": last.note}
    return {
        "format": FORMAT,
        "number": phone,
        "as_of": day(today),
        "listed": number is not None,
        "current": _state(number, events, today) if number else None,
        "removed": removed,
        "events": [_event(event) for event in events],
    }


def _state(number: BlacklistedNumber, events: list[Event], today: date) -> dict:
    # The current listing began at its latest `added` event; its request was honoured when the
    # number was first approved (as the review tab and the compliance report count it), even
    # where the dialer already stops numbers under review (BLOCK_NUMBERS_UNDER_REVIEW).
    since = max((i for i, event in enumerate(events) if event.action == Event.Action.ADDED), default=0)
    honoured = next((event.at for event in events[since:] if event.honours_request), None)
    if honoured is None and number.status in HONOURED:
        honoured = number.status_changed_at  # approved before events were recorded
    outcome, late = _outcome(number.deadline, honoured, today)
    # Who added it as its `added` event names them: a user, or an API key (whose creator is added_by).
    added_by = events[since].actor if events and events[since].action == Event.Action.ADDED else None
    task = number.source_task
    return {
        "status": STATUS[number.status],
        "reason": number.reason.name,
        "channel": CHANNEL.get(number.channel, number.channel),
        "received_at": utc(number.received_at),
        "deadline": day(number.deadline),
        "deadline_outcome": outcome,
        "honoured_at": utc(honoured),
        "days_late": late,
        "note": number.note,
        "expires_at": utc(number.expires_at),
        "added_at": utc(number.added_at),
        "added_by": added_by or (number.added_by.get_username() if number.added_by else None),
        "status_changed_at": utc(number.status_changed_at),
        "file_name": task.file_name if task else None,
        "line": number.source_line,
        "task": number.source_task_id,
    }


def _outcome(deadline: date, honoured: datetime | None, today: date) -> tuple[str, int | None]:
    """met / met late / open / overdue, and by how many business days past the deadline (counted
    as Activity and the review tab count them: deadlines.business_days_late)."""
    if honoured is not None:
        late = business_days_late(deadline, honoured)
        return ("met late", late) if late > 0 else ("met", None)
    return ("overdue", business_days_between(deadline, today)) if today > deadline else ("open", None)


def _event(event: Event) -> dict:
    return {
        "id": event.pk,
        "at": utc(event.at),
        "action": event.get_action_display(),
        "from_status": STATUS.get(event.from_status) if event.from_status else None,
        "to_status": STATUS.get(event.to_status) if event.to_status else None,
        "by": event.actor,
        "via": event.get_via_display(),
        "api_key": event.api_key_id,
        "task": event.task_id,
        "file_name": event.task.file_name if event.task and event.task.file_name else None,
        "line": event.line,
        "reason": event.reason,
        "channel": CHANNEL.get(event.channel, event.channel) if event.channel else None,
        "received_at": utc(event.received_at),
        "deadline": day(event.deadline),
        "business_days_late": event.days_late or None,  # on the event that honoured its request late
        "note": event.note,
    }


def as_json(evidence: dict) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8, no trailing newline."""
    return json.dumps(evidence, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def csv_rows(evidence: dict):
    """The CSV download's rows: the record's facts as `field, value`, a blank row, then the events."""
    yield ["evidence record", evidence["number"]]
    yield ["format", evidence["format"]]
    yield ["as of", evidence["as_of"]]
    yield ["listed", "yes" if evidence["listed"] else "no"]
    for field in STATE_FIELDS if evidence["current"] else []:
        yield [field, _cell(evidence["current"][field])]
    for field, value in (evidence["removed"] or {}).items():
        yield [f"removed {field}", _cell(value)]
    yield []
    yield EVENT_COLUMNS
    for event in evidence["events"]:
        yield [_cell(event[column]) for column in EVENT_COLUMNS]


def _cell(value) -> str:
    return "" if value is None else str(value)


def as_csv(evidence: dict) -> bytes:
    """Exactly the bytes blacklist.exports.csv_download sends for csv_rows(evidence)."""
    return "".join(itertools.chain(["\ufeff"], csv_lines(csv_rows(evidence)))).encode()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
