from django.conf import settings
from django.db import models
from django.utils import timezone

# What each scope needs its creator to be allowed in the web app. A key acts with the least of its
# scopes and its creator's permissions as they are now: checked on every call (services.authenticate),
# so a key stops approving, adding or checking when its creator is demoted.
SCOPE_PERMISSIONS = {
    "can_check": "blacklist.view_blacklistednumber",
    "can_add": "blacklist.add_blacklistednumber",
    "can_approve": "blacklist.add_approved",
}
SCOPE_LABELS = {"can_check": "check & scrub", "can_add": "add", "can_approve": "approve what it adds"}


class ApiKey(models.Model):
    """A dialer's credential for /api/v1/. Only a hash of the key is stored; people see the key
    once, when it is created. Revoked keys stay listed, with when and by whom."""

    name = models.CharField(max_length=100, help_text="Who or what uses it, e.g. “Five9 production”.")
    # The key's first characters (`dnc_Ab12Cd34`), shown in the list so people can tell keys apart.
    prefix = models.CharField(max_length=12)
    # SHA-256 of the whole key, hex. Keys are 256 random bits, so a slow password hash would add
    # nothing but latency to every request. unique=True gives the index each request looks up.
    key_hash = models.CharField(max_length=64, unique=True)
    can_check = models.BooleanField("check and scrub", default=True)
    can_add = models.BooleanField("add numbers", default=False)
    can_approve = models.BooleanField("numbers it adds are approved", default=False)
    # Which lists it may check, scrub and add into (docs/api.md, "Keys limited to some lists"):
    # every list, or only `lists`. The flag is kept apart from the set so that a limited key whose
    # lists were all deleted sees none, rather than every list.
    all_lists = models.BooleanField("every list", default=True)
    lists = models.ManyToManyField("blacklist.DncList", blank=True, related_name="+")
    expires_at = models.DateTimeField("expires", null=True, blank=True)
    created_at = models.DateTimeField("created", default=timezone.now)
    # No index on the two user columns: nothing lists keys by who made or revoked them.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    revoked_at = models.DateTimeField("revoked", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Written at most once a minute per key (services.LAST_USED_PRECISION), not on every request.
    last_used_at = models.DateTimeField("last used", null=True, blank=True)
    # Not columns: the scopes its creator no longer holds, and the ids of the lists it is limited
    # to (None: every list), both set by services.authenticate.
    withheld: set[str]
    list_ids: frozenset[int] | None

    class Meta:
        ordering = ["-created_at", "-id"]  # the API page: a handful of rows, no index needed
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def state(self, now=None) -> str:
        """`active`, `revoked` or `expired`: only an active key is let in."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"

    def allows(self, scope: str) -> bool:
        """Scopes: `check` (check and scrub) and `add`."""
        return {"check": self.can_check, "add": self.can_add}[scope]

    def creator_lacks(self) -> list[str]:
        """The API page's warning: the scopes this key holds that its creator may no longer use
        (all of them when the creator is deactivated or deleted), which its calls are refused."""
        granted = [field for field in SCOPE_PERMISSIONS if getattr(self, field)]
        if self.created_by is None:
            return [SCOPE_LABELS[field] for field in granted]
        return [SCOPE_LABELS[field] for field in granted if not self.created_by.has_perm(SCOPE_PERMISSIONS[field])]

    @property
    def list_names(self) -> list[str]:
        """The API page: the lists it is limited to ([] for every list; prefetch `lists`)."""
        return [] if self.all_lists else [dnc_list.name for dnc_list in self.lists.all()]

    @property
    def scope_names(self) -> list[str]:
        names = [name for name, granted in [("check & scrub", self.can_check), ("add", self.can_add)] if granted]
        return names + (["approves what it adds"] if self.can_add and self.can_approve else [])
