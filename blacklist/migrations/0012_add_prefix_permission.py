"""The permission to add prefix blocks (`+1201*`) on hand entry and in uploads (roles: Managers).
A permission is a row: the table is not rebuilt, so the permanent-number triggers stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0011_manage_lists_permission")]

    operations = [
        migrations.AlterModelOptions(
            name="blacklistednumber",
            options={"permissions": [
                ("add_approved", "Can add numbers approved (the approval checkboxes)"),
                ("approve_permanently", "Can approve numbers permanently"),
                ("remove_retained", "Can remove numbers kept for retention, with a written justification"),
                ("add_prefix", "Can add prefix blocks"),
            ]},
        ),
    ]
