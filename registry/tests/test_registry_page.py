"""The Registry page (Managers): a registry file uploaded through it is stored with a queued job
and loaded by the worker; bad input is refused with a clear message and nothing stored; the
freshness list, the stale banner on Blacklists Management and /healthz's registry part."""

import html
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from registry import loads
from registry.models import AreaCode, RegistryExchange, RegistryFile
from registry.tasks import load_registry_file
from tasks_logs.models import TaskLog

from .files import flat, numbers, zipped

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def post(client, content: bytes, name: str = "201.txt", follow: bool = False, **fields):
    data = {"file": SimpleUploadedFile(name, content), "kind": "", "area_code": "", "state": "",
            "data_date": timezone.localdate().isoformat(), **fields}
    return client.post(reverse("registry:load"), data, follow=follow)


def loaded(code: int, count: int, days_old: int = 0) -> TaskLog:
    """An area code's full list loaded as the worker does, its data `days_old` days old."""
    data_date = timezone.localdate() - timedelta(days=days_old)
    return loads.load(loads.save_file(f"{code}.txt", flat(numbers(code, count)), area_code=code, data_date=data_date))


def test_only_managers_see_the_registry_page(client, make_user):
    for role in ("Viewer", "Reviewer"):
        client.force_login(make_user(role, f"a-{role.lower()}"))
        assert client.get(reverse("registry:registry")).status_code == 403
        assert post(client, flat(numbers(201, 3))).status_code == 403
    assert not TaskLog.objects.exists()

    client.force_login(make_user("Manager"))
    page = text(client.get(reverse("registry:registry")))
    assert "No area code loaded yet." in page and "manage.py import_registry" in page
    assert "National Registry</a>" in page  # in the menu


def test_a_file_uploaded_is_stored_with_a_queued_job_and_the_worker_loads_it(manager_client,
                                                                             django_capture_on_commit_callbacks):
    content = zipped(("201.txt", flat(numbers(201, 250))))
    with django_capture_on_commit_callbacks() as sent:
        response = post(manager_client, content, name="201.zip", kind="full", area_code="201",
                        data_date=(timezone.localdate() - timedelta(days=3)).isoformat())

    task_log = TaskLog.objects.get()
    assert response["Location"] == reverse("tasks_logs:list")
    assert (task_log.kind, task_log.state, task_log.file_name) == (TaskLog.Kind.REGISTRY_LOAD, TaskLog.State.QUEUED,
                                                                   "201.zip")
    assert task_log.params["changes"] is False and task_log.params["area_code"] == 201
    assert bytes(RegistryFile.objects.get().content) == content  # the ZIP as uploaded, for a worker elsewhere
    assert len(sent) == 1 and not RegistryExchange.objects.exists()

    load_registry_file(task_log.pk)  # what the worker runs

    page = text(manager_client.get(reverse("registry:registry")))
    assert "1 area code loaded; all fresh." in page
    row = page[page.index('id="area-code-201"'):].split("</tr>")[0]
    assert "NJ" in row and ">250<" in row and "3 days" in row and "Fresh" in row and "201.zip" in row
    assert len(RegistryExchange.objects.numbers()) == 250


@pytest.mark.parametrize("fields, content, says", [
    ({}, b"", "The submitted file is empty."),
    ({"area_code": "199"}, b"2015550123\n", "An area code has 3 digits, 200–999."),
    ({"area_code": "٢٠١"}, b"2015550123\n", "An area code has 3 digits, 200–999."),
    ({"area_code": "2015"}, b"2015550123\n", "An area code has 3 digits, 200–999."),
    ({"area_code": "211"}, b"2015550123\n", "Area code 211 does not exist"),
    ({"state": "XX"}, b"2015550123\n", "'XX' is not a US state or territory"),
    ({"area_code": "201", "state": "NJ"}, b"2015550123\n", "Give an area code or a state, not both."),
    ({"data_date": "2999-01-01"}, b"2015550123\n", "The date of the data, 2999-01-01, is in the future."),
    ({"data_date": "yesterday"}, b"2015550123\n", "Enter a valid date."),
])
def test_bad_input_is_refused_on_the_form_and_nothing_is_stored(manager_client, fields, content, says):
    response = post(manager_client, content, **fields)

    assert response.status_code == 400
    assert says in text(response)
    assert not TaskLog.objects.exists() and not RegistryFile.objects.exists()


