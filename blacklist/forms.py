from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from blacklist_admin.params import EARLIEST_DATE, LATEST_DATE, DatabaseIdListField

from . import csv_files
from .actions import ACTIONS, JUSTIFICATION_MAX, Action, on_tab
from .deadlines import retained_until
from .models import Channel, DncList, Reason, Status, default_reason_id, internal_list_id
from .phones import normalized_entry
from .request_details import RequestDetails
from .services import ArchivedList, refuse_archived

MAX_HAND_ENTRIES = 1000
CONFIRM_ABOVE = 1_000  # any action over this many numbers asks first


def numbers_text(count: int) -> str:
    return f"{count:,} number{'' if count == 1 else 's'}"


class BulkActionForm(forms.Form):
    """The bulk bar above a tab's table: an action, which records, and (for "all") the filter."""

    # "Selected" becomes "Selected (2)" as rows are ticked (static/js/blacklist.js)
    SCOPES = {"selected": "Selected", "page": "All records on this page",
              "all": "All {matching} records matching the filter"}

    action = forms.ChoiceField(choices=[])
    scope = forms.ChoiceField(choices=[], widget=forms.Select(
        attrs={"class": "form-select form-select-sm w-auto", "aria-label": "Which records"}))
    ids = DatabaseIdListField(required=False)  # the ticked checkboxes
    page_ids = DatabaseIdListField(required=False)  # every row on the page
    query = forms.CharField(required=False)  # the page's query string: its filter
    confirmed = forms.BooleanField(required=False)
    confirmed_count = forms.CharField(required=False)  # the count the confirmation showed (views: parse_id)
    # On the confirmation of an action that keeps numbers for retention (Managers): why remove them now.
    justification = forms.CharField(
        required=False, max_length=JUSTIFICATION_MAX, widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        error_messages={"max_length": "The justification is %(show_value)s characters long; at most %(limit_value)s"
                                      " are kept."},
    )

    def __init__(self, *args, tab: str, matching: str = "", **kwargs):
        """`matching`: how many records the page's filter matches ("1,234"), for the scope's label."""
        super().__init__(*args, **kwargs)
        choices = [(action.name, action.bulk_label) for action in on_tab(tab)]
        self.fields["action"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField
        scopes = [(name, " ".join(label.format(matching=matching).split())) for name, label in self.SCOPES.items()]
        self.fields["scope"].choices = scopes  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returns, typed without the None
        # "ids" is missing from data when a posted id was refused: that error says it already.
        if data.get("scope") == "selected" and "ids" in data and not data["ids"]:
            raise forms.ValidationError("Tick the numbers to act on, or choose another set of records.")
        if data.get("scope") == "page" and "page_ids" in data and not data["page_ids"]:
            raise forms.ValidationError("This page shows no numbers.")
        return data

    @property
    def chosen_action(self) -> Action:
        return ACTIONS[self.cleaned_data["action"]]


# Request details (docs/compliance.md): the one place that reads and checks them, for the upload
# form, hand entry, `import_blacklist` and each object of the API's POST /numbers.

CLOCK_SKEW = timedelta(minutes=5)  # a "received" this far ahead of our clock is still taken as now
MAX_NOTE = 500


class _LookupChoiceField(forms.ChoiceField):
    """A choice given by its value, or its label in any case (the API's callers write either);
    cleaned, the object `lookup` names (empty: None)."""

    what = "choice"

    def __init__(self, **kwargs):
        super().__init__(choices=(), **kwargs)
        self.lookup: dict[str, object] = {}
        self.offered: list[tuple[str, str]] = []

    def offer(self, choices: list[tuple[str, str, object]]) -> None:
        """(value, label, object) of each choice."""
        self.choices = self.offered = [(value, label) for value, label, _ in choices]
        self.lookup = {key: thing for value, label, thing in choices for key in (value, label.casefold())}

    def to_python(self, value):
        text = "" if value in self.empty_values else str(value).strip()
        if not text:
            return None
        found = self.lookup.get(text, self.lookup.get(text.casefold()))
        if found is None:
            known = ", ".join(f"{value} ({label})" for value, label in self.offered)
            raise forms.ValidationError(f"Unknown {self.what} “{text[:60]}”: use one of {known}.",
                                        code="invalid_choice")
        return found

    def validate(self, value):
        forms.Field.validate(self, value)  # to_python checked the choice already


class ReasonField(_LookupChoiceField):
    what = "reason"


class ChannelField(_LookupChoiceField):
    what = "channel"


def _moment(label: str, name: str, help_text: str) -> forms.DateTimeField:
    """An optional date and time of a request (the browser's picker; the API sends ISO 8601)."""
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
        error_messages={"invalid": f"“{name}” is not a date or date and time (ISO 8601: 2026-11-20,"
                                   " 2026-11-20T14:30 or 2026-11-20T14:30:00Z)."},
    )


