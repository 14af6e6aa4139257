"""Login throttling, for every login form (ours and the admin's): both end in `authenticate()`;
and a user's permissions read in one query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from . import throttle


class ThrottledModelBackend(ModelBackend):
    """ModelBackend behind the throttle (accounts/throttle.py): each password checked takes a try
    first; after LOGIN_FAILURES_PER_ACCOUNT to one username, or LOGIN_FAILURES_PER_IP from one
    address, within LOGIN_LOCKOUT_MINUTES, no password is checked at all (right or wrong) until
    that window has passed."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            attempt = throttle.attempt(request, username or kwargs.get("username") or "")
        except throttle.Throttled:
            raise PermissionDenied("Too many failed logins.") from None  # authenticate() stops here: no other backend
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The user's own permissions and their roles' (groups'), from one query where ModelBackend
        makes two (`user_permissions`, then the groups'): every page asks some (the menu, a tab's
        actions), once a request (cached on the user as ModelBackend does)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            granted = Permission.objects.all() if user_obj.is_superuser else Permission.objects.filter(
                Q(pk__in=get_user_model().user_permissions.through.objects.filter(user=user_obj).values("permission"))
                | Q(pk__in=Group.permissions.through.objects.filter(group__user=user_obj).values("permission"))
            )
            pairs = granted.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in pairs}
        return user_obj._perm_cache
