"""The peer of our upload in bench_import: the same CSV file imported through django-import-export
(requirements-bench.txt), a `ModelResource` on a scratch table with a unique phone column,
each value normalized exactly as ours are (`blacklist.phones.normalize_phone`, phonenumbers
underneath) and a row that is not a phone number rejected as an invalid row.

The scratch model is the bench's alone: it is registered only when a benchmark imports this
module (after django.setup()), is unmanaged (never a migration of the app), and its table is
created and dropped around each import by the schema editor, in the bench database.
"""

import io
import time
from dataclasses import dataclass
from importlib.metadata import version

import tablib
from django.core.exceptions import ValidationError
from django.db import connection, models
from import_export import fields, resources, widgets

from blacklist.phones import InvalidPhone, normalize_phone

VERSION = version("django-import-export")


class PeerNumber(models.Model):
    phone = models.CharField(max_length=16, unique=True)  # as our blacklist's phone, E.164

    class Meta:
        app_label = "blacklist"  # Django needs an installed app's; managed = False keeps it out of its migrations
        db_table = "bench_peer_number"
        managed = False

    def __str__(self) -> str:
        return self.phone


class PhoneWidget(widgets.CharWidget):
    """A written phone number → E.164, or the row is invalid (a ValidationError is what
    django-import-export reports as an invalid row and keeps importing the others)."""

    def clean(self, value, row=None, **kwargs):
        try:
            return normalize_phone(str(value or ""))
        except InvalidPhone as error:
            raise ValidationError(error.reason) from error


class DefaultResource(resources.ModelResource):
    """What its documentation starts with: rows looked up by their (normalized) phone, saved one by one."""

    phone = fields.Field(attribute="phone", column_name="Phone Number", widget=PhoneWidget())

    class Meta:
        model = PeerNumber
        fields = ("phone",)
        import_id_fields = ("phone",)


class BulkResource(DefaultResource):
    """Every tuning its documentation offers for new rows: bulk_create in batches, no per-row
    lookup (force_init_instance), no diffs. Bulk mode cannot see the rows of its own pending
    batch, so a number repeated in the file is skipped here (else bulk_create breaks the unique
    constraint and the whole import rolls back). Valid for a table holding none of the file's
    numbers, as the bench's scratch table."""

    class Meta(DefaultResource.Meta):
        use_bulk = True
        batch_size = 5_000
        force_init_instance = True
        skip_diff = True
        report_skipped = False

    def before_import(self, dataset, **kwargs):
        self.seen: set[str] = set()

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False  # validate_instance reports the row invalid
        if instance.phone in self.seen:
            return True
        self.seen.add(instance.phone)
        return False


MODES = {"default": DefaultResource, "bulk": BulkResource}


@dataclass(frozen=True)
class PeerImport:
    seconds: float  # csv → tablib Dataset → import_data, committed
    inserted: int  # rows in the scratch table afterwards
    invalid: int  # rows it reported invalid


def import_file(content: bytes, mode: str) -> PeerImport:
    """Import `content` (a CSV file) into a fresh scratch table with the resource of `mode`, timed;
    the table is dropped afterwards."""
    with connection.cursor() as cursor:  # left by a run that was killed
        cursor.execute(f"DROP TABLE IF EXISTS {PeerNumber._meta.db_table}")
    with connection.schema_editor() as editor:
        editor.create_model(PeerNumber)
    try:
        started = time.perf_counter()
        dataset = tablib.Dataset().load(io.StringIO(content.decode("utf-8")), format="csv")
        result = MODES[mode]().import_data(dataset, raise_errors=False)
        seconds = time.perf_counter() - started
        assert not result.has_errors(), [error.error for row in result.row_errors() for error in row[1]]
        return PeerImport(seconds, PeerNumber.objects.count(), len(result.invalid_rows))
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(PeerNumber)
