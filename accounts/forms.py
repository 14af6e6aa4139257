from django import forms
from django.contrib.auth.forms import PasswordChangeForm

from . import throttle


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's form, with each old password it checks counted like a login (accounts/throttle.py):
    a stolen session cannot try passwords there without limit."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        try:
            attempt = throttle.attempt(self.request, self.user.get_username())
        except throttle.Throttled:
            raise forms.ValidationError(
                "Too many failed logins for this account or from this address. Wait a quarter of an hour and try "
                "again, or ask an administrator to lift the lock.", code="throttled") from None
        old_password = super().clean_old_password()  # a wrong one raises: the try stays counted
        attempt.succeeded()
        return old_password
