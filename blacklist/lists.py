"""The DNC lists (docs/lists.md): the Lists page, where Managers add a list, rename it or edit its
description, archive and unarchive it, and delete one that never held a number; and the list
picker of Blacklists Management (`?list=<id>`, `?list=all`), which every tab, filter, page,
export and bulk action reads through chosen_list().

The built-in Internal list is never renamed, archived or deleted. A list that ever held an
entry (it has entries, or events name it) is only archived: its history stays whole, and an
archived list still blocks. Every refusal changes nothing. Who renamed, archived, unarchived
or deleted a list is logged (logger `blacklist.lists`); created_by/at and archived_at stay on
the row."""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Event
from blacklist_admin.params import BadParameter, parse_id

from .models import BlacklistedNumber, DncList, internal_list_id

logger = logging.getLogger(__name__)
can_manage = permission_required("blacklist.manage_lists", raise_exception=True)
EXACT_BELOW = 1_000  # a tab of a list with fewer entries gets an exact count; more, PostgreSQL's estimate
ALL = "all"  # ?list=all: every list's entries, with a List column


class ListRefused(ValueError):
    """A change the rules refuse (Internal renamed, a used list deleted, …): its message is for people."""


# The picker: which list the tabs show.


def chosen_list(params: QueryDict, lists: list[DncList] | None = None) -> DncList | None:
    """The list `?list=` names, out of `lists` (default: every list; a few rows): absent or
    empty, Internal; `all`, None (every list); an id of a list, that list. Anything else is a
    400 page that says so (BadParameter), never a guess: a bulk action must not fall back onto
    another list than the one on screen."""
    text = params.get("list", "")
    if text == ALL:
        return None
    lists = list(DncList.objects.all()) if lists is None else lists
    if text == "":
        found = next((dnc_list for dnc_list in lists if dnc_list.is_internal), None)
        return found or DncList.objects.get(pk=internal_list_id())  # made again after a test's flush
    pk = parse_id(text)
    found = next((dnc_list for dnc_list in lists if dnc_list.pk == pk), None)
    if found is None:
        raise BadParameter(f"There is no list “{text[:30]}”: choose one in the list picker.")
    return found


def list_param(dnc_list: DncList | None) -> str:
    """The `?list=` value that names `dnc_list`: "" for Internal (the default), `all` for None."""
    if dnc_list is None:
        return ALL
    return "" if dnc_list.is_internal else str(dnc_list.pk)


def picker(chosen: DncList | None, lists: list[DncList] | None = None) -> dict:
    """The picker's context: the choice, and its menu's options for the lists (Internal first,
    archived ones marked) as markup, built as strings (a template loop over 20 lists cost a page
    about 0.3 ms); the "All lists" option is the template's (blacklist/_tabs.html)."""
    param = list_param(chosen)
    options = "".join(
        f'<option value="{"" if option.is_internal else option.pk}"'
        f'{" selected" if chosen and option.pk == chosen.pk else ""}>{escape(option.name)}'
        f'{" (archived)" if option.is_archived else ""}</option>\n    '
        for option in (DncList.objects.all() if lists is None else lists)
    )
    return {"list_options": mark_safe(options), "chosen": chosen, "all": ALL,  # noqa: S308 — names escaped
            "list_param": param, "list_query": f"list={param}" if param else ""}


# The service functions: every change to a list goes through one of these.


def _clean_name(name: str) -> str:
    return " ".join(name.split())


def _check_free(name: str, dnc_list: DncList | None = None) -> None:
    others = DncList.objects.exclude(pk=dnc_list.pk) if dnc_list else DncList.objects.all()
    if others.filter(name__iexact=name).exists():
        raise ListRefused(f"There is already a list named “{name}”.")


def create(name: str, description: str = "", user=None) -> DncList:
    """A new named list; a name taken in any letter case is refused."""
    name = _clean_name(name)
    _check_free(name)
    try:
        with transaction.atomic():
            dnc_list = DncList.objects.create(name=name, description=description.strip(), created_by=user)
    except IntegrityError:  # the unique index: another Manager took the name at that moment
        raise ListRefused(f"There is already a list named “{name}”.") from None
    logger.info("%s created the list #%s “%s”", _who(user), dnc_list.pk, name)
    return dnc_list


def edit(dnc_list: DncList, name: str, description: str, user=None) -> bool:
    """Rename a list and set its description; Internal keeps its name. False: nothing to change."""
    name, description = _clean_name(name), description.strip()
    if name == dnc_list.name and description == dnc_list.description:
        return False
    if name != dnc_list.name and dnc_list.is_internal:
        raise ListRefused(f"The built-in list “{dnc_list.name}” cannot be renamed.")
    _check_free(name, dnc_list)
    before = dnc_list.name
    try:
        with transaction.atomic():
            DncList.objects.filter(pk=dnc_list.pk).update(name=name, description=description)
    except IntegrityError:
        raise ListRefused(f"There is already a list named “{name}”.") from None
    dnc_list.name, dnc_list.description = name, description
    logger.info("%s edited the list #%s “%s”%s", _who(user), dnc_list.pk, name,
                f" (renamed from “{before}”)" if before != name else "")
    return True


def archive(dnc_list: DncList, user=None) -> bool:
    """Archive a named list: it takes no new numbers and still blocks. False: archived already."""
    if dnc_list.is_internal:
        raise ListRefused(f"The built-in list “{dnc_list.name}” cannot be archived.")
    now = timezone.now()
    changed = DncList.objects.filter(pk=dnc_list.pk, archived_at__isnull=True).update(archived_at=now)
    if changed:
        dnc_list.archived_at = now
        logger.info("%s archived the list #%s “%s”", _who(user), dnc_list.pk, dnc_list.name)
    return bool(changed)


