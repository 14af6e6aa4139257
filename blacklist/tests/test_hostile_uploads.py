"""Hostile uploads: a body far over the limit is refused without being read, archives renamed
to .csv are refused by their first bytes without being unpacked, and too many rows are refused."""

import gzip
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_logs.models import TaskLog, Upload

GIGABYTE = 1024 ** 3


class EndlessBody:
    """A 1 GB multipart request body made up as it is read, counting what the server reads."""

    def __init__(self, boundary: str, size: int = GIGABYTE):
        self.head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.csv\"\r\n"
                     "Content-Type: text/csv\r\n\r\n").encode()
        self.size, self.read_bytes = size, 0

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.read_bytes
        size = left if size is None or size < 0 else min(size, left)
        if size > 10 * 1024 * 1024:
            raise AssertionError("the server asked for the whole body at once")
        start, self.read_bytes = self.read_bytes, self.read_bytes + size
        head = self.head[start:start + size]
        return head + b"4155550100\n"[:1] * (size - len(head))

    readline = read


def refused_page(client, response) -> str:
    assert response.status_code == 302 and response["Location"] == reverse("blacklist:add")
    return " ".join(str(message) for message in client.get(response["Location"]).context["messages"])


def test_a_one_gigabyte_body_is_refused_after_reading_a_few_bytes(admin_client):
    boundary = "hostile"
    body = EndlessBody(boundary)

    response = admin_client.generic(
        "POST", reverse("blacklist:upload"), CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH=str(GIGABYTE), **{"wsgi.input": body})

    assert refused_page(admin_client, response) == (
        "The file was not uploaded. The file is 1024.0 MB; the limit is 5 MB. Nothing was stored.")
    assert body.read_bytes < 1024 * 1024  # stopped at the first chunk of the file
    assert not TaskLog.objects.exists() and not Upload.objects.exists()


def test_a_file_over_the_limit_in_a_body_under_it_plus_slack_is_cut_off_at_the_limit(admin_client, settings):
    """Content-Length within the limit and the form's slack: reading stops once the file passes the limit."""
    settings.UPLOAD_MAX_MB = 1
    boundary = "slack"
    size = 1024 * 1024 + 32 * 1024
    body = EndlessBody(boundary, size=size)

    response = admin_client.generic(
        "POST", reverse("blacklist:upload"), CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH=str(size), **{"wsgi.input": body})

    assert "The file is larger than that: the limit is 1 MB." in refused_page(admin_client, response)
    assert not TaskLog.objects.exists()


def zip_bomb() -> bytes:
    """A small zip that would unpack to 1 GB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("numbers.csv", "w", force_zip64=True) as member:
            chunk = b"0" * (1024 * 1024)
            for _ in range(1024):
                member.write(chunk)
    return buffer.getvalue()


@pytest.mark.parametrize("content, expected", [
    (zip_bomb(), "is a ZIP archive, such as an Excel workbook (.xlsx) renamed to .csv"),
    (gzip.compress(b"0" * 50_000_000), "is a gzip archive; unpack it first"),
], ids=["zip bomb", "gzip bomb"])
def test_archives_renamed_to_csv_are_refused_unopened(admin_client, content, expected):
    assert len(content) < 2 * 1024 * 1024  # a small upload that would unpack to far more

    response = admin_client.post(reverse("blacklist:upload"), {"file": SimpleUploadedFile("bomb.csv", content)})

    assert expected in refused_page(admin_client, response)
    assert not Upload.objects.exists()

