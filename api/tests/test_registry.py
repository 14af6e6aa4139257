"""check and scrub with `registry=1`: the national Do-Not-Call registry answers beside our lists.
The registry is loaded as Managers load it (registry.loads: a stored file, then its job), our lists
through the blacklist's services, and every answer comes over HTTP with a real key."""

import json
from datetime import date

import pytest
from django.db import connection
from django.test import override_settings

from api import services as api_services
from blacklist import services as blacklist_services
from blacklist.models import BlacklistedNumber, Reason, Status
from blacklist.phones import normalized
from blacklist.request_details import RequestDetails
from registry import loads
from registry.tests.files import changes, flat, numbers

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/blacklist/check"
SCRUB = "/api/v1/blacklist/scrub"
DATA_DATE = "2026-11-01"
NJ = numbers(201, 2000)  # area code 201 loaded: every other one of these listed
LISTED, NOT_LISTED_201 = f"+1{NJ[0]}", f"+1{NJ[1]}"
NEVER_LOADED = "+14155550100"  # 415: a US area code whose list was never loaded
ABSENT = {"blocked": False, "status": None, "since": None, "reason": None, "reason_name": None, "received_at": None,
          "blocked_by": []}
REGISTRY_ITEM = {"source": "national_registry", "data_date": DATA_DATE}


def registry(listed: bool, data_date: str | None = DATA_DATE) -> dict:
    return {"listed": listed, "data_date": data_date, "area_code_loaded": data_date is not None}


def not_retained() -> RequestDetails:
    """A request of a reason not kept RETENTION_YEARS, so that its number may be removed at once."""
    return RequestDetails(reason=Reason.objects.get(slug="other"))


def load(content: bytes, **options) -> None:
    task_log = loads.load(loads.save_file("registry.txt", content, data_date=date.fromisoformat(DATA_DATE), **options))
    assert task_log.state == "succeeded", task_log.message


@pytest.fixture
def loaded():
    """Area codes 201 (every other number of NJ listed), 212 and 917 loaded in full; 415 never."""
    load(flat(NJ[::2] + numbers(212, 500) + numbers(917, 10)), changes=False)


def check(api, key, phone: str, **params) -> dict:
    response = api.get(CHECK, key, phone=phone, **params)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("phone", [LISTED, f"+1{numbers(917, 1)[0]}"])  # check prepares a statement per 2xx, 9xx…
def test_a_number_the_registry_lists_is_blocked_by_it(api, make_key, loaded, phone):
    assert check(api, make_key(), phone, registry="1") == {
        "phone": phone, **ABSENT, "blocked": True, "blocked_by": [REGISTRY_ITEM], "national_registry": registry(True)}


def test_a_number_of_a_loaded_area_code_the_registry_does_not_list_is_not_blocked(api, make_key, loaded):
    assert check(api, make_key(), NOT_LISTED_201, registry="1") == {
        "phone": NOT_LISTED_201, **ABSENT, "national_registry": registry(False)}


def test_a_number_of_an_area_code_never_loaded_says_so_rather_than_not_listed(api, make_key, loaded):
    assert check(api, make_key(), "(415) 555-0100", registry="1") == {
        "phone": NEVER_LOADED, **ABSENT, "national_registry": registry(False, data_date=None)}


@pytest.mark.parametrize("written, phone", [("+44 20 7946 0958", "+442079460958"), ("+1 416 555 0123", "+14165550123")])
def test_a_number_the_registry_does_not_cover_gets_null(api, make_key, loaded, written, phone):
    """The registry holds US (and US territory) area codes: not the UK's, nor Canada's 416."""
    assert check(api, make_key(), written, registry="1") == {"phone": phone, **ABSENT, "national_registry": None}


def test_without_registry_1_the_answer_is_as_before_for_a_number_the_registry_lists(api, make_key, loaded):
    key = make_key()
    without = api.get(CHECK, key, phone=LISTED)

    assert without.json() == {"phone": LISTED, **ABSENT}
    assert api.get(CHECK, key, phone=LISTED, registry="0").content == without.content
    scrubbed = api.post(SCRUB, [LISTED], key).json()
    assert scrubbed["blocked"] == 0 and "national_registry" not in scrubbed["results"][0]


