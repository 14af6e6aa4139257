"""Why and when each number was asked for (docs/compliance.md): reasons, and on each number its
reason, channel, received date, deadline, note, expiry and line in its upload.

Existing numbers get the reason *Consumer request*, the channel of the path that added them
(upload, API, else other), received = added, and the deadline that follows. The new columns
are added nullable, filled in a few set-based statements, then made NOT NULL.

SQLite rebuilds the table for the NOT NULL changes, which drops its triggers: the permanent-number
guard of migration 0002 is made again at the end (tests check it exists).
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import blacklist.models
from blacklist.deadlines import honour_by, honour_by_day

TABLE = "blacklist_blacklistednumber"
guard = importlib.import_module("blacklist.migrations.0002_permanent_numbers_guard")

REASONS = [  # slug, name, expirable, retained: frozen here as migrations must be
    ("consumer_request", "Consumer request", False, True),
    ("consent_revoked", "Consent revoked", False, True),
    ("litigator", "Litigator / legal", False, False),
    ("complaint", "Complaint", False, False),
    ("wrong_number", "Wrong number", True, False),
    ("internal_policy", "Internal policy", True, False),
    ("other", "Other", False, False),
]


def seed_reasons(apps, schema_editor):
    reason = apps.get_model("blacklist", "Reason")
    for slug, name, expirable, retained in REASONS:
        reason.objects.get_or_create(slug=slug, defaults={"name": name, "expirable": expirable, "retained": retained})


def fill_existing_numbers(apps, schema_editor):
    reason = apps.get_model("blacklist", "Reason")
    consumer = reason.objects.get(slug="consumer_request").pk
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET reason_id = %s, received_at = added_at, channel = CASE"
            " WHEN source_task_id IS NOT NULL THEN 'upload'"
            " WHEN EXISTS (SELECT 1 FROM audit_event e WHERE e.phone = blacklist_blacklistednumber.phone"
            "  AND e.action = 'added' AND e.via = 'api') THEN 'api' ELSE 'other' END",
            [consumer],
        )
        if schema_editor.connection.vendor == "postgresql":  # one deadline per day added, one UPDATE
            cursor.execute(
                f"SELECT DISTINCT (added_at AT TIME ZONE %s)::date FROM {TABLE}", [settings.TIME_ZONE]
            )
            days = [day for (day,) in cursor.fetchall()]
            cursor.execute("CREATE TEMPORARY TABLE deadline_of (day date PRIMARY KEY, deadline date NOT NULL)")
            cursor.executemany("INSERT INTO deadline_of VALUES (%s, %s)", [(day, honour_by_day(day)) for day in days])
            cursor.execute(
                f"UPDATE {TABLE} SET deadline = deadline_of.deadline FROM deadline_of"
                f" WHERE deadline_of.day = ({TABLE}.added_at AT TIME ZONE %s)::date",
                [settings.TIME_ZONE],
            )
            cursor.execute("DROP TABLE deadline_of")
            return
    number = apps.get_model("blacklist", "BlacklistedNumber")  # SQLite: the small embedded default
    changed = []
    for row in number.objects.only("pk", "added_at").iterator(chunk_size=2_000):
        row.deadline = honour_by(row.added_at)
        changed.append(row)
    number.objects.bulk_update(changed, ["deadline"], batch_size=500)


def recreate_sqlite_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in guard.SQLITE_DROP + guard.SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("blacklist", "0006_permanent_numbers_truncate_guard"),
        ("audit", "0003_request_details"),  # the fill reads the events of API adds
    ]

    operations = [
        migrations.CreateModel(
            name="Reason",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(help_text="Its name in the API; kept when renamed.", max_length=40, unique=True)),
                ("name", models.CharField(max_length=60, unique=True)),
                ("expirable", models.BooleanField(default=False, help_text="Numbers listed for this reason may be given an expiry date.")),
                ("retained", models.BooleanField(default=False, help_text="The consumer's own request: kept RETENTION_YEARS after it arrived; removing it earlier takes a Manager's written justification.")),
            ],
            options={"ordering": ["pk"]},
        ),
        migrations.RunPython(seed_reasons, migrations.RunPython.noop),
        migrations.AddField(
            model_name="blacklistednumber",
            name="reason",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="numbers", to="blacklist.reason"),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="channel",
            field=models.CharField(choices=[("phone", "Phone call"), ("sms", "SMS"), ("email", "E-mail"), ("web", "Web form"), ("letter", "Letter"), ("api", "API"), ("upload", "Upload"), ("other", "Other")], default="other", max_length=8),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="received_at",
            field=models.DateTimeField(null=True, verbose_name="request received"),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="deadline",
            field=models.DateField(null=True, verbose_name="honour by"),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="note",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="blacklistednumber",
            name="source_line",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="line in the upload"),
        ),
        migrations.RunPython(fill_existing_numbers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="blacklistednumber",
            name="reason",
            field=models.ForeignKey(default=blacklist.models.default_reason_id, on_delete=django.db.models.deletion.PROTECT, related_name="numbers", to="blacklist.reason"),
        ),
        migrations.AlterField(
            model_name="blacklistednumber",
            name="received_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="request received"),
        ),
        migrations.AlterField(
            model_name="blacklistednumber",
            name="deadline",
            field=models.DateField(help_text="received + HONOUR_WITHIN_BUSINESS_DAYS business days", verbose_name="honour by", default=None),
            preserve_default=False,
        ),
        migrations.RunPython(recreate_sqlite_guard, migrations.RunPython.noop),
    ]