def test_no_file_at_all_is_refused(manager_client):
    response = manager_client.post(reverse("registry:load"), {"data_date": timezone.localdate().isoformat()})
    assert response.status_code == 400 and "This field is required." in text(response)
    assert not TaskLog.objects.exists()


def test_a_file_over_the_limit_is_refused_while_it_arrives(manager_client, settings):
    settings.REGISTRY_UPLOAD_MAX_MB = 1

    response = post(manager_client, b"2015550123\n" * 100_000, follow=True)  # 1.1 MB

    page = text(response)
    assert "The file was not uploaded. The file is larger than that: the limit is 1 MB. Nothing was stored." in page
    assert not TaskLog.objects.exists()


def test_a_registry_file_is_not_held_to_the_csv_uploads_limit(manager_client, settings,
                                                             django_capture_on_commit_callbacks):
    settings.UPLOAD_MAX_MB = 1
    with django_capture_on_commit_callbacks():
        response = post(manager_client, flat(numbers(201, 120_000)), area_code="201")  # 1.3 MB

    assert response.status_code == 302 and TaskLog.objects.count() == 1


def test_junk_is_refused_on_the_job_and_changes_nothing(manager_client, django_capture_on_commit_callbacks):
    loaded(201, 10)
    with django_capture_on_commit_callbacks():
        post(manager_client, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, name="photo.txt")

    task_log = loads.load(TaskLog.objects.latest("pk"))

    assert task_log.state == TaskLog.State.FAILED and "registry" in task_log.message.lower()
    assert len(RegistryExchange.objects.numbers()) == 10


def test_the_freshness_list_flags_stale_area_codes_stalest_first(manager_client, settings):
    settings.REGISTRY_STALE_DAYS = 31
    loaded(201, 5, days_old=2)
    loaded(212, 7, days_old=40)

    page = text(manager_client.get(reverse("registry:registry")))

    assert '2 area codes loaded; <strong class="text-danger">1 stale</strong> (older than 31 days' in page
    assert page.index('id="area-code-212"') < page.index('id="area-code-201"')
    stale_row = page[page.index('id="area-code-212"'):].split("</tr>")[0]
    assert "40 days" in stale_row and "Stale" in stale_row and "NY" in stale_row


def test_blacklists_management_warns_of_stale_area_codes_with_their_count(manager_client, client, make_user):
    for url in (reverse("blacklist:review"), reverse("blacklist:approved"), reverse("blacklist:add")):
        assert "national registry" not in text(manager_client.get(url))  # an empty registry: nothing to say
    loaded(201, 5, days_old=1)
    assert 'id="registry-stale"' not in text(manager_client.get(reverse("blacklist:review")))

    loaded(212, 5, days_old=32)
    loaded(973, 5, days_old=60)

    for url in (reverse("blacklist:review"), reverse("blacklist:approved"), reverse("blacklist:add")):
        page = text(manager_client.get(url))
        assert "2 area codes of the national registry are older than 31 days." in page
        assert f'<a class="alert-link" href="{reverse("registry:registry")}">Load newer lists on the Registry page</a>' in page
    client.force_login(make_user("Viewer"))
    page = text(client.get(reverse("blacklist:review")))
    assert "2 area codes of the national registry are older than 31 days." in page
    assert "Ask a Manager to load newer lists." in page


def test_healthz_says_the_registry_is_stale_without_failing(client):
    assert client.get(reverse("healthz")).json()["registry"] == {"status": "ok"}
    loaded(201, 5, days_old=1)
    loaded(212, 5, days_old=45)

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["registry"] == {"status": "stale", "stale_area_codes": 1}
    AreaCode.objects.update(data_date=timezone.localdate())
    assert client.get(reverse("healthz")).json()["registry"] == {"status": "ok"}
