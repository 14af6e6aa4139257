"""Refusing an oversized upload while it arrives: left to itself, Django streams a 1 GB request
body into a temporary file before the form can look at the file's size."""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from . import csv_files

MULTIPART_OVERHEAD = 64 * 1024  # the form's other fields and the multipart boundaries


class SizeLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops reading the body as soon as it is known to be over
    the upload limit (by its Content-Length, or by the bytes of the file so far), and leaves the
    reason on `request.upload_refused` for the view."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.body_length = content_length

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.body_length > csv_files.max_bytes() + MULTIPART_OVERHEAD:
            self._refuse(f"The file is {self.body_length / 1024 / 1024:.1f} MB;")

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > csv_files.max_bytes():
            self._refuse("The file is larger than that:")
        return raw_data  # the next handler keeps it

    def file_complete(self, file_size):
        return None  # the next handler makes the file

    def _refuse(self, size: str):
        self.request.upload_refused = f"{size} the limit is {csv_files.max_bytes() // 1024 // 1024} MB."  # type: ignore[union-attr]  # handlers get the request; the view reads this
        raise StopUpload(connection_reset=True)  # the rest of the body is never read
