"""The Reasons page (blacklist/reasons.py): Managers list reasons with how many numbers use
each, add, rename (slug kept), mark expirable / retained, and delete only unused ones; every
bad input is refused with a message and changes nothing."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.events import Source
from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Reason, Status, default_reason_id
from blacklist.request_details import RequestDetails

pytestmark = pytest.mark.django_db
BUILT_IN = ["consumer_request", "consent_revoked", "litigator", "complaint", "wrong_number", "internal_policy", "other"]


@pytest.fixture(autouse=True)
def _built_in_reasons(db):
    """The seven built-in reasons, made again if a transactional test's flush emptied the table."""
    default_reason_id()


def reasons_now() -> list[tuple]:
    return list(Reason.objects.values_list("slug", "name", "expirable", "retained"))


@pytest.fixture
def manager(client, make_user):
    user = make_user("Manager")
    client.force_login(user)
    return user


def add(client, name, **flags):
    return client.post(reverse("blacklist:reasons"), {"new-name": name, **{f"new-{k}": "on" for k in flags}})


def edit(client, reason, name, **flags):
    data = {f"r{reason.pk}-name": name, **{f"r{reason.pk}-{k}": "on" for k in flags}}
    return client.post(reverse("blacklist:edit_reason", args=[reason.pk]), data)


def list_numbers(user, reason_slug, count, start=0, **details):
    phones = [f"+1415555{start + i:04d}" for i in range(count)]
    services.add_numbers(phones, Status.REVIEW, user, source=Source(Event.Via.HAND),
                         details=RequestDetails(reason=Reason.objects.get(slug=reason_slug), **details))


def test_managers_see_every_reason_with_how_many_numbers_use_it(client, manager):
    list_numbers(manager, "complaint", 120)
    list_numbers(manager, "wrong_number", 3, start=500)
    page = html.unescape(client.get(reverse("blacklist:reasons")).content.decode())

    assert f'href="{reverse("blacklist:reasons")}">Reasons</a>' in page  # in the menu
    counts = {slug: page[page.index(f"<code>{slug}</code>"):].split('reason-count">')[1].split("<")[0]
              for slug in BUILT_IN}
    assert counts == {**dict.fromkeys(BUILT_IN, "0"), "complaint": "120", "wrong_number": "3"}
    assert page.count(">Delete</button>") == 4  # the unused ones but Consumer request, the default
    assert 'aria-label="Delete Other"' in page and 'aria-label="Delete Complaint"' not in page