def test_a_number_we_removed_is_still_blocked_when_the_registry_lists_it(api, make_key, loaded):
    blacklist_services.add_numbers([LISTED], Status.APPROVED, details=not_retained())
    key = make_key()
    assert check(api, key, LISTED, registry="1")["blocked_by"][0]["list"] == "Internal"

    blacklist_services.remove(BlacklistedNumber.objects.filter(phone=LISTED))

    assert check(api, key, LISTED) == {"phone": LISTED, **ABSENT}  # our lists no longer block it
    answer = check(api, key, LISTED, registry="1")
    assert (answer["blocked"], answer["status"], answer["blocked_by"]) == (True, None, [REGISTRY_ITEM])


def test_our_lists_come_first_and_say_the_status_when_both_list_the_number(api, make_key, loaded):
    blacklist_services.add_numbers([LISTED], Status.APPROVED)
    number = BlacklistedNumber.objects.get(phone=LISTED)

    answer = check(api, make_key(), LISTED, registry="1")

    assert (answer["blocked"], answer["status"], answer["reason"]) == (True, "approved", "consumer_request")
    assert [item.get("list") for item in answer["blocked_by"]] == ["Internal", None]
    assert answer["blocked_by"][0]["list_id"] == number.dnc_list_id
    assert answer["blocked_by"][1] == REGISTRY_ITEM
    assert answer["national_registry"] == registry(True)


@override_settings(REGISTRY_BLOCKS=False)
def test_with_registry_blocks_off_the_answer_says_listed_but_does_not_block(api, make_key, loaded):
    key = make_key()
    assert check(api, key, LISTED, registry="1") == {"phone": LISTED, **ABSENT, "national_registry": registry(True)}
    scrubbed = api.post(f"{SCRUB}?registry=1", [LISTED], key).json()
    assert (scrubbed["blocked"], scrubbed["results"][0]["national_registry"]) == (0, registry(True))


@override_settings(REGISTRY_BLOCKS=False)
def test_with_registry_blocks_off_our_permanent_entry_still_blocks(api, make_key, loaded):
    blacklist_services.add_numbers([LISTED], Status.PERMANENT)
    answer = check(api, make_key(), LISTED, registry="1")
    assert (answer["blocked"], answer["status"], len(answer["blocked_by"])) == (True, "permanent", 1)


@override_settings(BLOCK_NUMBERS_UNDER_REVIEW=False)
def test_a_number_for_review_that_does_not_block_is_blocked_by_the_registry(api, make_key, loaded):
    blacklist_services.add_numbers([LISTED], Status.REVIEW)
    answer = check(api, make_key(), LISTED, registry="1")
    assert (answer["blocked"], answer["status"], answer["blocked_by"]) == (True, "review", [REGISTRY_ITEM])


def test_a_change_list_deleting_the_number_unblocks_it_from_the_next_check(api, make_key, loaded):
    key = make_key()
    assert check(api, key, LISTED, registry="1")["blocked"] is True

    load(changes([(NJ[0], "D"), (NJ[1], "A")]), area_code=201)

    assert check(api, key, LISTED, registry="1") == {"phone": LISTED, **ABSENT, "national_registry": registry(False)}
    assert check(api, key, NOT_LISTED_201, registry="1")["blocked_by"] == [REGISTRY_ITEM]


def test_check_with_the_registry_still_costs_one_query(api, make_key, loaded, django_assert_num_queries):
    key = make_key()
    check(api, key, LISTED, registry="1")  # the first use records it (and PREPAREs on PostgreSQL)
    with django_assert_num_queries(1) as queries:
        assert check(api, key, LISTED, registry="1")["blocked"] is True
    sql = queries.captured_queries[0]["sql"]
    assert ("EXECUTE api_check_registry" if connection.vendor == "postgresql" else "registry_exchange") in sql


@pytest.mark.parametrize("value", ["yes", "true", "2", ""])
def test_a_registry_parameter_other_than_0_or_1_is_refused(api, make_key, value):
    key = make_key()
    message = "registry= takes 1 (answer from the national Do-Not-Call registry too) or 0 (our lists only)."

    checked = api.get(CHECK, key, phone=LISTED, registry=value)
    scrubbed = api.post(f"{SCRUB}?registry={value}", [LISTED], key)

    assert (checked.status_code, checked.json()) == (400, {"error": message})
    assert (scrubbed.status_code, scrubbed.json()) == (400, {"error": message})


