"""The tabs of all lists sorted by status change: the two indexes over every list that 0010 replaced with
list-led ones come back (without them, each page sorted every row of the tab: 2.9 s and 6.5 s at
10M, docs/benchmarks.md). CREATE INDEX on both databases: SQLite does not rebuild the table, so
the permanent-number triggers stay."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("blacklist", "0012_add_prefix_permission")]

    operations = [
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status', 1)), fields=['-status_changed_at', '-id'], name='review_by_status_change'),
        ),
        migrations.AddIndex(
            model_name='blacklistednumber',
            index=models.Index(condition=models.Q(('status__gte', 2)), fields=['-status_changed_at', '-id'], name='approved_by_status_change'),
        ),
    ]
