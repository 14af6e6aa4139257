"""Benchmark of the CSV import against a raw COPY floor measured in the same run.

    .venv/bin/python bench/bench_import.py                        # 50,000 rows into a list, among 1M numbers, 3 runs
    .venv/bin/python bench/bench_import.py --rows 50000 --existing 1000000 --runs 5

Uses the PostgreSQL database BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/blacklist_bench_import),
created and migrated if missing and filled once, set-based, with --existing numbers: three in
four on the Internal list, one in four on the named list "Bench: upload target", which every
upload goes into (issue 15). Each run makes a fresh file of realistic US numbers in mixed
written forms (about 1% junk and 1% repeats) and times, on the same database:

  floor    csv + a digit filter + one committed COPY of its numbers into the blacklist table, as
           entries of the target list
  import   the import task's work into the target list, task start → succeeded (services.import_numbers), full
           phonenumbers validation, validation cache cold for these numbers, with the upload
           form's request details for the whole file (a reason, channel, received date, note;
           checked by the form's RequestDetailsForm) and each number's line recorded
  again    the same file uploaded again: every number already listed; its database time apart
  peer     the same file through django-import-export (bench/peer_import.py, requirements-bench.txt)
           into a fresh scratch table: its bulk mode every run, its default mode (~40 s) the first
           --peer-default-runs; the rows it inserts and rejects must be ours

Then one more file is sent to a fresh Celery worker (`--pool solo`), as the upload page sends it,
and the worker's peak resident memory (VmHWM) is read once the import succeeded: target < 150 MB.
It removes the rows it added afterwards, so the database keeps --existing numbers between runs.
"""

import argparse
import csv
import io
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import ensure_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/blacklist_bench_import"
TARGET_RATIO = 2.0  # issue 17 (2.5 in issues 14 and 15): a 50K upload into a named list, with request details
TARGET_LIST = "Bench: upload target"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = ensure_database(url)
    os.environ.setdefault("VAR_DIR", "/tmp/bench_import_var")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a JSON line per request measured
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blacklist_admin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def target_list():
    """The named list every upload goes into (made if missing)."""
    from blacklist.models import DncList

    return DncList.objects.get_or_create(name=TARGET_LIST, defaults={"description": "bench_import"})[0]


