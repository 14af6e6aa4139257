"""The CSV upload form: every file rule is checked in the request. A refused file gets a clear
message naming the problem and the line, and nothing is stored or queued; a good one is stored
with a queued TaskLog, and its Celery task is sent only once that commits."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from blacklist import csv_files
from blacklist.forms import UploadForm
from blacklist.models import BlacklistedNumber, Status, internal_list_id
from tasks_logs.models import TaskLog, Upload

pytestmark = pytest.mark.django_db

TOO_MANY_ROWS = "".join(f"+1212555{i % 10_000:04d}\n" for i in range(50_001)).encode()

BAD_FILES = [
    ("empty", "numbers.csv", b"", "The file is empty."),
    ("only blank lines", "numbers.csv", b"\r\n  \r\n\t\r\n", "The file is empty."),
    ("only a UTF-8 byte order mark", "numbers.csv", b"\xef\xbb\xbf", "The file is empty."),
    ("only a header", "numbers.csv", b"Phone Number\n\n", "The file has no phone numbers in it"),
    ("an image", "numbers.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "Line 2 holds binary data"),
    ("binary after good lines", "numbers.csv", b"4155550100\n4155550101\n\x00\x13\x7f\x02junk",
     "Line 3 holds binary data (character 0x00): this is not a text file."),
    ("an xlsx renamed to .csv", "numbers.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml",
     "The file is a ZIP archive, such as an Excel workbook (.xlsx) renamed to .csv"),
    ("an old .xls renamed", "numbers.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "Excel 97–2003 workbook (.xls)"),
    ("broken UTF-16", "numbers.csv", b"\xff\xfe4\x001\x005\x00\x00",
     "The file looks like UTF-16 text but cannot be read as such"),
    ("a PDF", "numbers.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "The file is a PDF document, not a CSV file."),
    ("two columns", "numbers.csv", b"4155550100\n4155550101,John Smith\n",
     "Line 2 has 2 values (4155550101, John Smith): the file must have one column of phone numbers."),
    ("a header with two columns", "numbers.csv", b"phone;name\n4155550100;\n",
     "Line 1 has 2 values (phone, name)"),
    ("numbers in two columns on different lines", "numbers.csv", b"4155550100,\n,4155550101\n",
     "Line 2 has its number in column 2, the lines before in column 1"),
    ("a quote never closed", "numbers.csv", b'4155550100\n"4155550101\n4155550102\n',
     'Line 2: a quote (") opened on this line is never closed.'),
    ("more than 50,000 rows", "numbers.csv", TOO_MANY_ROWS,
     "The file has more than 50,000 rows (line 50,001 is row 50,001); split it into files of at most 50,000 rows."),
    ("not a .csv name", "numbers.xlsx", b"4155550100\n", "“numbers.xlsx” is not a CSV file: upload a .csv (or .txt) file."),
    ("no extension", "numbers", b"4155550100\n", "“numbers” is not a CSV file"),
]


def post_file(client, name, content, **data):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(reverse("blacklist:upload"), {"file": upload, **data}, follow=True)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def assert_nothing_stored_or_queued(callbacks):
    assert not TaskLog.objects.exists()
    assert not Upload.objects.exists()
    assert not BlacklistedNumber.objects.exists()
    assert callbacks == []  # no Celery message waits for a commit


@pytest.mark.parametrize("name, content, expected", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_stored_or_queued(
    admin_client, django_capture_on_commit_callbacks, name, content, expected
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_file(admin_client, name, content, approve="on")

    assert response.redirect_chain == [(reverse("blacklist:add"), 302)]
    page = page_text(response)
    assert "The file was not uploaded." in page and expected in page and "Nothing was stored." in page
    assert 'class="alert alert-danger' in page
    assert_nothing_stored_or_queued(callbacks)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(admin_client, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_MAX_MB = 1
    content = b"4155550100\n" * 120_000  # 1.3 MB

    with django_capture_on_commit_callbacks() as callbacks:
        response = post_file(admin_client, "big.csv", content)

    assert "The file is 1.3 MB; the limit is 1 MB." in page_text(response)
    assert_nothing_stored_or_queued(callbacks)


def test_submitting_without_a_file_asks_for_one(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(reverse("blacklist:upload"), {"approve": "on"}, follow=True)

    assert "Choose a CSV file to upload." in page_text(response)
    assert_nothing_stored_or_queued(callbacks)


def test_a_good_file_is_stored_with_a_queued_task_sent_after_commit(admin_client, admin_user, django_capture_on_commit_callbacks):
    content = "\ufeffPhone Number,\r\n(415) 555-0100,\r\n\r\n4.15555E+09,\r\n".encode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = post_file(admin_client, "dnc list.csv", content, approve="on")

    assert response.redirect_chain == [(reverse("tasks_logs:list"), 302)]
    task_log = TaskLog.objects.get()
    assert (task_log.kind, task_log.state, task_log.file_name, task_log.total, task_log.created_by) == (
        TaskLog.Kind.IMPORT, TaskLog.State.QUEUED, "dnc list.csv", 2, admin_user)
    assert task_log.params == {"status": Status.APPROVED, "details": {  # the form's defaults
        "reason": None, "channel": "upload", "received_at": None, "note": "", "expires_at": None},
        "dnc_list": internal_list_id()}  # none chosen: Internal
    upload = Upload.objects.get()
    assert (upload.task_log, upload.encoding, upload.size) == (task_log, "utf-8", len(content))
    assert upload.content == "Phone Number,\r\n(415) 555-0100,\r\n\r\n4.15555E+09,\r\n"
    assert len(callbacks) == 1  # the task, sent once the TaskLog and its file are committed
    page = page_text(response)
    assert "dnc list.csv: 2 rows queued for import into “Internal”." in page
    assert f'data-id="{task_log.pk}"' in page and 'data-state="queued"' in page  # already on Tasks Logs
    assert not BlacklistedNumber.objects.exists()  # the worker adds them, not the request


@pytest.mark.parametrize("checked, status", [
    ({}, Status.REVIEW),
    ({"approve": "on"}, Status.APPROVED),
    ({"approve_permanently": "on", "confirmed": "on"}, Status.PERMANENT),
    ({"approve": "on", "approve_permanently": "on", "confirmed": "on"}, Status.PERMANENT),
    ({"add_as": "review"}, Status.REVIEW),
    ({"add_as": "approved"}, Status.APPROVED),
    ({"add_as": "permanent", "confirmed": "on"}, Status.PERMANENT),
    ({"add_as": "review", "approve": "on"}, Status.APPROVED),  # the old checkbox, posted by a script, still counts
])
def test_the_choice_or_the_old_checkboxes_set_the_status_the_import_asks_for(admin_client, checked, status):
    post_file(admin_client, "numbers.csv", b"4155550100\n", **checked)
    assert TaskLog.objects.get().params["status"] == status


def test_the_add_tab_shows_the_upload_form_with_its_rules(admin_client):
    page = page_text(admin_client.get(reverse("blacklist:add")))

    assert 'action="/blacklist/add/upload/"' in page and 'enctype="multipart/form-data"' in page
    for field in UploadForm():
        assert field.label in page
    assert '<label class="form-check-label" for="id_upload_add_as_1">Mark all dnc leads as approved</label>' in page
    assert csv_files.rules_text() in page
    assert "at most 5 MB with one column of phone numbers, up to 50,000 rows" in page
    assert '<button class="btn btn-primary mt-2" type="submit">Upload</button>' in page


def test_upload_takes_only_post_from_logged_in_users(client, admin_client):
    assert admin_client.get(reverse("blacklist:upload")).status_code == 405
    response = client.post(reverse("blacklist:upload"), {"file": SimpleUploadedFile("a.csv", b"4155550100\n")})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not TaskLog.objects.exists()
