"""Schemathesis (an OpenAPI fuzzer) against the API served by a real gunicorn: every check it has,
with a full-scope key, a check-only key and no key. The document and the code must agree."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from blacklist.models import BlacklistedNumber

pytestmark = pytest.mark.fuzz

CONFIG = Path(__file__).with_name("schemathesis.toml")  # which 400s are answers, not failures
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")  # text/csv bodies are text on the wire
MAX_EXAMPLES = 30  # per operation and phase: the three runs take ~40 s on the 2-core machine


def schemathesis() -> str:
    """The CLI from requirements-test.txt; missing is a failure under CI, a skip elsewhere."""
    binary = Path(sys.executable).with_name("schemathesis")
    if not binary.exists():
        (pytest.fail if os.environ.get("CI") else pytest.skip)("schemathesis is not installed (requirements-test.txt)")
    return str(binary)


def fuzz(base_url: str, key: str | None, cwd: Path) -> subprocess.CompletedProcess:
    command = [schemathesis(), "--config-file", str(CONFIG), "run", f"{base_url}/api/v1/openapi.json",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--continue-on-failure",
               "--workers", "2"]
    if key:
        command += ["--header", f"Authorization: Bearer {key}"]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(HOOKS)}
    # cwd: where it keeps its cache (.schemathesis/), out of the source tree
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


@pytest.mark.parametrize("scopes", ["full", "check only", "no key"])
def test_schemathesis_finds_no_failure(api_server, make_key, tmp_path, scopes):
    key = {
        "full": lambda: make_key(can_check=True, can_add=True, can_approve=True),
        "check only": lambda: make_key(),
        "no key": lambda: None,
    }[scopes]()

    run = fuzz(api_server, key, tmp_path)

    assert run.returncode == 0, f"schemathesis failed ({scopes}):\n{run.stdout[-20000:]}\n{run.stderr[-3000:]}"
    assert re.search(r"\b[1-9]\d* generated", run.stdout), run.stdout  # it did send requests
    # Whatever it sent, only valid E.164 numbers were stored, and only with a key that may add.
    phones = list(BlacklistedNumber.objects.values_list("phone", flat=True))
    assert all(phone.startswith("+") and phone[1:].isdigit() and len(phone) <= 16 for phone in phones)
    assert bool(phones) == (scopes == "full")
