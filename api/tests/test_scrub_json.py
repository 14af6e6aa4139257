"""scrub writes its answer from parts encoded once (services.scrub_json): it must be the very text
json.dumps writes for the answer's dictionaries, line by line, in every kind of line."""

import json
from datetime import UTC

import pytest

from api import services as api_services
from blacklist import services
from blacklist.models import BlacklistedNumber, DncList, Status
from blacklist.phones import normalized

from .helpers import ApiClient

pytestmark = pytest.mark.django_db

SCRUB = "/api/v1/blacklist/scrub"


def expected_answer(body: list) -> bytes:
    """The answer as dictionaries, encoded whole by json.dumps (as scrub wrote it before scrub_json)."""
    answers = [normalized(raw) for raw in body]
    listings = api_services.lookup({phone for phone, _ in answers if phone})
    results = [{"input": raw, "valid": True, "reason": None, **api_services.verdict(phone, listings.get(phone, []))}
               if phone else {"input": raw, "valid": False, **api_services.NOT_LISTED, "reason": reason, "phone": None}
               for raw, (phone, reason) in zip(body, answers, strict=True)]
    return json.dumps({"count": len(results), "blocked": sum(line["blocked"] for line in results),
                       "invalid": sum(not line["valid"] for line in results), "results": results}).encode()


@pytest.mark.parametrize("review_blocks", [False, True])
def test_scrub_answers_the_text_json_dumps_writes_for_every_kind_of_line(api: ApiClient, make_key, settings,
                                                                         review_blocks):
    settings.BLOCK_NUMBERS_UNDER_REVIEW = review_blocks
    quoted = DncList.objects.create(name='Client "Ünïcode" ☎ \\ list')
    acme = DncList.objects.create(name="Client: Acme")
    numbers = [f"+1415555{n:04d}" for n in range(40)]
    services.add_numbers(numbers[:20], Status.APPROVED)  # Internal
    services.add_numbers(numbers[10:30], Status.REVIEW, dnc_list=acme)  # 10 on both lists
    services.add_numbers(["+141555500*", "+1212*"], Status.APPROVED, dnc_list=quoted)  # over own entries too
    services.add_numbers(["+14155550*"], Status.REVIEW, dnc_list=acme)  # a prefix under review
    body = [*numbers, "+1 212 555 0100", "(212) 555-0101", 4155550005, 2125550102, "nope", "", '"☎"', "12345",
            -1, "tel:+1-415-555-0007", "+44 20 7946 0958"]

    response = api.post(SCRUB, body, make_key())

    assert response.content == expected_answer(body)
    assert response["Content-Type"] == "application/json"
    lines = response.json()["results"]
    assert len(lines[3]["blocked_by"]) == 2 + review_blocks  # its own entry and the prefixes covering it
    stored = BlacklistedNumber.objects.get(phone=numbers[0]).status_changed_at.astimezone(UTC)
    assert lines[0]["since"] == stored.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_an_empty_scrub_answers_the_same_text(api: ApiClient, make_key):
    assert api.post(SCRUB, [], make_key()).content == expected_answer([])


def test_a_prefix_of_a_length_no_entry_had_blocks_from_the_next_scrub(api: ApiClient, make_key):
    """On PostgreSQL scrub looks up only the heads of the lengths prefix entries have, read in the
    same query: a prefix of a new length must block at once, and one removed must stop blocking."""
    key = make_key()
    body = ["+14155550123", "+12125550123"]
    services.add_numbers(["+1415555*"], Status.APPROVED)
    first = api.post(SCRUB, body, key).json()
    assert [line["blocked"] for line in first["results"]] == [True, False]

    services.add_numbers(["+121255501*"], Status.APPROVED)  # a length no prefix entry had
    second = api.post(SCRUB, body, key).json()
    assert [line["blocked_by"][0]["prefix"] for line in second["results"]] == ["+1415555*", "+121255501*"]

    BlacklistedNumber.objects.filter(phone="+1415555*").delete()
    third = api.post(SCRUB, body, key).json()
    assert [line["blocked"] for line in third["results"]] == [False, True]
