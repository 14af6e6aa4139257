"""The national registry's numbers, its area codes' freshness, and the files loaded into it."""

from datetime import date, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.utils import timezone

from tasks_logs.models import TaskLog

AREA_SPAN = 10**7  # the numbers of one area code: [code × 10^7, (code + 1) × 10^7)


def stale_before(today: date | None = None) -> date:
    """Data dated before this is stale: older than REGISTRY_STALE_DAYS."""
    return (today or timezone.localdate()) - timedelta(days=settings.REGISTRY_STALE_DAYS)


def _stale(today: date | None) -> models.Q:
    return models.Q(data_date__lt=stale_before(today)) | models.Q(data_date=None)


class AreaCodeQuerySet(models.QuerySet):
    def stale(self, today: date | None = None):
        """The area codes whose data is older than REGISTRY_STALE_DAYS, or never loaded (the
        Registry page's flags, the Blacklists banner's count, /healthz)."""
        return self.filter(_stale(today))

    def freshness(self, today: date | None = None) -> "Freshness":
        """How many area codes are loaded and how many of them are stale, in one query (a row
        exists once an area code's first list has loaded: a few hundred rows at most)."""
        counts = self.aggregate(loaded=models.Count("code"),
                                stale=models.Count("code", filter=_stale(today)))
        return Freshness(counts["loaded"], counts["stale"])


class Freshness(NamedTuple):
    loaded: int
    stale: int


class AreaCode(models.Model):
    """One area code of the registry: how fresh its data is, and how many numbers it holds."""

    code = models.PositiveSmallIntegerField(primary_key=True, help_text="3 digits, e.g. 201")
    state = models.CharField(max_length=2, blank=True, help_text="two letters; blank when not geographic")
    data_date = models.DateField(null=True, blank=True, help_text="the date of the registry's data loaded")
    loaded_at = models.DateTimeField(null=True, blank=True, help_text="when its last list was loaded")
    numbers = models.PositiveIntegerField(default=0, help_text="registry numbers after the last load")
    last_load = models.ForeignKey(TaskLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = AreaCodeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        permissions = [("load_registry", "Can load the national registry's files and see its freshness")]

    def __str__(self):
        return f"area code {self.code}"

    @property
    def first_number(self) -> int:
        return self.code * AREA_SPAN

    def age_days(self, today: date | None = None) -> int | None:
        """Days since the date of its data; None while never loaded."""
        if self.data_date is None:
            return None
        return ((today or timezone.localdate()) - self.data_date).days

    def is_stale(self, today: date | None = None) -> bool:
        """Older than REGISTRY_STALE_DAYS (sellers may call only on data at most 31 days old), or never loaded."""
        return self.data_date is None or self.data_date < stale_before(today)


class RegistryNumber(models.Model):
    """A number on the national registry, as a 10-digit integer (area code first). No audit event
    per number: the load's TaskLog is the record.

    PostgreSQL: partitioned by range of number, one partition per area code
    (`registry_number_<code>`), so a full list replaces its area code by a swap of partitions
    (registry.loads). SQLite: one plain table. Created by migration 0001's SQL for each vendor."""

    number = models.BigIntegerField(primary_key=True)

    class Meta:
        db_table = "registry_number"

    def __str__(self):
        return str(self.number)

    @property
    def area_code(self) -> int:
        return self.number // AREA_SPAN


class RegistryFile(models.Model):
    """The file a registry load reads, kept in the database as uploaded (a ZIP stays a ZIP):
    workers may run on other machines and never read the web server's disk."""

    task_log = models.OneToOneField(TaskLog, primary_key=True, on_delete=models.CASCADE, related_name="registry_file")
    content = models.BinaryField()
    size = models.PositiveBigIntegerField(help_text="bytes as uploaded")

    def __str__(self):
        return f"the registry file of task {self.task_log_id}"
