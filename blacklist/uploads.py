"""Refusing an oversized upload while it arrives: left to itself, Django streams a 1 GB request
body into a temporary file before the form can look at the file's size."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.urls import reverse

from . import csv_files

MULTIPART_OVERHEAD = 64 * 1024  # the form's other fields and the multipart boundaries


def max_bytes(request) -> int:
    """The largest file this request may upload: a national registry file (REGISTRY_UPLOAD_MAX_MB,
    an area code's full list is about 110 MB as text) or a CSV of ours (UPLOAD_MAX_MB)."""
    if request is not None and request.path == reverse("registry:load"):
        return settings.REGISTRY_UPLOAD_MAX_MB * 1024 * 1024
    return csv_files.max_bytes()


class SizeLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops reading the body as soon as it is known to be over
    the upload limit (by its Content-Length, or by the bytes of the file so far), and leaves the
    reason on `request.upload_refused` for the view."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.body_length = content_length
        self.limit = max_bytes(self.request)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.body_length > self.limit + MULTIPART_OVERHEAD:
            self._refuse(f"The file is {self.body_length / 1024 / 1024:.1f} MB;")

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self._refuse("The file is larger than that:")
        return raw_data  # the next handler keeps it

    def file_complete(self, file_size):
        return None  # the next handler makes the file

    def _refuse(self, size: str):
        self.request.upload_refused = f"{size} the limit is {self.limit // 1024 // 1024} MB."  # type: ignore[union-attr]  # handlers get the request; the view reads this
        raise StopUpload(connection_reset=True)  # the rest of the body is never read
