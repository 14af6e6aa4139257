"""Fuzzing the CSV reader and the number normalizer with hypothesis: whatever bytes arrive, the
reader either accepts the file or refuses it with a BadFile message (never another exception),
and every data row it reads ends accepted or rejected, never lost."""

import io
import random
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blacklist import csv_files, services
from blacklist.models import Status
from blacklist.phone_cache import normalized
from blacklist.phones import InvalidPhone, normalize_phone
from tasks_logs.models import TaskLog

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
FORMULAS = ["=1+1", "+1 415 555 0100", "-2+3", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\")", "\t=1", "=cmd|' /C calc'!A0"]
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(FORMULAS),
    st.from_regex(r"\+?1? ?\(?[2-9][0-9]{2}\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}", fullmatch=True),
    st.text(alphabet="0123456789+-() .e,;\t\"'", max_size=40),
)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(name: str, data: bytes):
    """read_csv's answer: the file, or None for a refusal with a message for people."""
    try:
        return csv_files.read_csv(name, io.BytesIO(data))
    except csv_files.BadFile as refused:
        assert refused.message and "Traceback" not in refused.message
        return None


def accounted(csv_file) -> tuple[int, int]:
    """(accepted, rejected) over the file's rows, as the import checks them."""
    accepted = rejected = 0
    for _line, value in csv_files.data_rows(csv_file.text):
        phone, reason = normalized(value)
        assert bool(phone) != bool(reason)
        if phone:
            assert E164.match(phone)
            accepted += 1
        else:
            rejected += 1
    return accepted, rejected


@fuzz
@given(st.binary(max_size=4096))
@example(b"\x00" * 10)
@example(b"4155550100\x00\n")
@example(b"\xff\xfe4\x001\x005\x00")
@example(b"\xff\xfe\x00")
@example(b'"' + b"4" * 200_000)
@example(b"4155550100," * 10_000)
def test_random_bytes_are_read_or_refused_and_every_row_is_accounted_for(data):
    if csv_file := read("fuzz.csv", data):
        accepted, rejected = accounted(csv_file)
        assert accepted + rejected == csv_file.rows


@fuzz
@given(st.lists(cell, min_size=1, max_size=60), st.sampled_from(ENCODINGS), st.sampled_from(["\n", "\r\n", "\r"]))
def test_text_files_in_any_encoding_are_read_or_refused_and_every_row_is_accounted_for(cells, encoding, newline):
    data = newline.join(cells).encode(encoding, errors="replace")
    if csv_file := read("fuzz.csv", data):
        accepted, rejected = accounted(csv_file)
        assert accepted + rejected == csv_file.rows


@fuzz
@given(st.text(max_size=200))
@example("\x00" * 5)
@example("9" * 100_000)
@example("=1+1")
@example("+1 415 555 0100")
def test_normalize_phone_returns_e164_or_a_reason(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as invalid:
        assert invalid.reason
        assert normalized(raw) == ("", invalid.reason)
    else:
        assert E164.match(phone)
        assert normalized(raw) == (phone, "")


@pytest.mark.django_db
def test_fifty_thousand_rows_of_junk_import_with_closed_accounting():
    pick = random.Random(7)
    junk = ["=1+1", "+1 415 555 0100", "-2+3", "@SUM(A1:A9)", "=cmd|' /C calc'!A0", "NaN", "null", "4.15555E+09", "0",
            "+", "'+14155550100", "☎ 415 555 0100", "1-800-FLOWERS", "<script>alert(1)</script>"]  # one column
    rows = [pick.choice(junk) if pick.random() < 0.6 else f"({pick.randint(201, 989)}) 555-{pick.randint(0, 9999):04d}"
            for _ in range(50_000)]
    csv_file = read("junk.csv", "\n".join(rows).encode())
    assert csv_file is not None and csv_file.rows == 50_000

    task_log = services.import_numbers(services.save_upload(csv_file, Status.REVIEW))

    assert task_log.state == TaskLog.State.SUCCEEDED, task_log.message
    assert task_log.total == task_log.processed == 50_000
    assert (task_log.new + task_log.raised + task_log.unchanged + task_log.duplicates + task_log.invalid
            == task_log.total)
    assert task_log.invalid == task_log.rejected_rows.count() > 0
