"""The Registry page (Managers): load a national registry file, and see how fresh each area code is."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from blacklist.tasks import send_on_commit

from . import loads, tasks
from .forms import LoadForm
from .models import AreaCode

can_load = permission_required("registry.load_registry", raise_exception=True)


@require_GET
@can_load
def registry(request):
    return _page(request, LoadForm())


@require_POST
@can_load
def load(request):
    form = LoadForm(request.POST, request.FILES)
    if refused := getattr(request, "upload_refused", ""):  # blacklist.uploads stopped reading the body
        messages.error(request, f"The file was not uploaded. {refused} Nothing was stored.")
        return redirect("registry:registry")
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = form.cleaned_data["file"]
    with transaction.atomic():
        task_log = loads.save_file(upload.name, upload.read(), changes=form.changes(),
                                   area_code=form.cleaned_data["area_code"], state=form.cleaned_data["state"],
                                   data_date=form.cleaned_data["data_date"], user=request.user)
        sending = send_on_commit(tasks.load_registry_file, task_log.pk)
    said = f"Registry file {upload.name} ({upload.size:,} bytes) queued for loading."
    if sending.failed:
        messages.warning(request, f"{said} The queue is unreachable right now, so it will start by itself once the"
                                  " queue is back.", extra_tags=f"task-{task_log.pk}")
    else:
        messages.success(request, f"{said} Its progress is below.", extra_tags=f"task-{task_log.pk}")
    return redirect("tasks_logs:list")


def _page(request, form: LoadForm, status: int = 200):
    """The upload form and every loaded area code, stalest first (a few hundred rows at most)."""
    area_codes = list(AreaCode.objects.select_related("last_load").order_by("data_date", "code"))
    context = {"form": form, "area_codes": area_codes, "stale": sum(area.is_stale() for area in area_codes),
               "stale_days": settings.REGISTRY_STALE_DAYS, "max_mb": settings.REGISTRY_UPLOAD_MAX_MB}
    return render(request, "registry/registry.html", context, status=status)
