from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.events import Source
from audit.models import Event
from blacklist_admin.params import choice_param, int_param, page_number, parse_id
from tasks_logs.models import TaskLog

from . import services, tasks
from .actions import ACTIONS, RETAINED, RETAINED_PERMISSION, allowed, on_tab, skip_sentence
from .exports import numbers_download
from .filters import BlacklistFilter, matching_numbers
from .forms import CONFIRM_ABOVE, AddNumbersForm, BulkActionForm, UploadForm, numbers_text
from .lists import chosen_list, picker
from .models import TABS, BlacklistedNumber, DncList, Status, count_estimates
from .paging import PAGE_SIZES, clean_sort, keyset_page
from .tables import BlacklistTable
from .templatetags.blacklist_tags import count_label

OVERDUE_SHOWN = 1_000  # the tab label counts overdue numbers up to this many, then says "1,000+"
# The tab labels and "N matching" count exactly below this planner's estimate (at most ~1 ms of
# index entries, under a 25 ms statement timeout), else show the estimate with "~": counting a
# list's 34,000 entries took 3–5 ms of a tab page's 15 ms.
EXACT_BELOW = 10_000
BACKGROUND_ABOVE = 10_000  # "all matching" over this many numbers runs as a Celery task
_QUEUE_DOWN = (" The queue is unreachable right now, so it will start by itself once the queue is back;"
               " it is stored, nothing is lost.")
can_view = permission_required("blacklist.view_blacklistednumber", raise_exception=True)
can_add = permission_required("blacklist.add_blacklistednumber", raise_exception=True)


def _busy_says_try_again(view):
    """A change the database kept failing for others changing the same numbers at that moment
    (services.Busy, after its retries): nothing was changed; say so and go back, never a 500."""

    @wraps(view)
    def wrapper(request, **kwargs):  # the URL's named parts: `tab` for the list tabs' actions
        try:
            return view(request, **kwargs)
        except services.Busy:
            messages.error(request, services.Busy.said)
            return redirect(_back(request, kwargs["tab"]) if "tab" in kwargs else reverse("blacklist:add"))

    return wrapper


def _check_action_allowed(request, action: str) -> None:
    """403 for an action the user's role does not allow, whatever the scope or the form says."""
    if action in ACTIONS and not request.user.has_perm(ACTIONS[action].permission):
        raise PermissionDenied(f"Your role may not {ACTIONS[action].bulk_label.lower()}.")


def _check_status_allowed(request, status: Status) -> None:
    """Adding numbers approved (the add-as choice) is for Managers: 403 for a forged choice."""
    if status > Status.REVIEW and not request.user.has_perm("blacklist.add_approved"):
        raise PermissionDenied("Your role may add numbers for review only.")


def _add_forms_options(request, shown: DncList | None) -> dict:
    """What the add page's two forms are given for this user: the list shown above the tabs to
    offer first (Internal under All lists or when it is archived), and whether they may add prefix
    blocks."""
    offered = shown if shown is not None and not shown.is_archived else None
    return {"dnc_list": offered, "allow_prefix": services.may_add_prefixes(request.user)}


def _tab_counts(dnc_list, filtered=None) -> dict:
    """Each list tab's size in `dnc_list` (None: every list) for its label (exact when cheap, else
    an estimate shown with "~"), and the review tab's overdue numbers up to OVERDUE_SHOWN ("1,000+"
    beyond): one bounded read of the (list_)review_by_deadline index, whatever the size of the queue.
    With `filtered` (a filter's numbers), also their count as "matching". The estimates come from
    one EXPLAIN (models.count_estimates)."""
    numbers = BlacklistedNumber.objects.in_list(dnc_list)
    asked = [numbers.for_tab(tab) for tab in TABS] + ([filtered] if filtered is not None else [])
    estimates = count_estimates(asked, EXACT_BELOW)
    counts: dict = dict(zip(TABS, estimates, strict=False))
    if filtered is not None:
        counts["matching"] = estimates[-1]
    overdue = numbers.overdue().values("pk")[: OVERDUE_SHOWN + 1].count()
    counts["overdue"] = f"{OVERDUE_SHOWN:,}+" if overdue > OVERDUE_SHOWN else f"{overdue:,}" if overdue else ""
    return counts


def _back(request, tab) -> str:
    """The tab, page and filter the user acted from (only our own path: no open redirect)."""
    return reverse(f"blacklist:{tab}") + "?" + request.POST.get("query", "")