@pytest.mark.parametrize("role", ["Viewer", "Reviewer"])
def test_viewers_and_reviewers_may_not_keep_reasons(client, make_user, role):
    client.force_login(make_user(role))
    other = Reason.objects.get(slug="other")

    assert client.get(reverse("blacklist:reasons")).status_code == 403
    assert add(client, "Do not contact").status_code == 403
    assert edit(client, other, "Anything else").status_code == 403
    assert client.post(reverse("blacklist:delete_reason", args=[other.pk])).status_code == 403
    assert [slug for slug, *_ in reasons_now()] == BUILT_IN and Reason.objects.get(slug="other").name == "Other"
    assert "Reasons</a>" not in client.get(reverse("audit:activity")).content.decode()


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("blacklist:reasons"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_edit_and_delete_take_post_only(client, manager):
    other = Reason.objects.get(slug="other")
    assert client.get(reverse("blacklist:edit_reason", args=[other.pk])).status_code == 405
    assert client.get(reverse("blacklist:delete_reason", args=[other.pk])).status_code == 405


def test_adding_a_reason_derives_its_slug_from_its_name(client, manager, caplog):
    response = add(client, "  Do not   contact / legal hold ", expirable=True)
    assert response.status_code == 302
    assert reasons_now()[-1] == ("do_not_contact_legal_hold", "Do not contact / legal hold", True, False)
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "Added the reason “Do not contact / legal hold” (API name: do_not_contact_legal_hold)." in page
    assert ("manager added the reason" in caplog.text
            and "“Do not contact / legal hold” (do_not_contact_legal_hold; expirable: True, retained: False)"
            in caplog.text)


def test_a_slug_already_taken_gets_a_number_and_a_name_of_no_letters_a_plain_one(client, manager):
    assert add(client, "Other!").status_code == 302
    assert add(client, "Другое", retained=True).status_code == 302
    assert add(client, "Иное").status_code == 302
    assert reasons_now()[-3:] == [("other_2", "Other!", False, False), ("reason", "Другое", False, True),
                                  ("reason_2", "Иное", False, False)]


@pytest.mark.parametrize("name, message", [
    ("Complaint", "There is already a reason named “Complaint”."),
    ("  wrong   NUMBER ", "There is already a reason named “wrong NUMBER”."),
    ("", "Give the reason a name."),
    ("   ", "Give the reason a name."),
    ("x" * 61, "Ensure this value has at most 60 characters (it has 61)."),
])
def test_a_bad_new_name_is_refused_and_nothing_is_added(client, manager, name, message):
    response = add(client, name, expirable=True)

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert message in page and "The reason was not added: see below." in page
    assert [slug for slug, *_ in reasons_now()] == BUILT_IN


def test_sixty_characters_are_enough(client, manager):
    assert add(client, "y" * 60).status_code == 302
    assert reasons_now()[-1][:2] == ("y" * 40, "y" * 60)


def test_renaming_keeps_the_slug_the_numbers_and_the_names_in_past_events(client, manager, caplog):
    list_numbers(manager, "complaint", 2)
    complaint = Reason.objects.get(slug="complaint")

    response = edit(client, complaint, "Complaint (FTC)", retained=True)

    assert response.status_code == 302
    assert Reason.objects.get(pk=complaint.pk).name == "Complaint (FTC)"
    assert reasons_now()[3] == ("complaint", "Complaint (FTC)", False, True)
    assert BlacklistedNumber.objects.filter(reason=complaint).count() == 2
    assert set(Event.objects.values_list("reason", flat=True)) == {"Complaint"}  # the record as it was
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "Saved the reason “Complaint (FTC)” (was “Complaint”)." in page
    assert (f"manager edited the reason #{complaint.pk} (complaint): name: 'Complaint' → 'Complaint (FTC)';"
            " retained: False → True") in caplog.text  # who changed which numbers a removal keeps


def test_marking_a_reason_expirable_and_retained(client, manager):
    other = Reason.objects.get(slug="other")
    assert edit(client, other, "Other", expirable=True, retained=True).status_code == 302
    assert reasons_now()[-1] == ("other", "Other", True, True)
    assert edit(client, other, "Other").status_code == 302
    assert reasons_now()[-1] == ("other", "Other", False, False)


def test_saving_unchanged_says_so(client, manager):
    other = Reason.objects.get(slug="other")
    response = edit(client, other, "Other")
    assert "“Other” was already so: nothing changed." in html.unescape(client.get(response["Location"]).content.decode())


@pytest.mark.parametrize("name, message", [
    ("Complaint", "There is already a reason named “Complaint”."),
    ("", "Give the reason a name."),
    ("z" * 61, "Ensure this value has at most 60 characters (it has 61)."),
])
def test_a_bad_rename_is_refused_and_nothing_changes(client, manager, name, message):
    other = Reason.objects.get(slug="other")
    response = edit(client, other, name, expirable=True)

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert message in page and "“Other” was not changed: see below." in page
    assert reasons_now()[-1] == ("other", "Other", False, False)


def test_a_reason_stays_expirable_while_its_numbers_have_an_expiry(client, manager):
    list_numbers(manager, "wrong_number", 1, expires_at=timezone.now() + timedelta(days=30))
    wrong = Reason.objects.get(slug="wrong_number")

    response = edit(client, wrong, "Wrong number (checked)")

    assert response.status_code == 400
    assert "Numbers with this reason have an expiry date" in html.unescape(response.content.decode())
    assert reasons_now()[4] == ("wrong_number", "Wrong number", True, False)


def test_an_unused_reason_is_deleted(client, manager, caplog):
    other = Reason.objects.get(slug="other")
    response = client.post(reverse("blacklist:delete_reason", args=[other.pk]))
    assert response.status_code == 302
    assert not Reason.objects.filter(slug="other").exists()
    assert "manager deleted the reason “Other” (other)" in caplog.text
    assert "Deleted the reason “Other”." in html.unescape(client.get(response["Location"]).content.decode())


def test_a_reason_in_use_is_not_deleted(client, manager):
    list_numbers(manager, "complaint", 1)
    complaint = Reason.objects.get(slug="complaint")

    response = client.post(reverse("blacklist:delete_reason", args=[complaint.pk]), follow=True)

    assert "“Complaint” is the reason of listed numbers, so it was not deleted." in html.unescape(
        response.content.decode())
    assert [slug for slug, *_ in reasons_now()] == BUILT_IN
    assert BlacklistedNumber.objects.get().reason_id == complaint.pk


def test_the_default_reason_is_never_deleted(client, manager):
    consumer = Reason.objects.get(slug="consumer_request")
    response = client.post(reverse("blacklist:delete_reason", args=[consumer.pk]), follow=True)
    assert "is the reason of every request that gives none, so it was not deleted" in html.unescape(
        response.content.decode())
    assert [slug for slug, *_ in reasons_now()] == BUILT_IN


def test_an_unknown_reason_is_404(client, manager):
    assert client.post(reverse("blacklist:delete_reason", args=[999_999])).status_code == 404
    assert client.post(reverse("blacklist:edit_reason", args=[999_999]), {}).status_code == 404


def test_a_much_used_reason_shows_postgresqls_estimate_not_a_count(client, manager, monkeypatch):
    from django.db import connection
    if connection.vendor != "postgresql":
        pytest.skip("SQLite, the small embedded default, counts exactly")
    monkeypatch.setattr("blacklist.reasons.EXACT_BELOW", 50)
    list_numbers(manager, "complaint", 300)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BlacklistedNumber._meta.db_table}")

    page = client.get(reverse("blacklist:reasons")).content.decode()

    shown = page[page.index("<code>complaint</code>"):].split('reason-count">')[1].split("<")[0]
    assert shown.startswith("~") and 150 <= int(shown[1:].replace(",", "")) <= 600
    assert page[page.index("<code>other</code>"):].split('reason-count">')[1].startswith("0<")
