"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live_server.

Without Chromium these tests skip with a loud notice on a developer's machine, and fail
under CI (CI=1), where a browser test that cannot run is a broken build."""

import os
import shutil
import tempfile

import pytest

from tests.helpers import log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright's sync API

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_browser_home = tempfile.mkdtemp(prefix="chromium-home-")
os.environ.setdefault("XDG_CONFIG_HOME", _browser_home)
os.environ.setdefault("XDG_CACHE_HOME", _browser_home)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}: install Debian's `chromium` (make test does, as root)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"!!! BROWSER TESTS SKIPPED: {message}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture
def logged_in_page(page, live_server, django_user_model):
    """A Chromium page logged in as a superuser, through the real login form."""
    django_user_model.objects.create_superuser("admin", password="journey-pass-123")
    log_in(page, live_server.url, "admin", "journey-pass-123")
    return page
