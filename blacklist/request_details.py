"""What a request to list a number says about itself: why, how it reached us, when, and a note.

The upload form gives one for the whole file, hand entry one for the numbers typed, the API one
per number; services.add_numbers records it on each new number and on the events of each number
added again (docs/compliance.md).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from .models import Channel, Reason


@dataclass(frozen=True)
class RequestDetails:
    reason: Reason | None = None  # None: Reason.DEFAULT
    channel: str = Channel.OTHER
    received_at: datetime | None = None  # None: when it is added
    note: str = ""
    expires_at: datetime | None = None


class Entry(NamedTuple):
    """One number to add, with its own request details (else the batch's) and its line in a file."""

    phone: str  # E.164
    details: RequestDetails | None = None
    line: int | None = None


def to_params(details: RequestDetails) -> dict:
    """As JSON for a job's TaskLog.params: the worker reads them there, not from the web server."""
    return {
        "reason": details.reason.slug if details.reason else None,
        "channel": str(details.channel),
        "received_at": details.received_at.isoformat() if details.received_at else None,
        "note": details.note,
        "expires_at": details.expires_at.isoformat() if details.expires_at else None,
    }


def from_params(params: dict | None) -> RequestDetails:
    """What to_params wrote (checked when the job was made); none: the defaults. A reason keeps
    its slug when renamed; Reason.DoesNotExist if it was deleted since (not while in use)."""
    if not params:
        return RequestDetails()
    return RequestDetails(
        reason=Reason.objects.get(slug=params["reason"]) if params["reason"] else None,
        channel=Channel(params["channel"]),
        received_at=datetime.fromisoformat(params["received_at"]) if params["received_at"] else None,
        note=params["note"],
        expires_at=datetime.fromisoformat(params["expires_at"]) if params["expires_at"] else None,
    )
