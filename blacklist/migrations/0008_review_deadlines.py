"""The review tab by deadline (docs/compliance.md): a partial index on (deadline, id) of the numbers
for review serves the Overdue and Due soon filters, the sort by deadline with keyset pages, and the
overdue count in the tab label.

AddIndex is a plain CREATE INDEX on both databases: SQLite does not rebuild the table, so the
permanent-number triggers stay (tests check they exist).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("blacklist", "0007_request_details"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="blacklistednumber",
            index=models.Index(condition=models.Q(("status", 1)), fields=["deadline", "id"], name="review_by_deadline"),
        ),
    ]
