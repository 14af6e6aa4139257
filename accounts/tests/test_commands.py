"""Who a data-changing management command acts as: its `--user`."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.commands import acting_user
from blacklist.models import BlacklistedNumber

pytestmark = pytest.mark.django_db


def test_a_command_acts_as_the_named_user_or_no_one(admin_user):
    assert acting_user("admin") == admin_user
    assert acting_user(None) is None and acting_user("") is None


def test_an_import_naming_an_unknown_user_is_refused_and_adds_nothing(tmp_path):
    csv = tmp_path / "numbers.csv"
    csv.write_text("+12125550100\n")

    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("import_blacklist", str(csv), user="nobody")

    assert not BlacklistedNumber.objects.exists()


def test_an_import_records_the_user_it_acts_as(tmp_path, admin_user):
    csv = tmp_path / "numbers.csv"
    csv.write_text("+12125550100\n")

    call_command("import_blacklist", str(csv), user="admin")

    assert BlacklistedNumber.objects.get().added_by == admin_user