class RequestDetailsForm(forms.Form):
    """Why and when numbers were asked for: reason, channel, received, note, expires (all optional).

    Blank fields take the defaults: reason *Consumer request*, the form's `channel`, received when
    added. `status` is the one the numbers are added at (forms with the add-as choice read
    theirs): a permanently approved number never expires. Cleaned, `details()` is the RequestDetails.
    """

    reason = ReasonField(required=False, widget=forms.Select(attrs={"class": "form-select"}))
    channel = ChannelField(required=False, widget=forms.Select(attrs={"class": "form-select"}))
    received_at = _moment("Request received", "Received", "When the request arrived; empty: now. Never in the future.")
    note = forms.CharField(
        required=False, max_length=MAX_NOTE, help_text=f"Up to {MAX_NOTE} characters.",
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": MAX_NOTE}),
        error_messages={"max_length": f"The note is too long: at most {MAX_NOTE} characters (it has %(show_value)d)."},
    )
    expires_at = _moment("Expires", "Expires", "Only for reasons that may expire (e.g. Wrong number); empty: never.")

    def __init__(self, *args, channel: str = Channel.OTHER, status: Status = Status.REVIEW, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_channel, self.status = Channel(channel), status
        if not (reasons := list(Reason.objects.all())):  # emptied (a flushed test database): the built-in ones
            default_reason_id()
            reasons = list(Reason.objects.all())
        self.fields["reason"].offer([(reason.slug, reason.name, reason) for reason in reasons])  # type: ignore[attr-defined]
        self.fields["channel"].offer([(value, label, Channel(value)) for value, label in Channel.choices])  # type: ignore[attr-defined]
        self.fields["reason"].initial = Reason.DEFAULT
        self.fields["channel"].initial = self.default_channel

    def requested_status(self) -> Status:
        return self.status

    def check(self, data) -> RequestDetails | list[str]:
        """Check another set of details with this form: the details, or the errors. The API checks
        thousands of rows a request; making a form each time would cost ten times the checking."""
        self.data, self.is_bound, self._errors = data, True, None
        return self.details() if self.is_valid() else self.detail_errors()

    def clean_received_at(self) -> datetime | None:
        received = self.cleaned_data["received_at"]
        if received is None:
            return None
        if received > timezone.now() + CLOCK_SKEW:
            raise forms.ValidationError(
                f"“Received” is in the future ({received:%Y-%m-%d %H:%M}):"  # as given: the year 9999 has no local time
                " a request can only have arrived already."
            )
        if received.date() < EARLIEST_DATE:
            raise forms.ValidationError(f"“Received” is before {EARLIEST_DATE:%Y}: check the year.")
        return received

    def clean_expires_at(self) -> datetime | None:
        expires = self.cleaned_data["expires_at"]
        if expires is None:
            return None
        if expires <= timezone.now():
            raise forms.ValidationError("“Expires” is not in the future: a number cannot be added already expired.")
        if expires.date() > LATEST_DATE:
            raise forms.ValidationError(f"“Expires” is after {LATEST_DATE:%Y}: leave it empty for never.")
        return expires

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returns, typed without the None
        expires = data.get("expires_at")
        reason = data.get("reason") or (self._default_reason() if "reason" in data else None)
        if expires is not None and reason is not None:
            if self.requested_status() == Status.PERMANENT:
                self.add_error("expires_at", "A permanently approved number never expires: leave “Expires” empty"
                                             " or add the numbers without permanent approval.")
            elif not reason.expirable:
                expirable = ", ".join(name for name in self._expirable_names()) or "none so far"
                self.add_error("expires_at", f"Numbers listed for “{reason.name}” never expire; the reasons that"
                                             f" may expire: {expirable}.")
            elif reason.retained:
                kept_until = retained_until(data.get("received_at") or timezone.now())
                if expires < kept_until:
                    self.add_error("expires_at", f"A “{reason.name}” request is kept {settings.RETENTION_YEARS} years:"
                                                 f" “Expires” must be {timezone.localtime(kept_until):%Y-%m-%d %H:%M}"
                                                 " or later.")
        return data

    def _default_reason(self) -> Reason | None:
        return self.fields["reason"].lookup.get(Reason.DEFAULT)  # type: ignore[attr-defined]

    def _expirable_names(self) -> list[str]:
        field = self.fields["reason"]
        return [label for value, label in field.offered if field.lookup[value].expirable]  # type: ignore[attr-defined]

    def details(self) -> RequestDetails:
        data = self.cleaned_data
        return RequestDetails(
            reason=data["reason"], channel=data["channel"] or self.default_channel,
            received_at=data["received_at"], note=data["note"], expires_at=data["expires_at"],
        )

    def detail_fields(self):
        return [self[name] for name in DETAIL_FIELDS]

    def detail_errors(self) -> list[str]:
        """Each error of the details, naming its field (the API's per-row answer, the upload's message)."""
        return [f"{error}" for name in [*DETAIL_FIELDS, None] for error in self.errors.get(name or "__all__", ())]


DETAIL_FIELDS = ("reason", "channel", "received_at", "note", "expires_at")


class ApprovalChoiceMixin(forms.Form):
    """The status every way to add numbers adds at: one three-way choice (`add_as`, offered to
    Managers only: the view refuses a forged one). The two checkboxes it replaced, `approve` and
    `approve_permanently`, are still read when posted (scripts); the highest status asked wins.
    `confirmed`: the user answered "Yes" to adding numbers permanently (it cannot be undone)."""

    ADD_AS = {"review": Status.REVIEW, "approved": Status.APPROVED, "permanent": Status.PERMANENT}
    add_as = forms.ChoiceField(
        required=False,
        label="Add the numbers",
        choices=[("review", "For review"), ("approved", "Mark all dnc leads as approved"),
                 ("permanent", "Mark all dnc leads as approved permanently")],
        initial="review",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )

    def requested_status(self) -> Status:
        asked = [self.ADD_AS[self.cleaned_data.get("add_as") or "review"]]
        if self._ticked("approve"):
            asked.append(Status.APPROVED)
        if self._ticked("approve_permanently"):
            asked.append(Status.PERMANENT)
        return max(asked)

    def needs_confirmation(self) -> bool:
        """Adding permanently cannot be undone: the user is asked first, with the count."""
        return self.requested_status() == Status.PERMANENT and not self._ticked("confirmed")

    def _ticked(self, name: str) -> bool:
        """A posted yes/no read as a BooleanField reads it ("on", "true"; not "", "false", "0"):
        not a field of the form, since the page shows none of them."""
        return forms.BooleanField(required=False).to_python(self.data.get(self.add_prefix(name)))


class DncListField(forms.ModelChoiceField):
    """The list to add to: offers the lists that take new numbers; none given is Internal; an
    archived one (chosen before it was archived, or forged) is refused with ArchivedList's reason."""

    def __init__(self, **kwargs):
        super().__init__(queryset=DncList.objects.all(), empty_label=None, label="List", **kwargs)

    def offer_open_lists(self) -> None:
        self.widget.choices = [(dnc_list.pk, dnc_list.name) for dnc_list in DncList.objects.filter(archived_at=None)]

    def to_python(self, value):
        if value in self.empty_values:  # a form posted without the choice (a script, an older page): Internal
            return DncList.objects.get(pk=internal_list_id())
        return super().to_python(value)

    def validate(self, value):
        super().validate(value)
        try:
            refuse_archived(value)
        except ArchivedList as error:
            raise forms.ValidationError(str(error), code="archived") from None


class ListChoiceMixin(forms.Form):
    """Which list every way to add numbers by page adds to; `dnc_list` (a DncList) is the one
    chosen above the tabs, else Internal."""

    dnc_list = DncListField(widget=forms.Select(attrs={"class": "form-select"}),
                            help_text="The list the numbers go into. Archived lists take none.")

    def __init__(self, *args, dnc_list: DncList | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dnc_list"].offer_open_lists()  # type: ignore[attr-defined]  # a DncListField
        self.fields["dnc_list"].initial = dnc_list.pk if dnc_list is not None else internal_list_id()


PREFIX_HELP = " A prefix block ends with * or X's (+1 201*, 201XXXXXXX): every number starting so."


class AddNumbersForm(ListChoiceMixin, ApprovalChoiceMixin, RequestDetailsForm):
    """Numbers typed by hand, one per line, with their request's details; any invalid line or
    detail refuses the whole batch. Prefix blocks (`+1201*`) only with `allow_prefix` (Managers:
    services.may_add_prefixes); for others such a line is an error that says why."""

    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "+1 (415) 555-0123\n415.555.0124"}),
        help_text=f"One number per line, up to {MAX_HAND_ENTRIES:,}. Any common written form; an extension"
                  " (ext 5, x5, #5) is dropped: the line is what is listed.",
    )

    def clean_numbers(self) -> list[str]:
        lines = [(n, line.strip()) for n, line in enumerate(self.cleaned_data["numbers"].splitlines(), 1)]
        lines = [(n, line) for n, line in lines if line]
        if len(lines) > MAX_HAND_ENTRIES:
            raise forms.ValidationError(
                f"{len(lines):,} numbers given; at most {MAX_HAND_ENTRIES:,} at a time. Upload a CSV file for more."
            )
        phones, errors = [], []
        for line_number, line in lines:
            phone, reason = normalized_entry(line, self.allow_prefix)
            if reason:
                errors.append(f"Line {line_number} ({line[:40]}): {reason}.")
            else:
                phones.append(phone)
        if errors:
            raise forms.ValidationError(["Nothing was added. Fix these lines and submit again.", *errors[:20]])
        return phones

    def __init__(self, *args, allow_prefix: bool = False, **kwargs):
        super().__init__(*args, channel=Channel.PHONE, **kwargs)  # most hand-typed requests were phoned in
        self.allow_prefix = allow_prefix
        if allow_prefix:
            self.fields["numbers"].help_text += PREFIX_HELP


class UploadForm(ListChoiceMixin, ApprovalChoiceMixin, RequestDetailsForm):
    """A CSV file of numbers for the worker to import, with one set of request details for the
    whole file. The file rules and the details are checked here, in the request, so a refused
    file is neither stored nor queued; cleaned, `file` is a CsvFile."""

    file = forms.FileField(
        label="Choose File",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def __init__(self, *args, allow_prefix: bool = False, **kwargs):
        """`allow_prefix` only says so in the help text: the import checks the uploader's permission."""
        super().__init__(*args, channel=Channel.UPLOAD, **kwargs)
        self.fields["file"].help_text = csv_files.rules_text() + (PREFIX_HELP if allow_prefix else "")
        received = self.fields["received_at"]
        received.label = "Request received (date)"
        received.help_text = "One date for the whole file; empty: when imported."
        received.widget = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")

    def clean_file(self) -> csv_files.CsvFile:
        upload = self.cleaned_data["file"]
        try:
            return csv_files.read_csv(upload.name, upload)
        except csv_files.BadFile as error:
            raise forms.ValidationError(error.message) from None
