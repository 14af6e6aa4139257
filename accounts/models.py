from django.db import models


class LoginFailures(models.Model):
    """Failed logins in the current window for one account or one client address. In the
    database, not in process memory, so every web process and machine counts the same ones."""

    key = models.CharField(max_length=200, primary_key=True, help_text="account:<username> or ip:<address>")
    count = models.PositiveIntegerField(default=0)
    since = models.DateTimeField(help_text="the window's first failure")

    def __str__(self):
        return f"{self.key}: {self.count} since {self.since:%Y-%m-%d %H:%M}"
