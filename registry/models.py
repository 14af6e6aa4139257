"""The national registry's numbers, its area codes' freshness, and the files loaded into it."""

from datetime import date, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.utils import timezone

from tasks_logs.models import TaskLog

AREA_SPAN = 10**7  # the numbers of one area code: [code × 10^7, (code + 1) × 10^7)
EXCHANGE_SPAN = 10**4  # the numbers of one exchange (its 6 first digits): 201-555-0000 … 201-555-9999
EXCHANGES = AREA_SPAN // EXCHANGE_SPAN  # an area code's exchanges: 1,000


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


class RegistryExchangeQuerySet(models.QuerySet):
    def of_area_code(self, code: int):
        """Its exchanges' rows: their keys run from code × 1,000 to code × 1,000 + 999."""
        return self.filter(exchange__gte=code * EXCHANGES, exchange__lt=(code + 1) * EXCHANGES)

    def numbers(self) -> list[int]:
        """Every number these rows list, in order (a few thousand in tests and small tools; a load
        works on whole area codes' bitmaps, registry.bitmaps)."""
        from .bitmaps import numbers_of  # here: registry.bitmaps imports this module

        return [number for exchange, bits in self.order_by("exchange").values_list("exchange", "bits")
                for number in numbers_of(exchange, bytes(bits))]


class RegistryExchange(models.Model):
    """The national registry's numbers of one exchange: the 10,000 numbers that share their first
    6 digits (area code and exchange, e.g. 201-555), as a bitmap of 1,250 bytes whose bit n says
    whether the registry lists the exchange's number n (201-555-0123: bit 123). Bits are numbered
    as PostgreSQL's get_bit() numbers them: bit n is bit n % 8, from the least significant, of byte
    n // 8 (SQLite gets the same get_bit, registry.apps).

    A row per exchange that holds a listed number: at most 1,000 per area code, about 300,000 for
    the whole registry (some 400 MB at 260 million numbers, against 14 GB as a row per number). A
    lookup is one probe of the primary key and a bit test; a full list of 10 million numbers
    writes 1,000 rows. No audit event per number: the load's TaskLog is the record."""

    exchange = models.PositiveIntegerField(primary_key=True, help_text="the first 6 digits: area code and exchange")
    bits = models.BinaryField(help_text="1,250 bytes: bit n is whether the registry lists the exchange's number n")

    objects = RegistryExchangeQuerySet.as_manager()

    class Meta:
        db_table = "registry_exchange"

    def __str__(self):
        return f"exchange {self.exchange}"

    @property
    def area_code(self) -> int:
        return self.exchange // EXCHANGES


class RegistryFile(models.Model):
    """The file a registry load reads, kept in the database as uploaded (a ZIP stays a ZIP):
    workers may run on other machines and never read the web server's disk."""

    task_log = models.OneToOneField(TaskLog, primary_key=True, on_delete=models.CASCADE, related_name="registry_file")
    content = models.BinaryField()
    size = models.PositiveBigIntegerField(help_text="bytes as uploaded")

    def __str__(self):
        return f"the registry file of task {self.task_log_id}"
