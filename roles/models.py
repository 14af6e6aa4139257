from django.db import models


class Role(models.Model):  # noqa: DJ008 — no table, never a row to name
    """No table: only the owner of the Managers' own page permissions. Giving roles is not Django's
    `auth.change_user`, which the admin reads as the right to edit anyone, `is_superuser` included;
    keeping reasons is one permission for the Reasons page, not the admin's add/change/delete."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("manage_roles", "Can give users their roles (the Roles page)"),
            ("manage_reasons", "Can add, rename and delete reasons (the Reasons page)"),
        ]