def _report(request, action, outcome, numbers=None) -> None:
    """The rule's outcome as a message; with the `numbers` it ran on, why some were kept for retention."""
    text = f"{action.done.format(numbers_text(outcome.changed))} {outcome.skipped_text()}"
    if numbers is not None and (kept := outcome.skipped.get(RETAINED)):
        text += " " + _kept_for_retention(numbers, kept)
    # "done": the action ran, so the tab gives back no earlier selection (static/js/blacklist.js)
    (messages.success if outcome.changed else messages.warning)(request, text.strip(), extra_tags="done")


def _kept_for_retention(numbers, kept: int) -> str:
    """Why `kept` numbers of the selection stay: until when, and who may remove them earlier."""
    until = services.last_kept_until(numbers, timezone.now())
    if until is None:  # their retention ended meanwhile
        return ""
    day = f"{timezone.localdate(until):%Y-%m-%d}"
    if kept == 1:
        return (f"It is kept until {day} for retention (the consumer's own request): only a Manager may remove it"
                " earlier, with a written justification.")
    return (f"They are kept for retention (the consumer's own requests), the last until {day}: only a Manager may"
            " remove them earlier, with a written justification.")


def _tab_page(request, tab):
    lists = list(DncList.objects.all())  # the picker's, and the one chosen among them
    dnc_list = chosen_list(request.GET, lists)
    numbers = BlacklistedNumber.objects.for_tab(tab).in_list(dnc_list).select_related(
        "added_by", "status_changed_by", "source_task", "reason", *(["dnc_list"] if dnc_list is None else [])
    )
    filterset = BlacklistFilter(request.GET, queryset=numbers, tab=tab)
    sort = clean_sort(request.GET.get("sort"), tab, default=filterset.default_sort())
    per_page = choice_param(request.GET, "per_page", PAGE_SIZES, PAGE_SIZES[0])
    page = keyset_page(
        filterset.qs,
        sort,
        per_page,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        number=page_number(request.GET),
    )
    tab_counts = _tab_counts(dnc_list, filterset.qs if filterset.narrows() else None)
    actions = allowed(request.user, tab)
    matching = tab_counts.pop("matching", tab_counts[tab])
    context = {
        "tab": tab,
        "tab_counts": tab_counts,
        "filterset": filterset,
        "table": BlacklistTable(page.rows, tab=tab, order_by=sort, actions=actions, list_column=dnc_list is None,
                                params=request.GET),
        "page": page,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "matching": matching,
        "actions": [(action.name, action) for action in actions],
        "bulk_form": BulkActionForm(tab=tab, matching=count_label(matching), auto_id="bulk-%s"),
        **picker(dnc_list, lists),
    }
    return render(request, "blacklist/tab_table.html", context)


@require_http_methods(["GET", "POST"])
@can_add
@_busy_says_try_again
def add(request):
    lists = list(DncList.objects.all())  # a few rows, read once for the choice and the picker
    shown = chosen_list(request.GET, lists)
    options = _add_forms_options(request, shown)
    changing = request.POST.get("answer") == "change"  # Cancel on the confirmation: the form again, as typed
    form = AddNumbersForm(_without(request.POST, "confirmed", "answer") if changing else request.POST or None,
                          **options)
    if request.method == "POST" and not changing and form.is_valid():
        _check_status_allowed(request, form.requested_status())
        dnc_list = form.cleaned_data["dnc_list"]
        if form.needs_confirmation():  # the form again, with "confirmed": nothing is stored meanwhile
            typed = len(set(form.cleaned_data["numbers"]))
            again = [(name, value) for name in request.POST if name not in ("csrfmiddlewaretoken", "confirmed")
                     for value in request.POST.getlist(name)]
            return _confirm_permanently(request, dnc_list, f"the {numbers_text(typed)} you typed",
                                        reverse("blacklist:add"), again)
        try:
            outcome = services.add_numbers(
                form.cleaned_data["numbers"], form.requested_status(), user=request.user,
                source=Source(Event.Via.HAND), details=form.details(), dnc_list=dnc_list,
            )
        except services.ArchivedList as error:  # archived since the form was checked, a moment ago
            messages.error(request, f"{error} Nothing was added.")
            return redirect(reverse("blacklist:add") + f"?list={dnc_list.pk}")
        messages.success(
            request,
            f"Added {outcome.new:,} new number(s); raised the status of {outcome.raised:,};"
            f" {outcome.unchanged:,} already listed were left as they were, on the list “{dnc_list.name}”.",
        )
        return redirect(reverse("blacklist:add") + f"?list={dnc_list.pk}")
    context = {
        "tab": "add",
        **picker(shown, lists),
        "tab_counts": _tab_counts(shown),
        "form": form,
        "upload": UploadForm(auto_id="id_upload_%s", **options),  # its own ids, apart from the hand-entry form's
    }
    return render(request, "blacklist/add.html", context)


