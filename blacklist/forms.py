from django import forms

from .models import Status
from .phones import InvalidPhone, normalize_phone

MAX_HAND_ENTRIES = 1000


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
        help_text=f"One number per line, up to {MAX_HAND_ENTRIES:,}. Any common written form.",
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
            try:
                phones.append(normalize_phone(line))
            except InvalidPhone as error:
                errors.append(f"Line {line_number} ({line[:40]}): {error.reason}.")
        if errors:
            raise forms.ValidationError(["Nothing was added. Fix these lines and submit again.", *errors[:20]])
        return phones
