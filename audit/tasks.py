from celery import shared_task

from . import report


@shared_task
def fold_compliance_tallies() -> None:
    """Keep the compliance report's tallies current (every minute, from the beat): each fold
    takes a bounded slice of events, so the locks it holds stay short."""
    while report.fold(report.PAGE_FOLD) not in (0, None):
        pass
