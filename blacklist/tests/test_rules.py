"""The blacklist's rules, through the service layer, and the database's own guard behind it."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from blacklist import services
from blacklist.models import BlacklistedNumber, Status

pytestmark = pytest.mark.django_db


def statuses():
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


def test_approve_moves_review_numbers_and_counts_the_rest(make_numbers, admin_user):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)

    outcome = services.approve(BlacklistedNumber.objects.all(), admin_user)

    assert outcome.changed == 1
    assert outcome.skipped == {"already approved": 1, "permanently approved": 1}
    assert outcome.skipped_text() == (
        "1 already approved number was skipped. 1 permanently approved number was skipped."
    )
    review.refresh_from_db()
    assert review.status == Status.APPROVED
    assert review.status_changed_by == admin_user


def test_approve_permanently_raises_review_and_approved(make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)

    outcome = services.approve_permanently(BlacklistedNumber.objects.all())

    assert (outcome.changed, outcome.skipped) == (2, {"already permanently approved": 1})
    assert set(statuses().values()) == {Status.PERMANENT}


def test_unapprove_returns_approved_numbers_to_review_but_never_permanent_ones(make_numbers):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)

    outcome = services.unapprove(BlacklistedNumber.objects.all())

    assert (outcome.changed, outcome.skipped) == (1, {"already for review": 1, "permanently approved": 1})
    assert statuses() == {review.phone: Status.REVIEW, approved.phone: Status.REVIEW, permanent.phone: Status.PERMANENT}


def test_remove_deletes_all_but_permanent_numbers(make_numbers):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT, reason="other")

    outcome = services.remove(BlacklistedNumber.objects.all())

    assert (outcome.changed, outcome.skipped) == (2, {"permanently approved": 1})
    assert list(BlacklistedNumber.objects.all()) == [permanent]


def test_rules_act_only_on_the_numbers_given(make_numbers):
    first, second = make_numbers(Status.REVIEW, Status.REVIEW)

    outcome = services.approve(BlacklistedNumber.objects.filter(pk=first.pk))

    assert outcome.changed == 1
    assert statuses() == {first.phone: Status.APPROVED, second.phone: Status.REVIEW}


def test_an_empty_selection_changes_nothing(make_numbers):
    make_numbers(Status.REVIEW)

    outcome = services.remove(BlacklistedNumber.objects.none())

    assert (outcome.changed, outcome.skipped, outcome.skipped_text()) == (0, {}, "")
    assert BlacklistedNumber.objects.count() == 1


def test_adding_numbers_inserts_new_raises_lower_and_never_lowers(make_numbers, admin_user):
    review, approved, permanent = make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    fresh = "+12125551234"

    outcome = services.add_numbers([fresh, review.phone, approved.phone, permanent.phone], Status.APPROVED, admin_user)

    assert outcome == services.MergeOutcome(new=1, raised=1, unchanged=2)
    assert statuses() == {
        fresh: Status.APPROVED,
        review.phone: Status.APPROVED,
        approved.phone: Status.APPROVED,
        permanent.phone: Status.PERMANENT,
    }
    added = BlacklistedNumber.objects.get(phone=fresh)
    assert (added.added_by, added.status_changed_by) == (admin_user, admin_user)


def test_adding_for_review_leaves_every_existing_status_alone(make_numbers):
    make_numbers(Status.REVIEW, Status.APPROVED, Status.PERMANENT)
    before = statuses()

    outcome = services.add_numbers(list(before), Status.REVIEW)

    assert outcome == services.MergeOutcome(new=0, raised=0, unchanged=3)
    assert statuses() == before


def test_adding_permanently_raises_everything_and_counts_repeats_once(make_numbers):
    review, approved = make_numbers(Status.REVIEW, Status.APPROVED)

    outcome = services.add_numbers([review.phone, approved.phone, review.phone], Status.PERMANENT)

    assert outcome == services.MergeOutcome(new=0, raised=2, unchanged=0)
    assert set(statuses().values()) == {Status.PERMANENT}


def test_adding_refuses_numbers_that_were_not_normalized(make_numbers):
    with pytest.raises(ValueError, match="E.164"):
        services.add_numbers(["+14155550100", "415-555-0101"], Status.REVIEW)
    assert BlacklistedNumber.objects.count() == 0


# The database's own guard: no path around the services can change or remove a permanent number.


def test_database_refuses_a_raw_update_of_a_permanent_status(make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.filter(pk=permanent.pk).update(status=Status.REVIEW)

    permanent.refresh_from_db()
    assert permanent.status == Status.PERMANENT


def test_database_refuses_a_raw_delete_of_a_permanent_number(make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.all().delete()

    assert BlacklistedNumber.objects.filter(pk=permanent.pk).exists()


def test_database_refuses_renumbering_a_permanent_number(make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)

    with pytest.raises(IntegrityError), transaction.atomic():
        permanent.phone = "+12125551234"
        permanent.save()

    assert BlacklistedNumber.objects.get().phone == "+14155550100"


def test_database_refuses_plain_sql_too(make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)
    table = BlacklistedNumber._meta.db_table

    for statement in (f"UPDATE {table} SET status = 2", f"DELETE FROM {table}"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    assert BlacklistedNumber.objects.get().status == Status.PERMANENT


def test_database_lets_a_whole_mixed_statement_fail_rather_than_half_apply(make_numbers):
    make_numbers(Status.REVIEW, Status.PERMANENT, Status.APPROVED)
    before = statuses()

    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.update(status=Status.REVIEW)

    assert statuses() == before


def test_database_allows_other_changes_to_a_permanent_number(make_numbers, admin_user):
    (permanent,) = make_numbers(Status.PERMANENT)

    BlacklistedNumber.objects.filter(pk=permanent.pk).update(status=Status.PERMANENT, added_by=admin_user)

    permanent.refresh_from_db()
    assert (permanent.status, permanent.added_by) == (Status.PERMANENT, admin_user)


def test_database_allows_changes_to_every_other_number(make_numbers):
    review, approved = make_numbers(Status.REVIEW, Status.APPROVED)

    BlacklistedNumber.objects.update(status=Status.REVIEW)
    BlacklistedNumber.objects.all().delete()

    assert not BlacklistedNumber.objects.exists()


# The Django admin goes through the services, so the rule holds there as well.


def test_admin_remove_action_keeps_permanent_numbers(admin_client, make_numbers):
    review, permanent = make_numbers(Status.REVIEW, Status.PERMANENT, reason="other")
    data = {"action": "remove", "_selected_action": [review.pk, permanent.pk]}

    response = admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), data, follow=True)

    assert "Removed 1 number(s). 1 permanently approved number was skipped." in response.content.decode()
    assert list(BlacklistedNumber.objects.all()) == [permanent]


def test_admin_has_no_plain_delete_action(admin_client, make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)
    data = {"action": "delete_selected", "_selected_action": [permanent.pk], "post": "yes"}

    admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), data)

    assert BlacklistedNumber.objects.filter(pk=permanent.pk).exists()


def test_admin_offers_no_delete_for_a_permanent_number(admin_client, make_numbers):
    (permanent,) = make_numbers(Status.PERMANENT)

    response = admin_client.post(reverse("admin:blacklist_blacklistednumber_delete", args=[permanent.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert BlacklistedNumber.objects.filter(pk=permanent.pk).exists()


def test_admin_unapprove_action_skips_permanent_numbers(admin_client, make_numbers):
    approved, permanent = make_numbers(Status.APPROVED, Status.PERMANENT)
    data = {"action": "unapprove", "_selected_action": [approved.pk, permanent.pk]}

    response = admin_client.post(reverse("admin:blacklist_blacklistednumber_changelist"), data, follow=True)

    assert "Unapproved 1 number(s). 1 permanently approved number was skipped." in response.content.decode()
    assert statuses() == {approved.phone: Status.REVIEW, permanent.phone: Status.PERMANENT}


def test_admin_change_form_cannot_edit_numbers(admin_client, make_numbers):
    (review,) = make_numbers(Status.REVIEW)
    url = reverse("admin:blacklist_blacklistednumber_change", args=[review.pk])

    admin_client.post(url, {"phone": "+12125551234", "status": Status.PERMANENT})

    review.refresh_from_db()
    assert (review.phone, review.status) == ("+14155550100", Status.REVIEW)
