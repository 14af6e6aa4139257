import itertools
import re
from pathlib import PurePath
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from blacklist.exports import csv_download
from blacklist.models import DncList, Status, internal_list_id
from blacklist_admin.params import int_list_param, paginate

from .filters import TaskLogFilter
from .models import RejectedRow, TaskLog, Upload
from .tables import RejectedRowTable, TaskLogTable

MAX_POLLED_ROWS = 100
can_view = permission_required("tasks_logs.view_tasklog", raise_exception=True)


@require_GET
@can_view
def task_list(request):
    filterset = TaskLogFilter(request.GET, queryset=TaskLog.objects.select_related("created_by", "merge_progress"))
    table = TaskLogTable(filterset.qs)
    paginate(request, table, per_page=25)
    return render(request, "tasks_logs/list.html", {"table": table, "filterset": filterset})


@require_GET
@can_view
def rows(request):
    """Some rows of the Tasks Logs table, rendered as on the page: the live progress poll."""
    ids = int_list_param(request.GET, "id", MAX_POLLED_ROWS)
    table = TaskLogTable(TaskLog.objects.filter(pk__in=ids).select_related("created_by", "merge_progress"))
    return render(request, "tasks_logs/_rows.html", {"table": table})


@require_GET
@can_view
def detail(request, pk):
    task_log = get_object_or_404(TaskLog.objects.select_related("created_by", "merge_progress"), pk=pk)
    rejected = RejectedRowTable(task_log.rejected_rows.all())
    paginate(request, rejected, per_page=50)
    context = {
        "task_log": task_log,
        "summary": TaskLogTable([task_log], with_list=False),  # the List line below says it
        "its_numbers": _its_numbers(task_log),
        "rejected": rejected,
        "upload": Upload.objects.filter(task_log=task_log).only("size", "encoding").first(),  # not the content
        "stored_files_days": settings.STORED_FILES_DAYS,  # a finished import whose file is gone (jobs.drop_old_files)
        "requested_status": Status(task_log.params["status"]).label if "status" in task_log.params else "",
        # The list an import adds to (none before there were lists: Internal).
        "dnc_list": DncList.objects.filter(pk=task_log.params.get("dnc_list") or 0).first(),
    }
    return render(request, "tasks_logs/detail.html", context)


def _its_numbers(task_log: TaskLog) -> str:
    """The tab of the status an import added at, filtered to the numbers it added ("" until it has)."""
    if task_log.kind != TaskLog.Kind.IMPORT or task_log.state != TaskLog.State.SUCCEEDED or not task_log.new:
        return ""
    tab = "review" if task_log.params.get("status", Status.REVIEW) == Status.REVIEW else "approved"
    query = urlencode({"source": task_log.pk, "list": task_log.params.get("dnc_list") or internal_list_id()})
    return f"{reverse(f'blacklist:{tab}')}?{query}"


@require_GET
@can_view
def rejected_csv(request, pk):
    """The task's rejected rows as CSV, streamed: up to 50,000 rows never sit in memory."""
    task_log = get_object_or_404(TaskLog, pk=pk)
    rows = RejectedRow.objects.filter(task_log=task_log).values_list("line", "value", "reason").iterator(2000)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", PurePath(task_log.file_name or "upload").stem)[:60]
    return csv_download(itertools.chain([["line", "value", "reason"]], rows), f"rejected-rows-{task_log.pk}-{name}.csv")
