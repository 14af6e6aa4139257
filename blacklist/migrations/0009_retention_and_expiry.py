"""Retention and expiry (docs/compliance.md): the permission to remove a number still kept for
retention (with a justification), and the partial index the expiry task reads
(WHERE expires_at <= now): only the few numbers with an expiry are in it.

Neither rebuilds the table on SQLite (a permission is a row, an index is CREATE INDEX), so the
permanent-number triggers stay."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0008_review_deadlines")]

    operations = [
        migrations.AlterModelOptions(
            name="blacklistednumber",
            options={"permissions": [
                ("add_approved", "Can add numbers approved (the approval checkboxes)"),
                ("approve_permanently", "Can approve numbers permanently"),
                ("remove_retained", "Can remove numbers kept for retention, with a written justification"),
            ]},
        ),
        migrations.AddIndex(
            model_name="blacklistednumber",
            index=models.Index(condition=models.Q(("expires_at__isnull", False)), fields=["expires_at"], name="expiring"),
        ),
    ]