def unarchive(dnc_list: DncList, user=None) -> bool:
    """Take a list out of the archive: it takes numbers again. False: it was not archived."""
    changed = DncList.objects.filter(pk=dnc_list.pk, archived_at__isnull=False).update(archived_at=None)
    if changed:
        dnc_list.archived_at = None
        logger.info("%s unarchived the list #%s “%s”", _who(user), dnc_list.pk, dnc_list.name)
    return bool(changed)


def ever_used(dnc_list: DncList) -> bool:
    """Whether the list holds an entry or ever did (an event names it). The entries are asked
    through the two tab indexes that lead with the list (every status is in one of them); the
    events have no index by list: a list that never had one reads the whole table, once, on a
    rare action."""
    entries = BlacklistedNumber.objects.in_list(dnc_list)
    return (entries.for_review().exists() or entries.approved().exists()
            or Event.objects.filter(dnc_list_id=dnc_list.pk).exists())


def delete(dnc_list: DncList, user=None) -> None:
    """Delete a named list that never held a number; any other is only archived."""
    if dnc_list.is_internal:
        raise ListRefused(f"The built-in list “{dnc_list.name}” cannot be deleted.")
    used = ListRefused(f"“{dnc_list.name}” holds numbers or did once, so it was not deleted: archive it instead"
                       " (an archived list takes no new numbers and still blocks; its history stays).")
    if ever_used(dnc_list):
        raise used
    try:
        with transaction.atomic():
            DncList.objects.filter(pk=dnc_list.pk).delete()
    except (ProtectedError, IntegrityError):  # a number added to it at that very moment
        raise used from None
    logger.info("%s deleted the list #%s “%s”", _who(user), dnc_list.pk, dnc_list.name)


def _who(user) -> str:
    return user.get_username() if user else "system"


# The Lists page.


class ListForm(forms.Form):
    name = forms.CharField(max_length=DncList._meta.get_field("name").max_length,
                           error_messages={"required": "Give the list a name."})
    description = forms.CharField(max_length=DncList._meta.get_field("description").max_length, required=False)


def _entries(dnc_list: DncList) -> tuple[int, bool]:
    """(entries, exact?): its two tabs' counts, each read from the tab's own list index."""
    numbers = BlacklistedNumber.objects.in_list(dnc_list)
    (review, exact_review), (approved, exact_approved) = (numbers.for_review().count_estimate(EXACT_BELOW),
                                                          numbers.approved().count_estimate(EXACT_BELOW))
    return review + approved, exact_review and exact_approved


def _page(request, add_form=None, edited=None, status=200):
    rows = []
    for dnc_list in DncList.objects.select_related("created_by"):
        form = edited[1] if edited and edited[0] == dnc_list.pk else ListForm(
            initial={"name": dnc_list.name, "description": dnc_list.description}, prefix=f"l{dnc_list.pk}")
        rows.append((dnc_list, *_entries(dnc_list), form))
    context = {"rows": rows, "add_form": add_form or ListForm(prefix="new")}
    return render(request, "blacklist/lists.html", context, status=status)


@require_http_methods(["GET", "POST"])
@can_manage
def lists(request):
    """The lists, and (POST) a new one."""
    if request.method == "GET":
        return _page(request)
    form = ListForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            dnc_list = create(form.cleaned_data["name"], form.cleaned_data["description"], request.user)
        except ListRefused as refused:
            form.add_error("name", str(refused))
    if not form.is_valid():  # its own errors, or the refusal added to them
        messages.warning(request, "The list was not added: see below.")
        return _page(request, add_form=form, status=400)
    messages.success(request, f"Added the list “{dnc_list.name}”.")
    return redirect("blacklist:lists")


@require_POST
@can_manage
def edit_list(request, pk):
    """Rename a list or edit its description."""
    dnc_list = get_object_or_404(DncList, pk=pk)
    before = dnc_list.name
    form = ListForm(request.POST, prefix=f"l{pk}")
    if form.is_valid():
        try:
            changed = edit(dnc_list, form.cleaned_data["name"], form.cleaned_data["description"], request.user)
        except ListRefused as refused:
            form.add_error("name", str(refused))
    if not form.is_valid():
        messages.warning(request, f"“{before}” was not changed: see below.")
        return _page(request, edited=(pk, form), status=400)
    if not changed:
        messages.info(request, f"“{before}” was already so: nothing changed.")
    else:
        renamed = f" (was “{before}”)" if before != dnc_list.name else ""
        messages.success(request, f"Saved the list “{dnc_list.name}”{renamed}.")
    return redirect("blacklist:lists")


def _act(service, done: str, already: str):
    """A POST-only view that runs `service` on the list `pk` and says what became of it."""

    @require_POST
    @can_manage
    def view(request, pk):
        dnc_list = get_object_or_404(DncList, pk=pk)
        try:
            changed = service(dnc_list, request.user)
        except ListRefused as refused:
            messages.error(request, f"{refused} Nothing was changed.")
            return redirect("blacklist:lists")
        if changed is False:
            messages.info(request, already.format(dnc_list.name))
        else:
            messages.success(request, done.format(dnc_list.name))
        return redirect("blacklist:lists")

    view.__doc__ = service.__doc__
    return view


archive_list = _act(archive, "Archived the list “{}”: it takes no new numbers and still blocks.",
                    "“{}” was archived already: nothing changed.")
unarchive_list = _act(unarchive, "“{}” is no longer archived: it takes numbers again.",
                      "“{}” was not archived: nothing changed.")
delete_list = _act(delete, "Deleted the list “{}”.", "")
