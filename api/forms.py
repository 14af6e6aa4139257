from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from blacklist.models import DncList


class ApiKeyForm(forms.Form):
    """A new API key: a name, what it may do, optionally on which lists, and the last day it works."""

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "Five9 production"}))
    can_check = forms.BooleanField(required=False, initial=True, label="Check and scrub numbers")
    can_add = forms.BooleanField(required=False, label="Add numbers (the dialer's own do-not-call requests)")
    can_approve = forms.BooleanField(
        required=False, label="Numbers it adds are approved at once", help_text="Otherwise they wait for review."
    )
    lists = forms.ModelMultipleChoiceField(
        queryset=DncList.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Lists", help_text="None chosen: every list, including lists made later. Chosen: it checks and scrubs"
        " against these only, and adds into one of them.",
    )
    valid_through = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: never expires. Otherwise the key stops working at midnight after this day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lists"].label_from_instance = lambda dnc_list: (  # type: ignore[attr-defined]
            f"{dnc_list.name} (archived)" if dnc_list.is_archived else dnc_list.name)

    def clean_valid_through(self):
        day = self.cleaned_data["valid_through"]
        if day and day < timezone.localdate():
            raise forms.ValidationError("That day is already over.")
        return day

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what clean() returns, typed without the None
        if not data.get("can_check") and not data.get("can_add"):
            raise forms.ValidationError("Give the key something to do: check and scrub, add, or both.")
        if data.get("can_approve") and not data.get("can_add"):
            self.add_error("can_approve", "Only a key that may add numbers can approve them.")
        return data

    def key_options(self) -> dict:
        """The cleaned form as services.create_key() takes it."""
        day = self.cleaned_data["valid_through"]
        expires_at = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) if day else None
        return {
            "name": self.cleaned_data["name"],
            "can_check": self.cleaned_data["can_check"],
            "can_add": self.cleaned_data["can_add"],
            "can_approve": self.cleaned_data["can_approve"],
            "expires_at": expires_at,
            "lists": list(self.cleaned_data["lists"]),
        }
