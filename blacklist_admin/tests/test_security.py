"""The security pass: every URL closed to anonymous users, state changes POST-only behind CSRF,
no open redirect, `check --deploy` clean in production settings, JSON-only Celery, and nothing
in the code that would execute or unpickle what users send."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from blacklist.models import BlacklistedNumber, Status

# Open to anyone, on purpose: logging in (ours and the admin's); the load balancer's /healthz (database and broker
# "ok"/"failed", no data); the API's own description (no data, and dialer developers read it first).
PUBLIC = {"login", "admin:login", "healthz", "api:openapi"}
SAMPLE_ARGS = {"int": "1", "str": "review", "slug": "x", "path": "1", "uuid": "00000000-0000-0000-0000-000000000000"}
# What changes data, with a body that would change something if accepted.
STATE_CHANGING = {
    "blacklist:add": ([], {"numbers": "4155550100"}),
    "blacklist:upload": ([], {}),
    "blacklist:row_action": (["review", "approve"], {"pk": "1"}),
    "blacklist:bulk_action": (["review"], {"action": "approve", "scope": "all", "query": "", "confirmed": "on"}),
    "api:create_key": ([], {"name": "k", "can_check": "on"}),
    "api:revoke_key": ([1], {}),
    "roles:set_role": ([1], {"role": "Manager"}),
    "logout": ([], {}),
    "password_change": ([], {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
}
POST_ONLY = {"blacklist:upload", "blacklist:row_action", "blacklist:bulk_action", "api:create_key",
             "api:revoke_key", "roles:set_role", "logout"}


def all_urls(patterns=None, prefix="", namespace=""):
    """(name, path) for every route of the URLconf, with sample values for its parameters."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = _sample(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from all_urls(entry.url_patterns, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else prefix + route), "/" + prefix + route


def _sample(pattern) -> str:
    text = str(pattern)
    if hasattr(pattern, "converters") and "<" in text:  # path("<int:pk>/")
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS[m.group(1) or "str"], text)
    text = text.lstrip("^").rstrip("$").replace("\\Z", "")  # re_path (the admin's)
    text = re.sub(r"\(\?P<\w+>([^)]*)\)", lambda m: m.group(1).split("|")[0] if m.group(1).isidentifier()
                  or "|" in m.group(1) else "1", text)
    return text.replace("\\", "")


URLS = sorted(set(all_urls()))


def test_the_walk_finds_every_app():
    names = {name for name, _ in URLS}
    assert {"blacklist:review", "tasks_logs:detail", "api:check", "api:keys", "login", "healthz"} <= names
    assert any(path.startswith("/admin/") for _, path in URLS)
    assert any(name.startswith("audit:") for name in names) and any(name.startswith("roles:") for name in names)


@pytest.mark.parametrize("name, path", URLS, ids=[path for _, path in URLS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_get_a_login_redirect_or_a_401_everywhere(client, db, name, path, method):
    response = getattr(client, method)(path)

    if name in PUBLIC:
        assert response.status_code in {200, 405}, response.status_code
    elif name == "api:not_found":  # any other /api/v1/ path: the API's JSON 404, which reveals nothing
        assert (response.status_code, list(response.json())) == (404, ["error"])
    elif path.startswith("/api/v1/"):  # the dialer's API: a key, never a login
        assert response.status_code in {401, 405}, response.status_code
        if response.status_code == 401:
            assert response.json()["error"]
    else:
        assert response.status_code in {302, 405}, response.status_code
        if response.status_code == 302:  # the admin's own login page for its pages, ours elsewhere
            assert response["Location"].startswith((reverse("login") + "?next=", "/admin/login/?next="))
    assert not BlacklistedNumber.objects.exists()


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_state_changing_views_refuse_get(admin_client, name):
    args, _ = STATE_CHANGING[name]
    assert admin_client.get(reverse(name, args=args)).status_code == 405


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_state_changing_views_need_the_csrf_token(admin_user, make_numbers, name):
    make_numbers(Status.REVIEW)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    args, data = STATE_CHANGING[name]

    response = client.post(reverse(name, args=args), data)

    assert response.status_code == 403
    assert BlacklistedNumber.objects.get().status == Status.REVIEW
    assert BlacklistedNumber.objects.count() == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:evil.example"])
def test_login_never_redirects_off_site(client, admin_user, target, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin_user.set_password("a long password")
    admin_user.save()

    response = client.post(reverse("login"), {"username": "admin", "password": "a long password", "next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_login_follows_a_local_next(client, admin_user):
    admin_user.set_password("a long password")
    admin_user.save()

    response = client.post(reverse("login"), {"username": "admin", "password": "a long password",
                                              "next": "/tasks/?state=running"})

    assert response["Location"] == "/tasks/?state=running"


def run_settings(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HTTPS",
                          "DJANGO_ALLOW_ASYNC_UNSAFE"}}  # the browser tests' setting, never a production one
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, capture_output=True, text=True,
                          env={**clean, "VAR_DIR": str(tmp_path), **env})


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "k3y-" + "x7Qp9Lm2Vb" * 6, "ALLOWED_HOSTS": "blacklist.example.com"}


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_settings(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_are_https_only_behind_the_proxy(tmp_path):
    shown = ("SECURE_SSL_REDIRECT SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE SECURE_HSTS_SECONDS"
             " SECURE_PROXY_SSL_HEADER SESSION_COOKIE_HTTPONLY").split()
    code = f"from django.conf import settings; print([getattr(settings, n) for n in {shown!r}])"

    production = run_settings(tmp_path, "shell", "-v0", "-c", code, **PRODUCTION)
    local = run_settings(tmp_path, "shell", "-v0", "-c", code, DEBUG="0", SECRET_KEY=PRODUCTION["SECRET_KEY"])

    assert production.stdout.strip() == str([True, True, True, 31_536_000, ("HTTP_X_FORWARDED_PROTO", "https"), True])
    # `make serve`: DEBUG off on localhost over plain http, so cookies must not be Secure-only there
    assert local.stdout.strip() == str([False, False, False, 0, None, True])


def test_debug_off_without_a_secret_key_refuses_to_start(tmp_path):
    result = run_settings(tmp_path, "check", DEBUG="0", ALLOWED_HOSTS="blacklist.example.com")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_celery_sends_and_accepts_json_only():
    from blacklist_admin.celery import app

    assert (app.conf.task_serializer, app.conf.result_serializer, set(app.conf.accept_content)) == (
        "json", "json", {"json"})


def test_nothing_in_the_code_executes_or_unpickles_input():
    risky = re.compile(r"\b(eval|exec)\(|\bpickle\b|\bmarshal\b|yaml\.load\(|shell=True|__import__\(")
    offenders = [
        f"{path}:{number}: {line.strip()}"
        for path in sorted(Path(settings.BASE_DIR).glob("*/**/*.py"))
        if not {".venv", "tests", "migrations", "bench"} & set(path.relative_to(settings.BASE_DIR).parts)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if risky.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
