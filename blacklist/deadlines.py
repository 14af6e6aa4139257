"""Business days, and the deadline counted in them by which a request must be honoured.

A request received on some day (in TIME_ZONE) must be honoured by the end of the
HONOUR_WITHIN_BUSINESS_DAYS-th business day after it (FCC 24-24: at most 10). Business days are
Monday to Friday, less the public holidays of HOLIDAY_CALENDAR, from the `holidays` package.
Deadlines are dates, stored with each number, so "overdue" is an indexed comparison with today.
"""

import functools
from datetime import date, datetime, timedelta

import holidays
from django.conf import settings
from django.utils import timezone

DUE_SOON_BUSINESS_DAYS = 2  # the review tab marks rows due within this many business days


@functools.cache
def _holidays(calendar: str, year: int) -> frozenset[date]:
    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(settings.HOLIDAY_CALENDAR, day.year)


def add_business_days(day: date, count: int) -> date:
    """The `count`-th business day after `day` (`day` itself if count is 0)."""
    while count > 0:
        day += timedelta(days=1)
        count -= is_business_day(day)
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end`; negative when `end` is earlier."""
    if end < start:
        return -business_days_between(end, start)
    weeks, extra = divmod((end - start).days, 7)
    weekdays = weeks * 5 + sum((start + timedelta(days=i)).weekday() < 5 for i in range(1, extra + 1))
    closed = sum(
        1
        for year in range(start.year, end.year + 1)
        for holiday in _holidays(settings.HOLIDAY_CALENDAR, year)
        if start < holiday <= end and holiday.weekday() < 5
    )
    return weekdays - closed


def honour_by(received_at: datetime) -> date:
    """The last day on which a request received at `received_at` is honoured in time."""
    return honour_by_day(timezone.localdate(received_at))


def honour_by_day(received_on: date) -> date:
    """The same for a request received on that day (in TIME_ZONE)."""
    return add_business_days(received_on, settings.HONOUR_WITHIN_BUSINESS_DAYS)


def due_soon_until(today: date | None = None) -> date:
    """Requests still open with a deadline up to this day are due soon (or overdue, before today)."""
    return add_business_days(today or timezone.localdate(), DUE_SOON_BUSINESS_DAYS)


def retained_until(received_at: datetime) -> datetime:
    """When a retained request (a consumer's) may be removed without a justification."""
    years = settings.RETENTION_YEARS
    try:
        return received_at.replace(year=received_at.year + years)
    except ValueError:  # 29 February, and the year `years` later is not a leap year
        return received_at.replace(year=received_at.year + years, day=28)


def business_days_late(deadline: date | None, honoured_at: datetime) -> int:
    """How many business days after its deadline a request was honoured: 0 when in time.

    `deadline` is the last day to honour it (a number's or an event's `deadline`); `honoured_at`
    the instant it was honoured (an approving event's `at`), taken in TIME_ZONE as the deadline
    is. Honoured on the deadline itself is in time; on the next business day, 1 late; a weekend
    or holiday in between does not count. Used wherever lateness is shown (Activity, a number's
    history, its evidence record) so they all say the same.
    """
    if deadline is None:
        return 0
    return max(0, business_days_between(deadline, timezone.localdate(honoured_at)))


def business_days_text(count: int) -> str:
    """`1 business day`, `3 business days`."""
    return f"{count:,} business day{'' if count == 1 else 's'}"
def retention_cutoff(now: datetime) -> datetime:
    """Retained requests received after this instant are still kept at `now` (NumberQuerySet.retained):
    `now` less RETENTION_YEARS. On a 29 February it is the 28th: a leap-day boundary keeps a number
    a day longer than retained_until says, never a day less."""
    years = settings.RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)