@require_GET
@can_view
def review(request):
    return _tab_page(request, "review")


@require_GET
@can_view
def approved(request):
    return _tab_page(request, "approved")


@require_GET
@can_view
def export(request, tab):
    """The numbers the tab's current filter shows, all pages, as a streamed CSV file."""
    if tab not in TABS:
        raise Http404("No such tab.")
    numbers = matching_numbers(tab, request.GET.urlencode())  # within the list ?list= names
    if numbers is None:
        messages.warning(request, "The filter is not valid, so there is nothing to export.")
        return redirect(reverse(f"blacklist:{tab}") + "?" + request.GET.urlencode())
    default = BlacklistFilter(request.GET, queryset=numbers, tab=tab).default_sort()
    sort = clean_sort(request.GET.get("sort"), tab, default=default)  # as the page shows them
    ordered = numbers.order_by(sort, "-id" if sort.startswith("-") else "id")
    return numbers_download(ordered, f"blacklist-{tab}-{timezone.localtime():%Y%m%d-%H%M}.csv")


@require_POST
@_busy_says_try_again
def row_action(request, tab, action):
    pk = int_param(request.POST, "pk", not_found=True)
    if action not in [offered.name for offered in on_tab(tab)] or pk is None:
        raise Http404("No such action on this tab.")
    _check_action_allowed(request, action)
    numbers = BlacklistedNumber.objects.for_tab(tab).in_list(_list_of(request.POST)).filter(pk=pk)
    if _may_justify(request, ACTIONS[action], numbers):  # a Manager may remove it, if they write why
        form = BulkActionForm({"action": action, "scope": "selected", "ids": [pk],
                               "query": request.POST.get("query", "")}, tab=tab)
        if form.is_valid():
            return _confirmation(request, tab, form, numbers)
    outcome = services.RULES[action](numbers, request.user, Source(Event.Via.ROW))
    if not outcome.changed and not outcome.skipped:
        messages.warning(request, "That number is no longer on this tab. Nothing was changed.")
    else:
        _report(request, ACTIONS[action], outcome, numbers)
    return redirect(_back(request, tab))


def _may_justify(request, action, numbers) -> bool:
    """The action keeps numbers for retention, some of `numbers` are, and the user may remove them
    with a justification: the confirmation step asks for one."""
    return (action.keeps_retained and request.user.has_perm(RETAINED_PERMISSION)
            and numbers.changeable().retained(timezone.now()).exists())


@require_POST
@_busy_says_try_again
def bulk_action(request, tab):
    if tab not in TABS:
        raise Http404("No such tab.")
    _check_action_allowed(request, request.POST.get("action", ""))
    form = BulkActionForm(request.POST, tab=tab)
    if not form.is_valid():
        refused = [*form.non_field_errors(), *form.errors.get("ids", ()), *form.errors.get("page_ids", ()),
                   *form.errors.get("justification", ())]
        problems = " ".join(refused) or "Choose an action and which records."
        messages.warning(request, f"{problems} Nothing was changed.")
        return redirect(_back(request, tab))
    dnc_list = _list_of(request.POST)
    numbers = _chosen_numbers(form, tab, dnc_list)
    if numbers is None:
        messages.warning(request, "The filter is not valid, so no records match it. Nothing was changed.")
        return redirect(_back(request, tab))
    action = form.chosen_action
    needs_confirmation = (action.irreversible or numbers[: CONFIRM_ABOVE + 1].count() > CONFIRM_ABOVE
                          or _acts_beyond_ticks(form, numbers))
    if needs_confirmation and not form.cleaned_data["confirmed"]:
        return _confirmation(request, tab, form, numbers)
    justification = form.cleaned_data["justification"] if action.keeps_retained else ""
    if justification and not request.user.has_perm(RETAINED_PERMISSION):
        raise PermissionDenied("Only a Manager may remove numbers kept for retention.")
    if form.cleaned_data["scope"] == "all" and numbers[: BACKGROUND_ABOVE + 1].count() > BACKGROUND_ABOVE:
        return _start_in_background(request, tab, form, justification, dnc_list)
    outcome = services.RULES[action.name](numbers, request.user, Source(Event.Via.BULK),
                                          **services.justified(justification))
    _report(request, action, outcome, numbers)
    return redirect(_back(request, tab))


