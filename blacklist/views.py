from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import LazyPaginator, RequestConfig

from . import services
from .forms import AddNumbersForm
from .models import BlacklistedNumber
from .tables import BlacklistTable

TAB_NUMBERS = {
    "review": BlacklistedNumber.objects.for_review,
    "approved": BlacklistedNumber.objects.approved,
}


def _tab_page(request, tab):
    numbers = TAB_NUMBERS[tab]().select_related("added_by", "source_task").order_by("-added_at", "-id")
    table = BlacklistTable(numbers)
    RequestConfig(request, paginate={"per_page": 25, "paginator_class": LazyPaginator}).configure(table)
    return render(request, "blacklist/tab_table.html", {"tab": tab, "table": table})


@require_http_methods(["GET", "POST"])
def add(request):
    form = AddNumbersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.add_numbers(form.cleaned_data["numbers"], form.requested_status(), user=request.user)
        messages.success(
            request,
            f"Added {outcome.new:,} new number(s); raised the status of {outcome.raised:,};"
            f" {outcome.unchanged:,} already listed were left as they were.",
        )
        return redirect("blacklist:add")
    return render(request, "blacklist/add.html", {"tab": "add", "form": form})


@require_GET
def review(request):
    return _tab_page(request, "review")


@require_GET
def approved(request):
    return _tab_page(request, "approved")
