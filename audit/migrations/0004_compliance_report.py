"""The compliance report's tallies (audit/report.py) and its permission, which roles 0003 gives
to Reviewers and Managers. New tables only: audit_event is not rebuilt (its SQLite triggers stay).
Existing events are folded by the first fold (the beat task, or the page, PAGE_FOLD ids a time)."""

from django.db import migrations, models


def make_mark(apps, schema_editor):
    apps.get_model("audit", "TallyMark").objects.get_or_create(pk=1)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_request_details'),
    ]

    operations = [
        migrations.CreateModel(
            name='OpenRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('phone', models.CharField(max_length=16, unique=True)),
                ('received_at', models.DateTimeField()),
                ('received_on', models.DateField()),
                ('deadline', models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name='TallyMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_event_id', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.AlterModelOptions(
            name='event',
            options={'permissions': [('view_compliance_report', 'Can see the compliance report')]},
        ),
        migrations.CreateModel(
            name='RequestTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_on', models.DateField()),
                ('deadline', models.DateField()),
                ('received', models.IntegerField(default=0)),
                ('honoured', models.IntegerField(default=0)),
                ('late', models.IntegerField(default=0)),
                ('late_days', models.IntegerField(default=0)),
                ('late_days_max', models.IntegerField(default=0)),
                ('withdrawn', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('received_on', 'deadline'), name='request_tally_day')],
            },
        ),
        migrations.RunPython(make_mark, migrations.RunPython.noop),
    ]
