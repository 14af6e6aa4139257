from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="LoginFailures",
            fields=[
                ("key", models.CharField(help_text="account:<username> or ip:<address>", max_length=200,
                                         primary_key=True, serialize=False)),
                ("count", models.PositiveIntegerField(default=0)),
                ("since", models.DateTimeField(help_text="the window's first failure")),
            ],
        ),
    ]
