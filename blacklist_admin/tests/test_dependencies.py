"""Dependencies: every requirement pinned, the installed set consistent (`pip check`), and no
known vulnerability in what is installed (`pip-audit`). Where the vulnerability database cannot
be reached (an offline machine: pip-audit then skips every package), the audit says so in a
warning instead of failing, and the pins plus `pip check` are what was verified."""

import json
import re
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest
from django.conf import settings

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[a-z,]+\])?==[0-9][A-Za-z0-9.+-]*$")


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-test.txt"])
def test_every_requirement_is_pinned_to_one_version(name):
    lines = [line.split("#")[0].strip() for line in (Path(settings.BASE_DIR) / name).read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("-r ")]

    assert requirements and [line for line in requirements if not PIN.match(line)] == []


def test_the_installed_packages_are_consistent():
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr


def test_no_installed_package_has_a_known_vulnerability():
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--path", sysconfig.get_paths()["purelib"], "--format", "json",
         "--progress-spinner", "off", "--timeout", "15"],
        capture_output=True, text=True, timeout=300,
    )
    report = json.loads(result.stdout or "{}")
    dependencies = report.get("dependencies", [])
    vulnerable = [f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
                  for d in dependencies if d.get("vulns")]
    assert dependencies, result.stderr[-2000:]
    assert vulnerable == []
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        warnings.warn(f"pip-audit could not reach its vulnerability database (offline?): none of the"
                      f" {len(dependencies)} installed packages was checked; pins and pip check only.", stacklevel=1)
