"""BLOCK_NUMBERS_UNDER_REVIEW comes from the environment, on by default; junk stops the app."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


def setting_in_fresh_process(tmp_path, value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BLOCK_NUMBERS_UNDER_REVIEW"}
    if value is not None:
        env["BLOCK_NUMBERS_UNDER_REVIEW"] = value
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.BLOCK_NUMBERS_UNDER_REVIEW)"],
        env={**env, "DJANGO_SETTINGS_MODULE": "blacklist_admin.settings", "VAR_DIR": str(tmp_path)},
        cwd=settings.BASE_DIR, capture_output=True, text=True,
    )


@pytest.mark.parametrize("value, shown", [(None, "True"), ("0", "False"), ("off", "False"), ("1", "True")])
def test_numbers_under_review_block_unless_switched_off(tmp_path, value, shown):
    loaded = setting_in_fresh_process(tmp_path, value)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == shown


def test_a_junk_value_stops_the_app_with_a_clear_message(tmp_path):
    loaded = setting_in_fresh_process(tmp_path, "sometimes")
    assert loaded.returncode != 0
    assert "BLOCK_NUMBERS_UNDER_REVIEW='sometimes' is not a boolean" in loaded.stderr
