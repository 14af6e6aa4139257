"""The core of named lists and prefix blocks (docs/lists.md): how a prefix is written and read,
what check looks up for a number, entries per (number, list) with their own merge and events, the
archived list that takes nothing, the guard that keeps a permanent entry on its list, and the
migration that makes every existing number and event Internal's."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, DncList, Status, default_reason_id, internal_list_id
from blacklist.phones import (
    InvalidPhone,
    batch_candidates,
    format_phone,
    lookup_candidates,
    normalize_prefix,
    normalized_entry,
)


@pytest.mark.parametrize(("written", "stored"), [
    ("+1201*", "+1201*"),
    ("+1 (201) *", "+1201*"),
    ("1201*", "+1201*"),  # a leading 1 in the US is the country code
    ("201XXXXXXX", "+1201*"),  # VICIdial's area-code form
    ("201xxx", "+1201*"),
    ("tel:+1-415-555*", "+1415555*"),
    ("+44 700*", "+44700*"),
    ("+33 6 12*", "+33612*"),
])
def test_a_prefix_is_stored_as_its_e164_start_and_a_star(written, stored):
    assert normalize_prefix(written, "US", 3) == stored


@pytest.mark.parametrize(("written", "reason"), [
    ("+1*", "a bare country code (+1): too broad"),
    ("+120*", "too broad: at least 3 digits after the country code (+1)"),
    ("+44 70*", "too broad: at least 3 digits after the country code (+44)"),
    ("+1200*", "no valid number of +1 starts with it"),  # no area code 200
    ("+1911*", "no valid number of +1 starts with it"),
    ("+44 000*", "no valid number of +44 starts with it"),
    ("+999*", "unknown country code"),
    ("+0201*", "unknown country code"),
    ("+14155550123*", "a whole number, not a prefix: write it without the *"),
    ("*", "not a prefix (digits followed by * or X's)"),
])
def test_a_prefix_too_broad_or_that_no_number_starts_with_is_refused_with_the_reason(written, reason):
    with pytest.raises(InvalidPhone) as refused:
        normalize_prefix(written, "US", 3)
    assert refused.value.reason == reason


def test_min_prefix_digits_is_a_setting(settings):
    settings.MIN_PREFIX_DIGITS = 2
    assert normalized_entry("+44 70*", allow_prefix=True) == ("+4470*", "")
    settings.MIN_PREFIX_DIGITS = 4
    assert normalized_entry("+1 201*", allow_prefix=True) == (
        "", "too broad: at least 4 digits after the country code (+1)")


def test_prefixes_are_read_only_for_those_allowed_and_numbers_as_ever():
    assert normalized_entry("+1201*", allow_prefix=False) == ("", "a prefix block: only Managers may add one")
    assert normalized_entry("+1201*", allow_prefix=True) == ("+1201*", "")
    assert normalized_entry("(415) 555-0123", allow_prefix=False) == ("+14155550123", "")
    assert normalized_entry("call me", allow_prefix=True) == ("", "contains letters")


def test_check_looks_up_the_number_and_every_prefix_that_could_block_it():
    candidates = lookup_candidates("+12015550123")
    assert candidates[0] == "+12015550123"
    assert "+1201*" in candidates and "+1201555012*" in candidates
    assert all(candidate.endswith("*") for candidate in candidates[1:])
    assert "+12015550123*" not in candidates  # a whole number is itself, not its own prefix


def test_a_batch_looks_up_each_of_its_numbers_candidates_once():
    numbers = ["+12015550123", "+12015550199", "+12125550100", "+442079460958", "+4930123", "+1201"]
    expected = {candidate for number in numbers for candidate in lookup_candidates(number)}
    assert batch_candidates(numbers) == expected
    assert batch_candidates([]) == set()


def test_a_prefix_reads_as_its_digits_and_an_ellipsis():
    assert format_phone("+1201*") == "+1 201…"
    assert format_phone("+44700*") == "+44 700…"


@pytest.fixture
def acme(db):
    return DncList.objects.create(name="Client: Acme")


def entries(phone):
    return {entry.dnc_list.name: entry for entry in BlacklistedNumber.objects.filter(phone=phone).select_related("dnc_list")}


def test_a_number_on_two_lists_is_two_entries_each_with_its_own_status_and_events(acme, admin_user):
    services.add_numbers(["+14155550123"], Status.REVIEW, admin_user)  # Internal, by default
    services.add_numbers(["+14155550123"], Status.REVIEW, admin_user, dnc_list=acme)
    services.add_numbers(["+14155550123"], Status.APPROVED, admin_user, dnc_list=acme)  # raises Acme's only

    on = entries("+14155550123")
    assert on["Internal"].status == Status.REVIEW and on["Client: Acme"].status == Status.APPROVED
    events = list(Event.objects.filter(phone="+14155550123").order_by("id").values_list("dnc_list_id", "action"))
    assert events == [(internal_list_id(), "added"), (acme.pk, "added"), (acme.pk, "raised")]

    services.approve(BlacklistedNumber.objects.filter(pk=on["Internal"].pk), admin_user)
    assert Event.objects.filter(action="approved").get().dnc_list_id == internal_list_id()


def test_a_prefix_entry_is_a_row_like_any_other_with_the_same_rules(acme, admin_user):
    services.add_numbers(["+1201*"], Status.REVIEW, admin_user, dnc_list=acme)
    prefix = BlacklistedNumber.objects.get(phone="+1201*")
    assert prefix.is_prefix and prefix.display_phone == "+1 201…"
    services.approve_permanently(BlacklistedNumber.objects.filter(pk=prefix.pk), admin_user)
    outcome = services.remove(BlacklistedNumber.objects.filter(pk=prefix.pk), admin_user, justification="x" * 20)
    assert outcome.changed == 0 and BlacklistedNumber.objects.filter(phone="+1201*").exists()
    assert list(BlacklistedNumber.objects.prefixes().values_list("phone", flat=True)) == ["+1201*"]


def test_an_archived_list_takes_nothing_and_nothing_is_half_added(acme, admin_user):
    services.add_numbers(["+14155550100"], Status.REVIEW, admin_user, dnc_list=acme)
    DncList.objects.filter(pk=acme.pk).update(archived_at=timezone.now())
    with pytest.raises(services.ArchivedList, match="“Client: Acme” is archived"):
        services.add_numbers(["+14155550101", "+14155550100"], Status.APPROVED, admin_user, dnc_list=acme)
    assert list(BlacklistedNumber.objects.values_list("phone", "status")) == [("+14155550100", Status.REVIEW)]
    assert Event.objects.count() == 1


def test_add_numbers_refuses_what_is_neither_a_number_nor_a_stored_prefix(db):
    for malformed in ["1201*", "+1201**", "+0201*", "4155550123"]:
        with pytest.raises(ValueError, match="normalized E.164 numbers or prefixes"):
            services.add_numbers([malformed], Status.REVIEW)


@pytest.mark.django_db(transaction=True)
def test_no_path_moves_a_permanent_entry_to_another_list(acme, admin_user):
    services.add_numbers(["+14155550123"], Status.PERMANENT, admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.filter(phone="+14155550123").update(dnc_list=acme)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {BlacklistedNumber._meta.db_table} SET dnc_list_id = %s", [acme.pk])
    assert BlacklistedNumber.objects.get().dnc_list_id == internal_list_id()
    services.add_numbers(["+14155550124"], Status.APPROVED, admin_user)  # a changeable one may move
    assert BlacklistedNumber.objects.filter(phone="+14155550124").update(dnc_list=acme) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_every_existing_number_and_event_internals_and_keeps_the_guards():
    executor = MigrationExecutor(connection)
    before = [("blacklist", "0009_retention_and_expiry"), ("audit", "0004_compliance_report")]
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        reason = default_reason_id()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO blacklist_blacklistednumber (phone, status, added_at, status_changed_at, reason_id,"
                " channel, received_at, deadline, note) VALUES (%s, %s, %s, %s, %s, 'other', %s, '2026-12-04', '')",
                [("+14155550100", Status.PERMANENT, now, now, reason, now),
                 ("+14155550101", Status.REVIEW, now, now, reason, now)],
            )
            cursor.execute(
                "INSERT INTO audit_event (phone, action, at, actor, via, reason, channel, note)"
                " VALUES ('+14155550101', 'added', %s, 'someone', 'hand', '', '', '')", [now],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    internal = DncList.objects.get(kind=DncList.Kind.INTERNAL)
    assert (internal.pk, internal.name) == (internal_list_id(), "Internal")
    assert set(BlacklistedNumber.objects.values_list("phone", "dnc_list_id")) == {
        ("+14155550100", internal.pk), ("+14155550101", internal.pk)}
    assert list(Event.objects.values_list("dnc_list_id", flat=True)) == [internal.pk]
    acme = DncList.objects.create(name="Client: Acme")
    with pytest.raises(IntegrityError), transaction.atomic():  # the guard, widened, is there
        BlacklistedNumber.objects.filter(phone="+14155550100").update(dnc_list=acme)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlacklistedNumber.objects.filter(phone="+14155550100").delete()


def test_list_names_are_unique_whatever_their_case_and_there_is_one_internal_list(db):
    DncList.objects.create(name="Client: Acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        DncList.objects.create(name="client: ACME")
    internal_list_id()
    with pytest.raises(IntegrityError), transaction.atomic():
        DncList.objects.create(name="Another internal", kind=DncList.Kind.INTERNAL)


@pytest.mark.django_db(transaction=True)
def test_archiving_waits_for_the_adds_under_way_and_an_add_after_it_is_refused(acme, admin_user):
    """An add that found the list open finishes into it; the archive waits for it (PostgreSQL: the
    add's share lock on the list's row; SQLite: the one write lock), and the next add is refused."""
    import threading

    from django.db import connections

    from blacklist import lists

    archived = threading.Event()

    def archive():
        try:
            lists.archive(DncList.objects.get(pk=acme.pk), admin_user)
            archived.set()
        finally:
            connections.close_all()

    with transaction.atomic():
        services.add_numbers(["+14155550100"], Status.REVIEW, admin_user, dnc_list=acme)
        thread = threading.Thread(target=archive)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive() and not archived.is_set()  # waiting for the add to commit
    thread.join(20)
    assert archived.is_set()
    assert list(BlacklistedNumber.objects.filter(dnc_list=acme).values_list("phone", flat=True)) == ["+14155550100"]
    with pytest.raises(services.ArchivedList):
        services.add_numbers(["+14155550101"], Status.REVIEW, admin_user, dnc_list=acme)
