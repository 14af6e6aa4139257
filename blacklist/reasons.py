"""The Reasons page (docs/compliance.md): Managers list the reasons with how many numbers use
each, add one, rename one (its slug, the API's name for it, stays), mark it expirable or
retained, and delete one no number uses (the PROTECT foreign key refuses the rest). Each change
is logged with who made it and what changed, as the Lists page's are: whether a reason is
retained decides which numbers a removal keeps."""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from .models import BlacklistedNumber, Reason

logger = logging.getLogger(__name__)
can_manage = permission_required("roles.manage_reasons", raise_exception=True)
EXACT_BELOW = 1_000  # a reason used by fewer numbers gets an exact count; more, PostgreSQL's estimate


class ReasonForm(forms.ModelForm):
    class Meta:
        model = Reason
        fields = ("name", "expirable", "retained")
        error_messages = {"name": {"required": "Give the reason a name."}}

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        others = Reason.objects.exclude(pk=self.instance.pk)
        if others.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"There is already a reason named “{name}”.")
        return name

    def clean_expirable(self):
        expirable = self.cleaned_data["expirable"]
        if self.instance.pk and self.instance.expirable and not expirable:
            expiring = BlacklistedNumber.objects.filter(reason=self.instance, expires_at__isnull=False)
            if expiring.exists():
                raise forms.ValidationError(
                    "Numbers with this reason have an expiry date: it stays expirable while they do."
                )
        return expirable

    def save(self, commit=True):
        if self.instance.pk is None:
            self.instance.slug = _free_slug(self.cleaned_data["name"])
        return super().save(commit)


def _free_slug(name: str) -> str:
    """The API's name for a new reason: its name in lower case with underscores (`Do not
    contact` → `do_not_contact`), a number added when taken; `reason` if nothing is left."""
    base = slugify(name).replace("-", "_")[:40] or "reason"
    taken = set(Reason.objects.filter(slug__startswith=base[:37]).values_list("slug", flat=True))
    candidates = (base, *(f"{base[:37]}_{n}" for n in range(2, len(taken) + 3)))
    return next(slug for slug in candidates if slug not in taken)


def _changes(form: ReasonForm, before: dict) -> str:
    """What an edit changed, "retained: False → True; name: “A” → “B”", from the form's fields."""
    return "; ".join(f"{field}: {before[field]!r} → {form.cleaned_data[field]!r}" for field in form.changed_data)


def _usage(reasons) -> list[tuple[Reason, int, bool]]:
    """(reason, numbers using it, exact?), each from count_estimate with the reason's id as a
    constant, so PostgreSQL's statistics for that value pick the plan: an index count of a few
    rows for a rare or unused reason, the planner's estimate for one of millions (not counted)."""
    return [(reason, *BlacklistedNumber.objects.filter(reason=reason).count_estimate(EXACT_BELOW))
            for reason in reasons]


def _page(request, add_form=None, edited=None, status=200):
    rows = [(reason, count, exact, edited if edited and edited.instance.pk == reason.pk else ReasonForm(
        instance=reason, prefix=f"r{reason.pk}")) for reason, count, exact in _usage(Reason.objects.all())]
    context = {"rows": rows, "add_form": add_form or ReasonForm(prefix="new"), "default_slug": Reason.DEFAULT}
    return render(request, "blacklist/reasons.html", context, status=status)


@require_http_methods(["GET", "POST"])
@can_manage
def reasons(request):
    """The list, and (POST) a new reason."""
    if request.method == "GET":
        return _page(request)
    form = ReasonForm(request.POST, prefix="new")
    if not form.is_valid():
        messages.warning(request, "The reason was not added: see below.")
        return _page(request, add_form=form, status=400)
    try:
        with transaction.atomic():
            reason = form.save()
    except IntegrityError:  # another Manager added the same name at the same moment
        messages.warning(request, "That reason was added by someone else meanwhile: nothing was changed.")
        return redirect("blacklist:reasons")
    logger.info("%s added the reason #%s “%s” (%s; expirable: %s, retained: %s)", request.user.get_username(),
                reason.pk, reason.name, reason.slug, reason.expirable, reason.retained)
    messages.success(request, f"Added the reason “{reason.name}” (API name: {reason.slug}).")
    return redirect("blacklist:reasons")


@require_POST
@can_manage
def edit_reason(request, pk):
    """Rename a reason (its slug stays) or mark it expirable / retained."""
    reason = get_object_or_404(Reason, pk=pk)
    before = {field: getattr(reason, field) for field in ReasonForm.Meta.fields}
    form = ReasonForm(request.POST, instance=reason, prefix=f"r{pk}")
    if not form.is_valid():
        messages.warning(request, f"“{before['name']}” was not changed: see below.")
        return _page(request, edited=form, status=400)
    if not form.has_changed():
        messages.info(request, f"“{before['name']}” was already so: nothing changed.")
        return redirect("blacklist:reasons")
    form.save()
    logger.info("%s edited the reason #%s (%s): %s", request.user.get_username(), reason.pk, reason.slug,
                _changes(form, before))
    messages.success(request, f"Saved the reason “{reason.name}”" + (f" (was “{before['name']}”)."
                                                                        if before["name"] != reason.name else "."))
    return redirect("blacklist:reasons")


@require_POST
@can_manage
def delete_reason(request, pk):
    """Delete a reason no number uses; the PROTECT foreign key refuses one in use."""
    reason = get_object_or_404(Reason, pk=pk)
    if reason.slug == Reason.DEFAULT:
        messages.error(request, f"“{reason.name}” is the reason of every request that gives none, so it was not"
                                " deleted. Rename it instead.")
        return redirect("blacklist:reasons")
    try:
        with transaction.atomic():
            reason.delete()
    except ProtectedError:
        messages.error(request, f"“{reason.name}” is the reason of listed numbers, so it was not deleted."
                                " Rename it instead.")
        return redirect("blacklist:reasons")
    logger.info("%s deleted the reason “%s” (%s)", request.user.get_username(), reason.name, reason.slug)
    messages.success(request, f"Deleted the reason “{reason.name}”.")
    return redirect("blacklist:reasons")
