"""Extensions: a dialer (or a person) writes `+1 415 555 0123 ext 5`; the line is what is blocked.
Every common form is accepted and dropped, the same way on every path: upload, hand entry, API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from api import services as api_services
from blacklist import phone_cache
from blacklist.models import BlacklistedNumber, Status
from blacklist.phones import InvalidPhone, normalize_phone
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

FORMS = ["+1 415 555 0123 ext 5", "+1 415 555 0123 ext. 5", "(415) 555-0123 extension 12", "415-555-0123 x5",
         "415.555.0123 X 5", "+1 415 555 0123 #5", "+1 415 555 0123,5", "4155550123,,77", "+1 415 555 0123;ext=5",
         "tel:+1-415-555-0123;ext=5", "(415) 555-0123 Ext: 1234567"]


@pytest.mark.parametrize("written", FORMS)
def test_every_common_extension_form_gives_the_line(written):
    assert normalize_phone(written) == "+14155550123"
    assert phone_cache.normalized(written) == ("+14155550123", "")  # the cache uploads and the API use


@pytest.mark.parametrize(
    "junk, reason",
    [
        ("1-800-FLOWERS", "contains letters"),  # letters that are no extension still refuse the value
        ("415 555 0123 fax 5", "contains letters"),
        ("4155550123x", "contains letters"),
        ("4155550123,2125550100", "not a phone number"),  # two numbers, not a number and an extension
        ("415,555,0123", "digits after the number that are no extension (two numbers in one?)"),
    ],
)
def test_what_is_no_extension_is_still_refused(junk, reason):
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(junk)
    assert refused.value.reason == reason
    assert phone_cache.normalized(junk) == ("", reason)


def test_hand_entry_accepts_extensions_and_adds_the_lines(admin_client):
    numbers = "+1 415 555 0123 ext 5\n212-555-0100 x12\n+1 646 555 0100;ext=9\n"

    response = admin_client.post(reverse("blacklist:add"), {"numbers": numbers}, follow=True)

    assert "Added 3 new number(s)" in response.content.decode()
    assert sorted(BlacklistedNumber.objects.values_list("phone", flat=True)) == [
        "+12125550100", "+14155550123", "+16465550100"]


@pytest.mark.worker
def test_an_upload_with_extensions_imports_the_lines(admin_client, celery_worker_process):
    rows = ["phone", '"+1 415 555 0123,5"', "212-555-0100 x12", "+1 646 555 0100;ext=9", "(415) 555-0123 ext. 7",
            "1-800-FLOWERS"]
    upload = SimpleUploadedFile("dialer.csv", ("\n".join(rows) + "\n").encode())

    admin_client.post(reverse("blacklist:upload"), {"file": upload})

    task_log = wait_until_finished(TaskLog.objects.get())
    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    assert (task_log.total, task_log.new, task_log.duplicates, task_log.invalid) == (5, 3, 1, 1)
    assert list(task_log.rejected_rows.values_list("value", "reason")) == [("1-800-FLOWERS", "contains letters")]
    assert sorted(BlacklistedNumber.objects.values_list("phone", flat=True)) == [
        "+12125550100", "+14155550123", "+16465550100"]


@pytest.mark.django_db
def test_the_api_checks_scrubs_and_adds_the_line(client, admin_user):
    _, key = api_services.create_key("dialer", user=admin_user, can_check=True, can_add=True, can_approve=False,
                                     expires_at=None)
    headers = {"Authorization": f"Bearer {key}"}

    added = client.post("/api/v1/blacklist/numbers", ["+1 415 555 0123 ext 5", "+1 415 555 0123 x6"],
                        content_type="application/json", headers=headers).json()
    checked = client.get("/api/v1/blacklist/check", {"phone": "(415) 555-0123 #9"}, headers=headers).json()
    scrubbed = client.post("/api/v1/blacklist/scrub", "+1 415 555 0123;ext=5\n", content_type="text/csv",
                           headers=headers).json()

    assert (added["new"], added["duplicates"], added["invalid"]) == (1, 1, 0)
    assert (checked["phone"], checked["blocked"], checked["status"]) == ("+14155550123", True, "review")
    assert [(line["phone"], line["blocked"]) for line in scrubbed["results"]] == [("+14155550123", True)]
    assert list(BlacklistedNumber.objects.values_list("phone", "status")) == [("+14155550123", Status.REVIEW)]
