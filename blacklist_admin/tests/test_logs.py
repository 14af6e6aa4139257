"""Structured logs: one JSON line per request (and per task event: see test_bulk_worker)."""

import json
import logging

import pytest
from django.urls import reverse

from blacklist_admin.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def test_each_request_logs_one_line_with_status_duration_and_user(admin_client, caplog):
    with caplog.at_level(logging.INFO, logger="blacklist_admin.request"):
        admin_client.get(reverse("blacklist:review"), {"phone": "415"})

    (record,) = [r for r in caplog.records if r.name == "blacklist_admin.request"]
    line = json.loads(JsonFormatter().format(record))
    assert (line["method"], line["path"], line["status"], line["user"]) == ("GET", "/blacklist/review/", 200, "admin")
    assert line["message"] == "GET /blacklist/review/ 200"
    assert line["level"] == "INFO" and line["duration_ms"] > 0
    assert line["time"].endswith("Z")


def test_anonymous_requests_log_no_user(client, caplog):
    with caplog.at_level(logging.INFO, logger="blacklist_admin.request"):
        client.get(reverse("blacklist:review"))
    (record,) = [r for r in caplog.records if r.name == "blacklist_admin.request"]
    assert (record.status, record.user) == (302, None)


def test_exceptions_are_kept_on_the_same_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exception"]
