from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import LazyPaginator, RequestConfig

from .models import TaskLog
from .tables import TaskLogTable


@require_GET
def task_list(request):
    table = TaskLogTable(TaskLog.objects.select_related("created_by"))
    RequestConfig(request, paginate={"per_page": 25, "paginator_class": LazyPaginator}).configure(table)
    return render(request, "tasks_logs/list.html", {"table": table})