def _list_of(post) -> DncList | None:
    """The list on screen when the user acted: the one the page's query string names."""
    return chosen_list(QueryDict(post.get("query", "")))


def _chosen_numbers(form, tab, dnc_list):
    """The numbers the form names, never outside the tab and list on screen; None for a broken filter."""
    scope = form.cleaned_data["scope"]
    if scope == "all":
        return matching_numbers(tab, form.cleaned_data["query"], dnc_list)
    ids = form.cleaned_data["ids"] if scope == "selected" else form.cleaned_data["page_ids"]
    return BlacklistedNumber.objects.for_tab(tab).in_list(dnc_list).filter(pk__in=ids)


def _acts_beyond_ticks(form, numbers) -> bool:
    """Rows are ticked but the scope ("this page", "all matching") takes in more of them."""
    ticked = len(form.cleaned_data["ids"])
    return form.cleaned_data["scope"] != "selected" and ticked > 0 and numbers[: ticked + 1].count() > ticked


def _beyond_ticks_text(form, count: int) -> str:
    """"You ticked 2 numbers; this acts on all 25 on this page." ("" when it acts on the ticked ones)."""
    ticked, scope = len(form.cleaned_data["ids"]), form.cleaned_data["scope"]
    if scope == "selected" or not ticked or count <= ticked:
        return ""
    where = "on this page" if scope == "page" else "matching the filter"
    return f"You ticked {numbers_text(ticked)}; this acts on all {count:,} {where}."


def _subject_html(numbers, count: int):
    """What the question names: the number, shown as in the table (E.164 on hover), or how many."""
    if count == 1 and (number := numbers.first()) is not None:
        return format_html('<span class="phone" title="{}">{}</span>', number.phone, number.display_phone)
    return numbers_text(count)


def _confirmation(request, tab, form, numbers):
    """Ask before an irreversible or large change, or one wider than the ticks, with the exact count;
    never list the rows."""
    count = numbers.count()
    action = form.chosen_action
    skipped = services.skipped_by_reason(numbers, form.cleaned_data["action"])
    kept = skipped.get(RETAINED, 0)
    dnc_list = _list_of(request.POST)
    context = {
        "tab": tab,
        **picker(dnc_list),
        "tab_counts": _tab_counts(dnc_list),
        "form": form,
        "question": format_html(action.question, _subject_html(numbers, count)),
        "beyond_ticks": _beyond_ticks_text(form, count),
        "confirm": action.confirm.format(numbers_text(count)),
        "style": action.style,
        "skipped": [skip_sentence(reason, n, will=True) for reason, n in skipped.items()],
        "kept_for_retention": _kept_for_retention(numbers, kept) if kept else "",
        "justify": kept and request.user.has_perm(RETAINED_PERMISSION),  # a Manager may write why
        "kept": kept,
        "count": count,
        "back": _back(request, tab),
        "background": form.cleaned_data["scope"] == "all" and count > BACKGROUND_ABOVE,
    }
    return render(request, "blacklist/confirm_bulk_action.html", context)


def _start_in_background(request, tab, form, justification: str, dnc_list):
    action_name = form.cleaned_data["action"]
    list_id = dnc_list.pk if dnc_list is not None else None  # None: every list ("All lists")
    params = {"tab": tab, "action": action_name, "query": form.cleaned_data["query"], "list": list_id}
    if count := parse_id(form.cleaned_data["confirmed_count"]):  # what its confirmation said, shown while it waits
        params["confirmed_count"] = count
    with transaction.atomic():
        task_log = TaskLog.objects.create(
            kind=ACTIONS[action_name].task_kind.value,
            created_by=request.user,
            params={**params, "justification": justification} if justification else params,
        )
        sending = tasks.send_on_commit(tasks.run_bulk_action, task_log.pk)
    announces = f"task-{task_log.pk}"  # Tasks Logs turns it into the result (static/js/tasks_logs.js)
    if sending.failed:
        messages.warning(request, f"{ACTIONS[action_name].bulk_label}: queued.{_QUEUE_DOWN}", extra_tags=announces)
    else:
        messages.info(request, f"{ACTIONS[action_name].bulk_label}: started in the background. Its progress is below.",
                      extra_tags=announces)
    return redirect("tasks_logs:list")