def fill(existing: int) -> None:
    """Top the blacklist up to `existing` numbers, set-based, spread over all +1 2xx…9xx numbers
    ending in an even digit (the files below end in odd ones, so the floor's COPY never collides):
    three in four on Internal, the fourth on the target list."""
    from django.db import connection

    from blacklist.models import BlacklistedNumber, default_reason_id, internal_list_id

    have = BlacklistedNumber.objects.count()
    target = target_list()
    if have >= existing and BlacklistedNumber.objects.filter(dnc_list=target)[:1].exists():
        return
    if have >= existing:  # filled before lists: all on Internal; a quarter moves to the target list
        have = 0
        with connection.cursor() as cursor:  # the bench's own rows: past the truncate guard
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("TRUNCATE blacklist_blacklistednumber")
            cursor.execute("SET session_replication_role = DEFAULT")
    print(f"Filling the blacklist with {existing - have:,} numbers…", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO blacklist_blacklistednumber (phone, dnc_list_id, status, added_at, status_changed_at,"
            " reason_id, channel, received_at, deadline, note)"
            " SELECT '+1' || (2000000000 + (i::bigint * 7919) %% 3999999999 * 2)::text,"
            " CASE WHEN i %% 4 = 3 THEN %s ELSE %s END, 1 + i %% 3, now(), now(),"
            " %s, 'other', now(), current_date + 14, ''"
            " FROM generate_series(%s, %s) AS i ON CONFLICT (phone, dnc_list_id) DO NOTHING",
            [target.pk, internal_list_id(), default_reason_id(), have, existing - 1],
        )
        cursor.execute("ANALYZE blacklist_blacklistednumber")


def valid_area_codes() -> list[str]:
    from blacklist.phones import InvalidPhone, normalize_phone

    codes = []
    for npa in range(201, 990):
        try:
            normalize_phone(f"{npa}2345678", "US")
            codes.append(str(npa))
        except InvalidPhone:
            pass
    return codes


def make_file(rows: int, seed: int, area_codes: list[str]) -> bytes:
    """A spreadsheet export: header, mixed written forms, about 1% junk and 1% repeats."""
    rng = random.Random(seed)
    forms = [
        lambda a, b, c: f"({a}) {b}-{c}", lambda a, b, c: f"{a}-{b}-{c}", lambda a, b, c: f"{a}{b}{c}",
        lambda a, b, c: f"+1 {a} {b} {c}", lambda a, b, c: f"1-{a}-{b}-{c}", lambda a, b, c: f"{a}.{b}.{c}",
    ]
    junk = ["12345", "555-CALL-NOW", "4.15555E+09", "n/a", "000-000-0000", "+999 12"]
    lines, written = ["Phone Number"], []
    for _ in range(rows):
        roll = rng.random()
        if roll < 0.01:
            lines.append(rng.choice(junk))
        elif roll < 0.02 and written:
            lines.append(rng.choice(written))
        else:
            number = rng.choice(forms)(rng.choice(area_codes), f"{rng.randint(200, 999)}",
                                       f"{rng.randrange(1, 10_000, 2):04d}")
            written.append(number)
            lines.append(number)
    return ("\r\n".join(lines) + "\r\n").encode()


def floor(content: bytes) -> float:
    """csv + a digit filter + one committed COPY into the blacklist table, every column the import
    fills but the upload's line: the least any import costs. The rows it added are deleted
    afterwards, untimed."""
    from django.db import connection, transaction

    from blacklist.models import default_reason_id

    list_id = target_list().pk
    started = time.perf_counter()
    not_digit = re.compile(r"\D")
    phones = {}
    for (value,) in csv.reader(io.StringIO(content.decode("utf-8"), newline="")):
        digits = not_digit.sub("", value)
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if len(digits) == 10:
            phones["+1" + digits] = None
    request = f"{default_reason_id()}\tletter\t2025-12-20 00:00:00+00\t2026-01-06\tfrom the bench"
    data = "".join(f"{phone}\t{list_id}\t1\t2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\t{request}\n"
                   for phone in phones)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY blacklist_blacklistednumber (phone, dnc_list_id, status, added_at, status_changed_at, reason_id,"
            " channel, received_at, deadline, note) FROM STDIN",
            io.StringIO(data),
        )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM blacklist_blacklistednumber WHERE added_at = '2026-01-01 00:00:00+00'")
    return elapsed


def saved_upload(content: bytes, name: str):
    """The file stored as the upload page stores it, into the target list with the form's request
    details: its queued import TaskLog."""
    from django.utils import timezone

    from blacklist import csv_files, services
    from blacklist.forms import RequestDetailsForm
    from blacklist.models import Channel, Status

    received = (timezone.localdate() - timedelta(days=10)).isoformat()
    form = RequestDetailsForm({"reason": "consent_revoked", "channel": "letter", "received_at": received,
                               "note": "Revocations by letter, scanned batch"}, channel=Channel.UPLOAD,
                              status=Status.APPROVED)
    assert form.is_valid(), form.errors
    return services.save_upload(csv_files.read_csv(name, io.BytesIO(content)), Status.APPROVED,
                                details=form.details(), dnc_list=target_list())


def timed_import(content: bytes, name: str) -> tuple[float, float, object]:
    """(seconds task start → succeeded, seconds of database time, TaskLog)."""
    from django.db import connection

    from blacklist import services

    task_log = saved_upload(content, name)
    database, merging = [0.0], [False]

    def timed_query(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not merging[0]:
                database[0] += time.perf_counter() - started

    add_numbers = services.add_numbers

    def timed_add_numbers(*args, **kwargs):  # its COPY bypasses execute_wrapper: time the merge whole
        started, merging[0] = time.perf_counter(), True
        try:
            return add_numbers(*args, **kwargs)
        finally:
            merging[0] = False
            database[0] += time.perf_counter() - started

    services.add_numbers = timed_add_numbers
    try:
        with connection.execute_wrapper(timed_query):
            started = time.perf_counter()
            task_log = services.import_numbers(task_log)
            elapsed = time.perf_counter() - started
    finally:
        services.add_numbers = add_numbers
    return elapsed, database[0], task_log


def phonenumbers_cost(sample: list[str]) -> float:
    from blacklist.phones import InvalidPhone, normalize_phone

    started = time.perf_counter()
    for value in sample:
        try:
            normalize_phone(value)
        except InvalidPhone:
            pass
    return (time.perf_counter() - started) / len(sample)


def worker_peak_rss_mb(content: bytes) -> float:
    """The peak resident memory (VmHWM, MB) of a fresh Celery worker (`--pool solo`: the task
    runs in the process measured, as in a prefork worker's child) that starts and runs one import
    of `content`, sent as the upload page sends it. Its rows are removed afterwards."""
    from blacklist.models import BlacklistedNumber
    from blacklist.tasks import import_upload
    from tasks_logs.models import TaskLog

    log = tempfile.TemporaryFile("w+")  # its banner and warnings: shown only if it fails
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "blacklist_admin", "worker", "--pool", "solo",
                               "--queues", "imports,celery", "--hostname", "bench-import-peak@%h",
                               "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle",
                               "--without-gossip"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        task_log = saved_upload(content, "bench-peak-rss.csv")
        import_upload.delay(task_log.pk)
        deadline = time.monotonic() + 600
        while TaskLog.objects.get(pk=task_log.pk).state not in (TaskLog.State.SUCCEEDED, TaskLog.State.FAILED):
            assert time.monotonic() < deadline and worker.poll() is None, "the worker did not finish the import"
            time.sleep(0.2)
        with open(f"/proc/{worker.pid}/status") as status:
            peak_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
        assert TaskLog.objects.get(pk=task_log.pk).state == TaskLog.State.SUCCEEDED
    except AssertionError:
        log.seek(0)
        print(log.read(), file=sys.stderr)
        raise
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    BlacklistedNumber.objects.filter(source_task=task_log).delete()
    task_log.delete()
    return peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-default-runs", type=int, default=1,
                        help="runs that also time django-import-export's default mode (~40 s each); its bulk mode runs"
                             " every run")
    parser.add_argument("--json", help="also write the results here, for `make bench`")
    args = parser.parse_args()
    setup_django(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))

    from bench import peer_import
    from blacklist import phone_cache
    from blacklist.models import BlacklistedNumber
    from tasks_logs.models import TaskLog

    fill(args.existing)
    from bench.database import warm_cache

    print(warm_cache())
    area_codes = valid_area_codes()
    on_target = BlacklistedNumber.objects.in_list(target_list()).count()
    print(f"{BlacklistedNumber.objects.count():,} entries listed, {on_target:,}"
          f" of them on “{TARGET_LIST}”, which the uploads go into; {args.rows:,}-row files; {args.runs} runs\n")
    print(f"{'run':>3}  {'floor':>7}  {'import':>7}  {'ratio':>5}  {'again':>7}  {'again db':>8}  {'d-i-e bulk':>10}"
          f"  {'d-i-e default':>13}  counts of the import")
    results, peer = [], {"bulk": [], "default": []}
    for run in range(1, args.runs + 1):
        content = make_file(args.rows, seed=time.time_ns(), area_codes=area_codes)
        floor_seconds = floor(content)
        phone_cache.clear()  # cold: as a worker meeting these numbers first
        import_seconds, _, task_log = timed_import(content, f"bench-{run}.csv")
        again_seconds, again_db, again_log = timed_import(content, f"bench-{run}-again.csv")
        assert task_log.state == again_log.state == TaskLog.State.SUCCEEDED
        assert again_log.new == 0 and again_log.unchanged == task_log.new + task_log.raised + task_log.unchanged
        assert BlacklistedNumber.objects.in_list(target_list()).filter(
            source_task=task_log, reason__slug="consent_revoked", source_line__isnull=False).count() == task_log.new
        for mode in ["bulk", "default"] if run <= args.peer_default_runs else ["bulk"]:
            theirs = peer_import.import_file(content, mode)
            # the same rows in the table and the same rows refused as ours (the file's numbers are all new to ours)
            assert (theirs.inserted, theirs.invalid) == (task_log.new, task_log.invalid), (mode, theirs, task_log)
            peer[mode].append(theirs.seconds)
        ratio = import_seconds / floor_seconds
        results.append((floor_seconds, import_seconds, ratio, again_seconds, again_db))
        default = f"{peer['default'][-1]:12.2f}s" if run <= args.peer_default_runs else f"{'—':>13}"
        print(f"{run:>3}  {floor_seconds:6.2f}s  {import_seconds:6.2f}s  {ratio:4.1f}×  {again_seconds:6.2f}s"
              f"  {again_db:7.2f}s  {peer['bulk'][-1]:9.2f}s  {default}  {task_log.import_summary()}", flush=True)
        BlacklistedNumber.objects.filter(source_task=task_log).delete()
        TaskLog.objects.filter(pk__in=[task_log.pk, again_log.pk]).delete()

    best = min(results, key=lambda result: result[1])
    median = [statistics.median(values) for values in zip(*results, strict=True)]
    print(f"\nbest    floor {best[0]:.2f}s  import {best[1]:.2f}s  ratio {best[2]:.1f}×  again {best[3]:.2f}s"
          f" (database {best[4]:.2f}s)")
    print(f"median  floor {median[0]:.2f}s  import {median[1]:.2f}s  ratio {median[2]:.1f}×  again {median[3]:.2f}s"
          f" (database {median[4]:.2f}s)")
    sample = make_file(5_000, seed=1, area_codes=area_codes).decode().splitlines()[1:]
    print(f"phonenumbers parse + validation alone: {phonenumbers_cost(sample) * 1e6:.0f} µs a number"
          f" ({phonenumbers_cost(sample) * args.rows:.2f}s for {args.rows:,})")
    peer_median = {mode: statistics.median(seconds) for mode, seconds in peer.items() if seconds}
    for mode, seconds in peer_median.items():
        print(f"django-import-export {mode} mode (median of {len(peer[mode])}) {seconds:.2f}s: ours is"
              f" {median[1] / seconds:.3f}× its time")
    peak_mb = worker_peak_rss_mb(make_file(args.rows, seed=time.time_ns(), area_codes=area_codes))
    print(f"import worker peak RSS (VmHWM of a fresh `celery worker --pool solo` after one {args.rows:,}-row import):"
          f" {peak_mb:.0f} MB, target < 150 MB: {'met' if peak_mb < 150 else 'NOT met'}")
    print(f"ours (median) {median[1]:.2f}s  floor {median[0]:.2f}s  ratio {median[2]:.2f}×  target ≤ {TARGET_RATIO}×:"
          f" {'met' if median[2] <= TARGET_RATIO else 'NOT met'}")
    print(f"targets: import ≤ 1.5 s and ≤ {TARGET_RATIO}× the floor; again ≤ 0.5 s of database time")
    if args.json:
        from bench.results import Result, write_json

        floor_ms, import_ms, ratio, again_ms, again_db_ms = median[0] * 1000, median[1] * 1000, median[2], \
            median[3] * 1000, median[4] * 1000
        write_json(args.json, [
            Result(f"upload of {args.rows:,} rows, task start → succeeded", import_ms, floor_ms,
                   "csv + digit filter + COPY", f"≤ 1,500 ms and ≤ {TARGET_RATIO}× raw",
                   import_ms <= 1_500 and ratio <= TARGET_RATIO),
            *(Result(f"  the same upload ÷ django-import-export, {mode}", import_ms, seconds * 1000,
                     f"django-import-export {peer_import.VERSION} {mode} mode, same files, scratch table", "", None)
              for mode, seconds in peer_median.items()),
            Result(f"  import worker peak RSS: {peak_mb:.0f} MB", 0, None,
                   "VmHWM of a fresh Celery worker after it", "< 150 MB", peak_mb < 150),
            Result("re-upload of the same file, end to end", again_ms, None, "", "", None),
            Result("re-upload of the same file, database time", again_db_ms, None, "", "≤ 500 ms",
                   again_db_ms <= 500),
        ], benchmark="import", rows=args.rows, existing=args.existing, runs=args.runs,
            peer_seconds=peer, worker_peak_rss_mb=peak_mb)


if __name__ == "__main__":
    main()
