"""The compliance report per entry (issue 15): an open request and a tally belong to one list,
and a request is an entry's (a number on one list), not a number's. Every existing tally and
open request was folded from events of the Internal list (id 1, migration 0005: every event
from before lists), so they are Internal's and stay valid as they are. Should a database hold
an event of another list already folded by the per-number fold (written between 0005 and this
one), the tallies are emptied and the mark reset, so the next fold counts every event again,
per entry. New columns on the tally tables only: audit_event is not rebuilt (its SQLite
triggers stay).
"""

import django.db.models.deletion
from django.db import migrations, models


def recount_if_folded_per_number(apps, schema_editor):
    Event = apps.get_model("audit", "Event")
    mark = apps.get_model("audit", "TallyMark").objects.filter(pk=1).values_list("last_event_id", flat=True).first()
    if mark and Event.objects.filter(id__lte=mark).exclude(dnc_list_id=1).exclude(dnc_list_id=None).exists():
        apps.get_model("audit", "RequestTally").objects.all().delete()
        apps.get_model("audit", "OpenRequest").objects.all().delete()
        apps.get_model("audit", "TallyMark").objects.filter(pk=1).update(last_event_id=0)


def internal_list():
    return models.ForeignKey(
        db_constraint=False, db_index=False, default=1, on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+", to="blacklist.dnclist", verbose_name="list",
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_named_lists"),
        ("blacklist", "0010_named_lists"),
    ]

    operations = [
        migrations.AddField(model_name="requesttally", name="dnc_list", field=internal_list(), preserve_default=False),
        migrations.AddField(model_name="openrequest", name="dnc_list", field=internal_list(), preserve_default=False),
        migrations.RemoveConstraint(model_name="requesttally", name="request_tally_day"),
        migrations.AddConstraint(
            model_name="requesttally",
            constraint=models.UniqueConstraint(fields=("received_on", "deadline", "dnc_list"),
                                               name="request_tally_day_list"),
        ),
        migrations.AlterField(model_name="openrequest", name="phone", field=models.CharField(max_length=16)),
        migrations.AddConstraint(
            model_name="openrequest",
            constraint=models.UniqueConstraint(fields=("phone", "dnc_list"), name="open_request_per_entry"),
        ),
        migrations.RunPython(recount_if_folded_per_number, migrations.RunPython.noop),
    ]
