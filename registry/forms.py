"""The Registry page's upload form: a registry file, what kind it is, whose it is, and the date of its data."""

import re

from django import forms
from django.utils import timezone

from .loads import Refused, check_options


class LoadForm(forms.Form):
    KINDS = {"": "Tell by the file", "full": "Full list (replaces its area codes)", "changes": "Change list"}

    file = forms.FileField(label="Registry file", help_text="As downloaded: flat text, change records or XML,"
                                                            " ZIP-compressed or not.")
    kind = forms.ChoiceField(choices=KINDS.items(), required=False, initial="",
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    area_code = forms.CharField(required=False, max_length=3, label="Area code",
                                help_text="Optional: a number of another area code refuses the file.",
                                error_messages={"max_length": "An area code has 3 digits, 200–999."})
    state = forms.CharField(required=False, max_length=2, label="State",
                            help_text="Optional, instead: two letters, e.g. NJ.")
    data_date = forms.DateField(label="Date of the data", widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="The registry's download date: freshness counts from it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_date"].initial = timezone.localdate

    def clean_area_code(self) -> int | None:
        text = self.cleaned_data["area_code"].strip()
        if not text:
            return None
        if not re.fullmatch(r"[2-9][0-9]{2}", text):  # ASCII digits only: int() would take "٢٠١"
            raise forms.ValidationError("An area code has 3 digits, 200–999.")
        return int(text)

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def clean(self):
        cleaned = super().clean() or {}
        area_code, state = cleaned.get("area_code"), cleaned.get("state", "")
        if area_code is not None and state:
            raise forms.ValidationError("Give an area code or a state, not both.")
        try:
            check_options(area_code, state, cleaned.get("data_date"))
        except Refused as refusal:
            raise forms.ValidationError(str(refusal).removesuffix(" Nothing was loaded.")) from None
        return cleaned

    def changes(self) -> bool | None:
        """A change list (True), a full list (False), or told by the file (None)."""
        return {"full": False, "changes": True}.get(self.cleaned_data["kind"])
