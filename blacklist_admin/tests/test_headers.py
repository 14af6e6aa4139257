"""Security headers on every answer (Content-Security-Policy without inline scripts or styles,
Referrer-Policy, X-Content-Type-Options), and pages that need no exception to that policy: no
inline <script>, no on…= handler, no style="…" attribute, no javascript: URL in what they render.
(tests/test_csp_journey.py checks the same in Chromium, which reports every refusal.)"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from api import services as api_services
from blacklist import services
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(make_numbers, admin_user):
    """Something on every page: numbers of each status, events, a job in each state, an API key."""
    review, _, _, removed = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT, Status.REVIEW)
    services.remove(BlacklistedNumber.objects.filter(pk=removed.pk), admin_user)
    for state in TaskLog.State:
        TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name=f"{state}.csv", created_by=admin_user, state=state,
                               total=10, processed=4)
    api_services.create_key("Five9", can_check=True, can_add=True, can_approve=True, expires_at=None, user=admin_user)
    return {"review": review, "task": TaskLog.objects.first()}


def pages(content):
    """(what, response) for each page a person opens."""
    return {
        "login": lambda client: client.get(reverse("login")),
        "review tab": lambda client: client.get(reverse("blacklist:review")),
        "approved tab": lambda client: client.get(reverse("blacklist:approved")),
        "add tab": lambda client: client.get(reverse("blacklist:add")),
        "bulk confirmation": lambda client: client.post(
            reverse("blacklist:bulk_action", args=["review"]),
            {"action": "approve_permanently", "scope": "selected", "ids": [content["review"].pk], "query": ""}),
        "tasks logs": lambda client: client.get(reverse("tasks_logs:list")),
        "tasks logs rows": lambda client: client.get(reverse("tasks_logs:rows")),
        "a task": lambda client: client.get(reverse("tasks_logs:detail", args=[content["task"].pk])),
        "activity": lambda client: client.get(reverse("audit:activity")),
        "history": lambda client: client.get(reverse("audit:history"), {"phone": "+14155550103"}),
        "API page": lambda client: client.get(reverse("api:keys")),
        "roles": lambda client: client.get(reverse("roles:list")),
        "password change": lambda client: client.get(reverse("password_change")),
        "admin": lambda client: client.get(reverse("admin:blacklist_blacklistednumber_changelist")),
    }


class _Markup(HTMLParser):
    """What the policy would refuse: inline scripts and styles, handlers, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.refused, self._in_inline_script = [], False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self._in_inline_script = tag == "script" and "src" not in names
        if tag == "style":
            self.refused.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.refused.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.refused.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.refused.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        self._in_inline_script = False


def test_every_page_carries_the_security_headers_and_needs_no_inline_script_or_style(admin_client, content):
    for what, get in pages(content).items():
        response = get(admin_client)
        assert response.status_code == 200, what
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy, what
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, what
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, what
        assert response["Referrer-Policy"] == "same-origin", what
        assert response["X-Content-Type-Options"] == "nosniff", what
        markup = _Markup()
        markup.feed(response.content.decode())
        assert markup.refused == [], what


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/blacklist/check?phone=1", "/healthz",
                                  "/accounts/login/"])
def test_answers_without_a_login_carry_the_headers_too(client, path):
    response = client.get(path)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
