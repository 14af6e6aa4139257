"""add_approved's description names the "Add as" choice, which replaced the approval checkboxes.
Django creates missing permissions after migrating but never renames one: the stored name is
updated here."""

from django.db import migrations

OLD = "Can add numbers approved (the approval checkboxes)"
NEW = 'Can add numbers as approved or approved permanently (the "Add as" choice)'


def rename(old: str, new: str):
    def run(apps, schema_editor):
        apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="blacklist", codename="add_approved", name=old).update(name=new)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("blacklist", "0016_tab_by_number_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="blacklistednumber",
            options={"permissions": [
                ("add_approved", NEW),
                ("approve_permanently", "Can approve numbers permanently"),
                ("remove_retained", "Can remove numbers kept for retention, with a written justification"),
                ("add_prefix", "Can add prefix blocks"),
            ]},
        ),
        migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD)),
    ]