@require_POST
@can_add
def upload(request):
    form = UploadForm(request.POST, request.FILES)
    if refused := getattr(request, "upload_refused", ""):  # blacklist.uploads stopped reading it
        messages.error(request, f"The file was not uploaded. {refused} Nothing was stored.")
        return redirect("blacklist:add")
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, f"The file was not uploaded. {problems} Nothing was stored.")
        return redirect("blacklist:add")
    _check_status_allowed(request, form.requested_status())
    dnc_list = form.cleaned_data["dnc_list"]
    if form.needs_confirmation():  # stored, not queued, until its uploader says yes
        task_log = services.save_upload(form.cleaned_data["file"], form.requested_status(), request.user,
                                        details=form.details(), dnc_list=dnc_list, awaiting=True)
        return redirect("blacklist:confirm_upload", pk=task_log.pk)
    with transaction.atomic():
        task_log = services.save_upload(
            form.cleaned_data["file"], form.requested_status(), request.user, details=form.details(), dnc_list=dnc_list
        )
        sending = tasks.send_on_commit(tasks.import_upload, task_log.pk)
    _say_queued(request, task_log, dnc_list.name, sending)
    return redirect("tasks_logs:list")


def _say_queued(request, task_log: TaskLog, list_name: str, sending) -> None:
    """The message that announces an import; tagged with its task, so Tasks Logs turns it into
    the result once the job has finished (static/js/tasks_logs.js)."""
    queued = f"{task_log.file_name}: {task_log.total:,} rows queued for import into “{list_name}”."
    if sending.failed:
        messages.warning(request, f"{queued}{_QUEUE_DOWN}", extra_tags=f"task-{task_log.pk}")
    else:
        messages.success(request, f"{queued} Its progress is below.", extra_tags=f"task-{task_log.pk}")


@require_http_methods(["GET", "POST"])
@can_add
def confirm_upload(request, pk):
    """An upload into "approved permanently", stored and awaiting its uploader's answer: the
    question (GET), then "Yes, add permanently" queues it and "Cancel" deletes it (POST)."""
    task_log = TaskLog.objects.filter(pk=pk, created_by=request.user, kind=TaskLog.Kind.IMPORT).first()
    if task_log is None:
        raise Http404("No such upload of yours.")
    if task_log.state != TaskLog.State.AWAITING:
        messages.info(request, f"{task_log.file_name} was confirmed already: its progress is below.")
        return redirect("tasks_logs:list")
    _check_status_allowed(request, Status(task_log.params["status"]))  # a Manager demoted since
    dnc_list = DncList.objects.filter(pk=task_log.params["dnc_list"]).first()
    if dnc_list is None:  # deleted while the question waited
        services.cancel_upload(task_log)
        messages.error(request, f"The list that {task_log.file_name} was to go into no longer exists."
                                " Nothing was added.")
        return redirect("blacklist:add")
    if request.method == "GET":
        return _confirm_permanently(request, dnc_list, f"the {task_log.total:,} row{'' if task_log.total == 1 else 's'}"
                                    f" of {task_log.file_name}", reverse("blacklist:confirm_upload", args=[pk]), [],
                                    cancel_deletes=True)
    if request.POST.get("answer") != "yes":
        services.cancel_upload(task_log)
        messages.info(request, f"{task_log.file_name} was not added; the uploaded file was deleted.")
        return redirect(reverse("blacklist:add") + f"?list={dnc_list.pk}")
    with transaction.atomic():
        if not services.confirm_upload(task_log):  # answered meanwhile, in another tab
            return redirect("tasks_logs:list")
        sending = tasks.send_on_commit(tasks.import_upload, task_log.pk)
    _say_queued(request, task_log, dnc_list.name, sending)
    return redirect("tasks_logs:list")


def _without(data: QueryDict, *names: str) -> QueryDict:
    kept = data.copy()
    for name in names:
        kept.pop(name, None)
    return kept


def _confirm_permanently(request, dnc_list: DncList, what: str, action: str, again: list, cancel_deletes=False):
    """Ask before adding numbers approved permanently, with their exact count: it cannot be undone.
    `again`: the fields to post back with the answer (hand entry's form, re-sent)."""
    context = {
        "tab": "add",
        **picker(dnc_list),
        "tab_counts": _tab_counts(dnc_list),
        "question": f"Add {what} to “{dnc_list.name}” as approved permanently?",
        "action": action,
        "again": again,
        "cancel_deletes": cancel_deletes,
    }
    return render(request, "blacklist/confirm_permanently.html", context)
