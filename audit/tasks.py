from celery import shared_task
from django.db import connection

from . import report
from .models import DayCount


@shared_task
def fold_compliance_tallies() -> None:
    """Keep the compliance report's tallies current (every minute, from the beat): each fold
    takes a bounded slice of events, so the locks it holds stay short."""
    while report.fold(report.PAGE_FOLD) not in (0, None):
        pass


@shared_task
def compact_day_counts() -> None:
    """Sum the Activity chart's counts into one row per day, action and list (every few minutes,
    from the beat): the trigger inserts rows per statement. Rows a writer inserts meanwhile are
    not in this statement's snapshot, so they are left for the next time, never lost."""
    if connection.vendor != "postgresql":
        return  # SQLite keeps no counts
    table = DayCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} RETURNING day, action, dnc_list_id, n)"  # noqa: S608 — names ours
            f" INSERT INTO {table} (day, action, dnc_list_id, n)"
            " SELECT day, action, dnc_list_id, sum(n) FROM gone GROUP BY day, action, dnc_list_id"
        )
