from django import forms

from blacklist_admin.params import DatabaseIdListField

from . import csv_files
from .actions import ACTIONS, JUSTIFICATION_MAX, Action, on_tab
from .models import Status
from .phones import normalized

MAX_HAND_ENTRIES = 1000
CONFIRM_ABOVE = 1_000  # any action over this many numbers asks first


def numbers_text(count: int) -> str:
    return f"{count:,} number{'' if count == 1 else 's'}"


class BulkActionForm(forms.Form):
    """The page-bottom bulk actions: an action, which records, and (for "all") the filter."""

    SCOPES = {"selected": "Selected records", "page": "All records on this page",
              "all": "All {matching} records matching the filter"}

    action = forms.ChoiceField(choices=[])
    scope = forms.ChoiceField(choices=[], widget=forms.Select(
        attrs={"class": "form-select form-select-sm w-auto", "aria-label": "Which records"}))
    ids = DatabaseIdListField(required=False)  # the ticked checkboxes
    page_ids = DatabaseIdListField(required=False)  # every row on the page
    query = forms.CharField(required=False)  # the page's query string: its filter
    confirmed = forms.BooleanField(required=False)
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


class ApprovalChoiceMixin(forms.Form):
    """The two checkboxes of every way to add numbers; permanent implies approved."""

    approve = forms.BooleanField(
        required=False,
        label="Mark all dnc leads as approved",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    approve_permanently = forms.BooleanField(
        required=False,
        label="Mark all dnc leads as approved permanently",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def approval_checkboxes(self):
        return [self["approve"], self["approve_permanently"]]

    def requested_status(self) -> Status:
        if self.cleaned_data["approve_permanently"]:
            return Status.PERMANENT
        if self.cleaned_data["approve"]:
            return Status.APPROVED
        return Status.REVIEW


class AddNumbersForm(ApprovalChoiceMixin):
    """Numbers typed by hand, one per line; any invalid line refuses the whole batch."""

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
            phone, reason = normalized(line)
            if reason:
                errors.append(f"Line {line_number} ({line[:40]}): {reason}.")
            else:
                phones.append(phone)
        if errors:
            raise forms.ValidationError(["Nothing was added. Fix these lines and submit again.", *errors[:20]])
        return phones


class UploadForm(ApprovalChoiceMixin):
    """A CSV file of numbers for the worker to import. The file rules are checked here, in the
    request, so a refused file is neither stored nor queued; cleaned, `file` is a CsvFile."""

    file = forms.FileField(
        label="Choose File",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = csv_files.rules_text()

    def clean_file(self) -> csv_files.CsvFile:
        upload = self.cleaned_data["file"]
        try:
            return csv_files.read_csv(upload.name, upload)
        except csv_files.BadFile as error:
            raise forms.ValidationError(error.message) from None