def test_scrub_of_a_mixed_batch_agrees_with_check_number_by_number(api, make_key, loaded):
    """Over a page: numbers of 201 listed and not, of 212, of 415 (never loaded), foreign ones,
    junk; some on our lists, one of them removed."""
    ours = [f"+1{n}" for n in NJ[:40]]
    blacklist_services.add_numbers(ours[:20], Status.APPROVED, details=not_retained())
    blacklist_services.add_numbers(ours[20:40], Status.REVIEW)
    blacklist_services.remove(BlacklistedNumber.objects.filter(phone=ours[0]))
    body = ([f"+1{n}" for n in NJ[:800]] + [str(n) for n in numbers(212, 200, start=400)]
            + [f"415555{i:04d}" for i in range(100)] + ["+44 20 7946 0958", "+1 416 555 0123", "nope", 12345])
    key = make_key()

    scrubbed = api.post(f"{SCRUB}?registry=1", body, key).json()

    lines = scrubbed["results"]
    assert scrubbed["count"] == len(body) == 1104 and scrubbed["invalid"] == 2
    for raw, line in zip(body, lines, strict=True):
        if not line["valid"]:
            assert line["national_registry"] is None
            continue
        checked = check(api, key, str(raw), registry="1")
        assert {name: value for name, value in line.items() if name not in ("input", "valid")} == checked, raw
    assert scrubbed["blocked"] == sum(line["blocked"] for line in lines) == 400 + 10 + 10 + 100
    # 201: the registry's 400 (one of them removed from ours), 10 + 10 more of ours; 212: the registry's 100


def test_scrub_with_the_registry_answers_the_text_json_dumps_writes(api, make_key, loaded, settings):
    settings.BLOCK_NUMBERS_UNDER_REVIEW = False
    blacklist_services.add_numbers([f"+1{n}" for n in NJ[:4]], Status.APPROVED)
    blacklist_services.add_numbers([f"+1{n}" for n in NJ[4:8]], Status.REVIEW)
    blacklist_services.add_numbers(["+1201*"], Status.REVIEW)
    body = [f"+1{n}" for n in NJ[:12]] + [NEVER_LOADED, "+44 20 7946 0958", "nope", 2122000000]

    response = api.post(f"{SCRUB}?registry=1", body, make_key())

    answers = [normalized(raw) for raw in body]
    phones = {phone for phone, _ in answers if phone}
    listings, answers_of_registry = api_services.lookup(phones), api_services.registry_lookup(phones)
    results = [
        {"input": raw, "valid": True, "reason": None,
         **api_services.with_registry(api_services.verdict(phone, listings.get(phone, [])),
                                      answers_of_registry.get(phone))}
        if phone else {"input": raw, "valid": False, **api_services.NOT_LISTED, "reason": reason, "phone": None,
                       "national_registry": None}
        for raw, (phone, reason) in zip(body, answers, strict=True)]
    assert response.content == json.dumps({
        "count": len(results), "blocked": sum(line["blocked"] for line in results),
        "invalid": sum(not line["valid"] for line in results), "results": results}).encode()
    assert response.json()["blocked"] == 4 + 2 + 2 + 1  # approved; review 201s the registry lists; 2 more; 212's


# Every bit of an exchange's row: numpy writes it (registry.bitmaps), PostgreSQL's get_bit (or ours
# on SQLite) reads it. Numbers at the edges of bytes, of exchanges and of the area code (201-000-0000
# is no number a dialer may call, so check refuses it; the registry's own lookup still answers).
EDGES = [2010000000, 2012000000, 2012000001, 2012000007, 2012000008, 2012000015, 2012000016, 2012009992,
         2012009999, 2012010000, 2015550123, 2019999992, 2019999999]


def test_every_bit_the_load_sets_is_the_one_check_and_scrub_read(api, make_key):
    load(flat(EDGES), changes=False)
    tested = sorted({n + step for n in EDGES for step in (-1, 0, 1) if 2010000000 <= n + step <= 2019999999})

    answers = api_services.registry_lookup([f"+1{n}" for n in tested])

    assert {n for n in tested if answers[f"+1{n}"]["listed"]} == set(EDGES)
    key = make_key()
    for n in [*EDGES[1:], 2012000002, 2012000009, 2012009998, 2019999998]:
        assert check(api, key, f"+1{n}", registry="1")["national_registry"]["listed"] is (n in EDGES), n


def test_an_exchange_left_without_a_number_loses_its_row():
    from registry.models import RegistryExchange

    load(flat([2015550123, 2015560000]), changes=False)
    load(changes([(2015550123, "D")]))
    assert list(RegistryExchange.objects.values_list("exchange", flat=True)) == [201556]

    load(flat([2017770001]), changes=False)
    assert RegistryExchange.objects.numbers() == [2017770001]
