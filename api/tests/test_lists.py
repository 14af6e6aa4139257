"""Named lists and prefix entries through the API (docs/api.md): check and scrub look at every
list or the ones named by `lists=`, a number is blocked by itself or a prefix covering it, the
answer names each blocking entry (`blocked_by`); POST /numbers adds into `list=`; keys may be
limited to some lists. Data is made the ways users make it: the API's POST, services.add_numbers."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from api import services as api_services
from api.models import ApiKey
from blacklist import services
from blacklist.models import BlacklistedNumber, DncList, Reason, Status, internal_list_id

from .helpers import ApiClient

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"
SCRUB = "/api/v1/blacklist/scrub"
ADD = "/api/v1/blacklist/numbers"


@pytest.fixture
def acme(db):
    return DncList.objects.create(name="Client: Acme")


@pytest.fixture
def solar(db):
    return DncList.objects.create(name="Campaign: Solar West")


def internal() -> DncList:
    return DncList.objects.get(pk=internal_list_id())


def add(phones, status=Status.APPROVED, into=None, **details):
    """Adds as hand entry and uploads do (services.add_numbers), into a list (default Internal)."""
    return services.add_numbers(phones, status, dnc_list=into, **details)


def blocked_by(response) -> list[tuple]:
    """(list, status, prefix) of each entry that blocks the number, as answered."""
    return [(entry["list"], entry["status"], entry["prefix"]) for entry in response.json()["blocked_by"]]


def archive(dnc_list: DncList) -> None:
    DncList.objects.filter(pk=dnc_list.pk).update(archived_at=timezone.now())


# ---- check and scrub: which lists ------------------------------------------------------------


def test_a_number_on_two_lists_is_blocked_by_the_lists_named_or_all_of_them(api, make_key, acme):
    key = make_key(can_add=True)
    assert api.post(ADD, ["4155550100"], key).json()["new"] == 1  # Internal, for review
    assert api.post(f"{ADD}?list=Client:%20Acme", ["(415) 555-0100"], make_key(can_add=True, can_approve=True)
                    ).json()["new"] == 1

    everywhere = api.get(CHECK, key, phone="4155550100")
    assert everywhere.json()["blocked"] is True
    assert everywhere.json()["status"] == "approved"  # the strongest entry's
    assert blocked_by(everywhere) == [("Client: Acme", "approved", None), ("Internal", "review", None)]
    assert blocked_by(api.get(CHECK, key, phone="4155550100", lists="Internal")) == [("Internal", "review", None)]
    only_acme = api.get(CHECK, key, phone="4155550100", lists="client: ACME")  # names in any case
    assert blocked_by(only_acme) == [("Client: Acme", "approved", None)]
    assert only_acme.json()["blocked_by"][0]["list_id"] == acme.pk
    both = api.get(CHECK, key, phone="4155550100", lists=f"{internal_list_id()}, {acme.pk}")  # ids, spaces
    assert blocked_by(both) == blocked_by(everywhere)
    assert api.get(CHECK, key, phone="4155550100", lists="").json() == everywhere.json()  # blank: every list


def test_a_number_on_another_list_only_is_not_blocked_by_the_named_one(api, make_key, acme, solar):
    add(["+14155550100"], into=acme)
    key = make_key()

    response = api.get(CHECK, key, phone="4155550100", lists="Campaign: Solar West,Internal")

    assert response.json() == {"phone": "+14155550100", "blocked": False, "status": None, "since": None,
                               "reason": None, "reason_name": None, "received_at": None, "blocked_by": []}
    assert api.get(CHECK, key, phone="4155550100", lists="Client: Acme").json()["blocked"] is True


def test_a_number_under_a_prefix_entry_is_blocked_naming_the_prefix(api, make_key, acme):
    add(["+1415555*"], into=acme)  # a Manager's prefix block
    add(["+14155550199"], Status.PERMANENT)
    key = make_key()

    response = api.get(CHECK, key, phone="(415) 555-0100")

    assert response.json()["blocked"] is True
    assert blocked_by(response) == [("Client: Acme", "approved", "+1415555*")]
    both = api.get(CHECK, key, phone="415 555 0199")
    assert blocked_by(both) == [("Internal", "permanent", None), ("Client: Acme", "approved", "+1415555*")]
    assert api.get(CHECK, key, phone="415 556 0100").json()["blocked"] is False  # outside the prefix
    assert api.get(CHECK, key, phone="4155550100", lists="Internal").json()["blocked"] is False


def test_a_prefix_on_an_archived_list_still_blocks(api, make_key, acme):
    add(["+1212555*"], into=acme)
    archive(acme)

    response = api.get(CHECK, make_key(), phone="212-555-1234", lists="Client: Acme")

    assert response.json()["blocked"] is True
    assert blocked_by(response) == [("Client: Acme", "approved", "+1212555*")]


def test_an_expired_entry_on_one_list_leaves_the_active_one_on_another(api, make_key, acme):
    wrong_number = Reason.objects.get(slug="wrong_number")
    add(["+14155550100"], into=acme)
    api.post(ADD, [{"phone": "4155550100", "reason": "wrong_number",
                    "expires_at": (timezone.now() + timedelta(days=30)).isoformat()}],
             make_key(can_add=True, can_approve=True))
    BlacklistedNumber.objects.filter(reason=wrong_number).update(expires_at=timezone.now() - timedelta(seconds=1))
    key = make_key()

    assert blocked_by(api.get(CHECK, key, phone="4155550100")) == [("Client: Acme", "approved", None)]
    assert api.get(CHECK, key, phone="4155550100", lists="Internal").json()["blocked"] is False
    line = api.post(SCRUB, ["4155550100"], key).json()["results"][0]
    assert [entry["list"] for entry in line["blocked_by"]] == ["Client: Acme"]


def test_a_number_for_review_is_reported_but_blocks_nothing_when_review_does_not_block(api, make_key, acme,
                                                                                       settings):
    settings.BLOCK_NUMBERS_UNDER_REVIEW = False
    add(["+14155550100"], Status.REVIEW, into=acme)

    response = api.get(CHECK, make_key(), phone="4155550100")

    assert (response.json()["blocked"], response.json()["status"], response.json()["blocked_by"]) == (
        False, "review", [])


@pytest.mark.parametrize("lists, unknown", [
    ("Nope", ["Nope"]),
    ("Internal,Nope,999999", ["Nope", "999999"]),
    ("Client: Acme;Internal", ["Client: Acme;Internal"]),
])
def test_unknown_lists_get_400_naming_them(api, make_key, acme, lists, unknown):
    key = make_key()

    for response in (api.get(CHECK, key, phone="4155550100", lists=lists),
                     api.post(f"{SCRUB}?lists={lists}", ["4155550100"], key)):
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"Unknown list(s): {', '.join(unknown)}.")
        assert response.json()["lists"] == unknown


def test_check_with_lists_still_costs_one_query(api, make_key, acme, django_assert_num_queries):
    add(["+1415*"], into=acme)
    key = make_key()
    api.get(CHECK, key, phone="4155550100")  # the first use also records it (and PREPAREs on PostgreSQL)

    with django_assert_num_queries(1):
        response = api.get(CHECK, key, phone="4155550100", lists="client: acme")

    assert blocked_by(response) == [("Client: Acme", "approved", "+1415*")]


# ---- scrub --------------------------------------------------------------------------------------


def test_a_scrub_of_thousands_mixing_lists_prefixes_and_junk_answers_each_line(api, make_key, acme, solar,
                                                                              django_assert_num_queries):
    rng = random.Random(15)
    numbers = [f"+1415555{n:04d}" for n in range(3_000)]
    on_internal, on_acme = numbers[:1_000], numbers[500:1_500]  # 500 on both
    api.post(ADD, on_internal, make_key(can_add=True, can_approve=True))
    add(on_acme, Status.REVIEW, into=acme)
    add(["+1415555290*", "+1212*"], into=solar)  # 10 of the numbers, and another area code
    body = numbers + ["12345", "nope", "+1 212 555 0100"] * 100
    rng.shuffle(body)
    key = make_key()
    api.post(SCRUB, [], key)  # records the key's first use

    with django_assert_num_queries(3):  # the key, the lists named, every number and prefix at once
        data = api.post(f"{SCRUB}?lists=Internal,Campaign:%20Solar%20West", body, key).json()

    lines = {str(line["input"]): line for line in data["results"]}
    assert (data["count"], data["invalid"]) == (3_300, 200)
    assert [line["input"] for line in data["results"]] == body
    assert data["blocked"] == 1_000 + 10 + 100
    assert [entry["list"] for entry in lines["+14155550700"]["blocked_by"]] == ["Internal"]  # Acme not asked
    assert lines["+14155551200"]["blocked"] is False
    assert lines["+14155552905"]["blocked_by"][0]["prefix"] == "+1415555290*"
    assert lines["+1 212 555 0100"]["blocked_by"][0]["prefix"] == "+1212*"
    everywhere = api.post(SCRUB, body, key).json()
    assert everywhere["blocked"] == 1_500 + 10 + 100
    assert [entry["list"] for entry in {str(line["input"]): line for line in everywhere["results"]}[
        "+14155550700"]["blocked_by"]] == ["Internal", "Client: Acme"]  # approved first, then for review


# ---- POST /numbers into a list -----------------------------------------------------------------


def test_numbers_are_added_into_the_list_named_by_name_or_id(api, make_key, acme):
    key = make_key(can_add=True)

    by_name = api.post(f"{ADD}?list=CLIENT: acme", ["4155550100"], key).json()
    by_id = api.post(f"{ADD}?list={acme.pk}", ["4155550101", "4155550100"], key).json()

    assert (by_name["list"], by_name["list_id"], by_name["new"]) == ("Client: Acme", acme.pk, 1)
    assert (by_id["new"], by_id["unchanged"]) == (1, 1)
    assert set(BlacklistedNumber.objects.values_list("phone", "dnc_list")) == {
        ("+14155550100", acme.pk), ("+14155550101", acme.pk)}


def test_adding_into_an_archived_or_unknown_list_is_refused_and_adds_nothing(api, make_key, acme):
    archive(acme)
    key = make_key(can_add=True)

    archived = api.post(f"{ADD}?list=Client: Acme", ["4155550100"], key)
    unknown = api.post(f"{ADD}?list=Nope", ["4155550100"], key)

    assert archived.status_code == 400
    assert archived.json() == {"error": "The list “Client: Acme” is archived: it takes no new numbers."
                                        " Nothing was added.", "lists": ["Client: Acme"]}
    assert unknown.status_code == 400
    assert unknown.json()["lists"] == ["Nope"]
    assert not BlacklistedNumber.objects.exists()


def test_a_prefix_sent_to_the_api_is_rejected_with_the_reason(api, make_key):
    data = api.post(ADD, ["+1 201*", "201XXXXXXX", "4155550100"], make_key(can_add=True)).json()

    assert data["new"] == 1
    assert data["rejected"] == [
        {"input": "+1 201*", "reason": "a prefix block: prefix blocks are added on the web page by a Manager"},
        {"input": "201XXXXXXX", "reason": "a prefix block: prefix blocks are added on the web page by a Manager"},
    ]
    assert list(BlacklistedNumber.objects.values_list("phone", flat=True)) == ["+14155550100"]


# ---- keys limited to some lists ----------------------------------------------------------------


def test_the_key_page_makes_a_key_limited_to_the_lists_chosen_and_shows_them(admin_client, acme, solar):
    page = admin_client.get(reverse("api:keys")).content.decode()
    assert "Client: Acme" in page and "Campaign: Solar West" in page  # to choose from

    created = admin_client.post(reverse("api:create_key"), {"name": "Acme dialer", "can_check": "on",
                                                            "lists": [acme.pk, solar.pk]})
    assert "on the lists Client: Acme, Campaign: Solar West only" in created.content.decode()
    admin_client.post(reverse("api:create_key"), {"name": "Everything", "can_check": "on"})

    limited, unlimited = ApiKey.objects.get(name="Acme dialer"), ApiKey.objects.get(name="Everything")
    assert (limited.all_lists, set(limited.lists.all())) == (False, {acme, solar})
    assert (unlimited.all_lists, list(unlimited.lists.all())) == (True, [])
    rows = admin_client.get(reverse("api:keys")).content.decode()
    assert "Client: Acme, Campaign: Solar West" in rows


def test_a_limited_key_checks_and_scrubs_its_lists_only(api, admin_user, acme, solar):
    add(["+14155550100"])  # Internal
    add(["+14155550100", "+1212*"], into=solar)
    add(["+14155550100"], into=acme)
    _, key = api_services.create_key("Acme", user=admin_user, can_check=True, can_add=False, can_approve=False,
                                     expires_at=None, lists=[acme])

    assert blocked_by(api.get(CHECK, key, phone="4155550100")) == [("Client: Acme", "approved", None)]
    assert api.get(CHECK, key, phone="2125550100").json()["blocked"] is False  # Solar's prefix: not its list
    assert api.post(SCRUB, ["4155550100", "2125550100"], key).json()["blocked"] == 1
    for response in (api.get(CHECK, key, phone="4155550100", lists="Internal,Client: Acme"),
                     api.post(f"{SCRUB}?lists=Internal", ["4155550100"], key)):
        assert response.status_code == 403
        assert response.json() == {"error": "This API key may not use the list(s): Internal. It is limited to:"
                                            " Client: Acme.", "lists": ["Internal"]}


def test_a_limited_key_adds_into_its_list_only(api, admin_user, acme, solar):
    _, one = api_services.create_key("Acme", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                     expires_at=None, lists=[acme])
    _, two = api_services.create_key("Two", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                     expires_at=None, lists=[acme, solar])

    assert api.post(ADD, ["4155550100"], one).json()["list"] == "Client: Acme"  # its one list: the default
    refused = api.post(f"{ADD}?list=Internal", ["4155550101"], one)
    assert (refused.status_code, refused.json()["lists"]) == (403, ["Internal"])
    unnamed = api.post(ADD, ["4155550102"], two)
    assert unnamed.status_code == 400
    assert unnamed.json()["error"] == ("Name the list to add into (?list=…): this API key is limited to"
                                       " Client: Acme, Campaign: Solar West.")
    assert api.post(f"{ADD}?list=Campaign: Solar West", ["4155550103"], two).json()["new"] == 1
    assert set(BlacklistedNumber.objects.values_list("phone", "dnc_list")) == {
        ("+14155550100", acme.pk), ("+14155550103", solar.pk)}


def test_a_limited_key_whose_lists_were_deleted_sees_and_adds_nothing(api, admin_user, acme):
    add(["+14155550100"])
    _, key = api_services.create_key("Acme", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                     expires_at=None, lists=[acme])
    acme.delete()

    assert api.get(CHECK, key, phone="4155550100").json()["blocked"] is False  # not every list
    assert api.post(SCRUB, ["4155550100"], key).json()["blocked"] == 0
    assert api.post(ADD, ["4155550101"], key).status_code == 403


# ---- checks while numbers are added -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_checks_while_numbers_are_added_into_a_list_see_each_number_once_added(client, admin_user, acme):
    """Dialers checking the numbers another dialer is adding into Client: Acme: every answer is
    good, and a number once seen blocked stays blocked, by Acme only."""
    numbers = [f"+1415555{n:04d}" for n in range(400)]
    _, adder = api_services.create_key("adder", user=admin_user, can_check=True, can_add=True, can_approve=True,
                                       expires_at=None, lists=[acme])
    _, checker = api_services.create_key("checker", user=admin_user, can_check=True, can_add=False,
                                         can_approve=False, expires_at=None)
    failures: list[str] = []

    def adding():
        api = ApiClient(client.__class__())
        try:
            for start in range(0, len(numbers), 40):
                response = api.post(ADD, numbers[start:start + 40], adder)
                if response.status_code != 200:
                    failures.append(f"add {response.status_code}")
        finally:
            connection.close()  # this thread's own

    def checking(lists):
        api = ApiClient(client.__class__())
        seen = set()
        try:
            for _ in range(3):
                for phone in numbers[::7]:
                    answer = api.get(CHECK, checker, phone=phone, **lists)
                    if answer.status_code != 200:
                        failures.append(f"check {answer.status_code}")
                        continue
                    entries = [entry["list"] for entry in answer.json()["blocked_by"]]
                    if entries not in ([], ["Client: Acme"]) or (phone in seen and not entries):
                        failures.append(f"{phone}: {entries}, seen before: {phone in seen}")
                    if entries:
                        seen.add(phone)
        finally:
            connection.close()

    threads = [threading.Thread(target=adding), threading.Thread(target=checking, args=({},)),
               threading.Thread(target=checking, args=({"lists": "Client: Acme"},))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert BlacklistedNumber.objects.filter(dnc_list=acme).count() == 400
    final = ApiClient(client).post(SCRUB, numbers, checker).json()
    assert final["blocked"] == 400
