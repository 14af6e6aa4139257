"""The Lists page's permission, `blacklist.manage_lists` (roles 0006 gives it to Managers)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('blacklist', '0010_named_lists'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='dnclist',
            options={'ordering': ['pk'], 'permissions': [('manage_lists', 'Can add, rename, archive and delete lists (the Lists page)')], 'verbose_name': 'DNC list'},
        ),
    ]
