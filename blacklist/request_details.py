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
