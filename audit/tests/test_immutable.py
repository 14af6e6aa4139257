"""Events are append-only: the database refuses any UPDATE or DELETE of one, from the ORM, a
model instance, a bulk QuerySet call or plain SQL, on PostgreSQL and SQLite alike."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(make_numbers, admin_user):
    make_numbers(Status.REVIEW, reason="other")  # not kept for retention
    services.remove(BlacklistedNumber.objects.all(), admin_user)
    return Event.objects.get()


def assert_refused(change):
    with pytest.raises(IntegrityError), transaction.atomic():
        change()


def test_an_event_cannot_be_saved_changed_or_deleted_through_the_orm(event):
    event.actor = "someone else"
    assert_refused(event.save)
    assert_refused(Event.objects.get().delete)
    assert_refused(lambda: Event.objects.update(actor="nobody"))
    assert_refused(lambda: Event.objects.all().delete())

    assert Event.objects.get().actor == "admin"


@pytest.mark.parametrize("sql", [
    "UPDATE audit_event SET actor = 'nobody'",
    "UPDATE audit_event SET at = at",  # even a no-op rewrite
    "DELETE FROM audit_event",
    "DELETE FROM audit_event WHERE phone = '+14155550100'",
])
def test_an_event_cannot_be_changed_or_deleted_with_plain_sql(event, sql):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    assert_refused(run)
    assert list(Event.objects.values_list("phone", "actor")) == [("+14155550100", "admin")]


def test_the_triggers_exist(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
        postgresql = {  # the truncate guard (audit/0002); the chart's per-day counts (audit/0007)
            "audit_event_no_truncate", "audit_event_count_days", "audit_event_uncount_days",
        } if connection.vendor == "postgresql" else set()
        assert {name for (name,) in cursor.fetchall()} == {"audit_event_no_update", "audit_event_no_delete", *postgresql}


def test_events_outlive_the_user_who_made_them(event, admin_user):
    admin_user.delete()

    assert Event.objects.get().actor == "admin"


def test_no_admin_page_edits_events(admin_client, event):
    assert admin_client.get("/admin/audit/event/").status_code == 404
    assert admin_client.post(f"/admin/audit/event/{event.pk}/delete/", {"post": "yes"}).status_code == 404
    assert Event.objects.count() == 1


def test_the_app_has_no_url_that_changes_an_event(admin_client, event):
    for name in ["audit:activity", "audit:export", "audit:history"]:
        assert admin_client.post(reverse(name), {"id": event.pk}).status_code == 405
    assert Event.objects.get().actor == "admin"
