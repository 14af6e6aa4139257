"""The API page, where admins make and revoke API keys (the API itself is api/views.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import services
from .forms import ApiKeyForm
from .models import ApiKey


def _page_context(request, form, secret="$DNC_API_KEY") -> dict:  # noqa: S107 — a placeholder shown in the example
    return {
        "keys": ApiKey.objects.select_related("created_by", "revoked_by").prefetch_related("lists"),
        "form": form,
        "secret": secret,
        "check_url": request.build_absolute_uri(reverse("api:check")),
        "scrub_url": request.build_absolute_uri(reverse("api:scrub")),
        "add_url": request.build_absolute_uri(reverse("api:add_numbers")),
        "openapi_url": request.build_absolute_uri(reverse("api:openapi")),
    }


@require_GET
@permission_required("api.view_apikey", raise_exception=True)
def keys(request):
    return render(request, "api/keys.html", _page_context(request, ApiKeyForm()))


@require_POST
@never_cache  # the new key is on this response only
@permission_required("api.add_apikey", raise_exception=True)
def create_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return render(request, "api/keys.html", _page_context(request, form), status=400)
    key, secret = services.create_key(**form.key_options(), user=request.user)
    return render(request, "api/key_created.html", {**_page_context(request, form, secret), "key": key})


@require_POST
@permission_required("api.change_apikey", raise_exception=True)
def revoke_key(request, pk):
    key = get_object_or_404(ApiKey, pk=pk)
    if services.revoke(key, request.user):
        messages.success(request, f"Revoked the API key “{key.name}”: requests with it are now refused (401).")
    else:
        messages.info(request, f"The API key “{key.name}” was already revoked.")
    return redirect("api:keys")
