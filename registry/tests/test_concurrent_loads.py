"""Loads and readers at the same time, on PostgreSQL (SQLite's one write lock serializes every
writer there): two loads of one area code never interleave, and a reader during a full reload
sees the old area code or the new one, never a half."""

import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.models import QuerySet

from registry import loads
from registry.models import RegistryExchange
from tasks_logs.models import TaskLog

from .files import changes, flat, numbers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time"),
]


def registry() -> set[int]:
    return set(RegistryExchange.objects.numbers())


def job(content: bytes, **options) -> TaskLog:
    return loads.load(loads.save_file("201.txt", content, **options))


class InThread(threading.Thread):
    """Run `work` in a thread of its own, on a database connection of its own."""

    def __init__(self, work, start_together: threading.Barrier | None = None):
        super().__init__(daemon=True)
        self.work, self.barrier, self.result, self.error = work, start_together, None, None
        self.start()

    def run(self):
        try:
            if self.barrier:
                self.barrier.wait(10)
            self.result = self.work()
        except Exception as error:
            self.error = error
        finally:
            connections.close_all()

    def outcome(self, timeout: float = 60):
        self.join(timeout)
        assert not self.is_alive(), "the load did not finish"
        if self.error:
            raise self.error
        return self.result


def test_a_second_load_of_an_area_code_waits_for_the_one_holding_it():
    job(flat(numbers(201, 1000)))
    holder = connections.create_connection(DEFAULT_DB_ALIAS)  # a load under way holds its area code's row
    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        cursor.execute("SELECT code FROM registry_areacode WHERE code = 201 FOR UPDATE")
    try:
        second = InThread(lambda: job(flat(numbers(201, 500, start=2000))))
        time.sleep(1.5)

        assert second.is_alive()
        waiting = TaskLog.objects.order_by("pk").last()
        assert (waiting.state, waiting.phase) == (TaskLog.State.RUNNING, TaskLog.Phase.MERGING)
        assert registry() == set(numbers(201, 1000))
    finally:
        holder.rollback()
        holder.close()

    task_log = second.outcome()
    assert (task_log.state, task_log.new, task_log.deleted) == (TaskLog.State.SUCCEEDED, 500, 1000)
    assert registry() == set(numbers(201, 500, start=2000))


def test_two_full_loads_of_one_area_code_at_once_run_one_after_the_other():
    barrier = threading.Barrier(2)
    first, second = numbers(201, 2000), numbers(201, 2000, start=1000)

    runs = [InThread(lambda content=content: job(flat(content)), barrier) for content in (first, second)]

    done = sorted((run.outcome() for run in runs), key=lambda task_log: task_log.finished_at)
    assert [task_log.state for task_log in done] == [TaskLog.State.SUCCEEDED] * 2
    assert [(t.new, t.deleted, t.unchanged) for t in done] == [(2000, 0, 0), (1000, 1000, 1000)]
    assert registry() in (set(first), set(second))
    assert len(registry()) == 2000


def test_a_change_list_and_a_full_reload_at_once_apply_whole_in_some_order():
    job(flat(numbers(201, 1000)))
    reload = numbers(201, 1000, start=500)
    change = [(n, "A") for n in numbers(201, 100, start=3000)] + [(n, "D") for n in numbers(201, 100, start=600)]
    barrier = threading.Barrier(2)

    runs = [InThread(lambda: job(flat(reload), changes=False), barrier),
            InThread(lambda: job(changes(change), changes=True), barrier)]

    assert [run.outcome().state for run in runs] == [TaskLog.State.SUCCEEDED] * 2
    changes_last = (set(reload) | set(numbers(201, 100, start=3000))) - set(numbers(201, 100, start=600))
    assert registry() in (changes_last, set(reload))


def test_a_reader_during_full_reloads_sees_the_old_area_code_or_the_new_never_a_half():
    sizes = (3000, 5000)
    job(flat(numbers(201, sizes[0])))
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute("SELECT coalesce(sum(bit_count(bits)), 0) FROM registry_exchange"
                               " WHERE exchange >= 201000 AND exchange < 202000")
                seen.append(cursor.fetchone()[0])

    reader = InThread(read)
    try:
        for reload in range(1, 7):
            assert job(flat(numbers(201, sizes[reload % 2], start=reload * 100))).state == TaskLog.State.SUCCEEDED
    finally:
        stop.set()
        reader.outcome()

    assert len(seen) > 10
    assert set(seen) <= set(sizes), f"a reader saw {sorted(set(seen) - set(sizes))} numbers"
    assert set(seen) == set(sizes)


def test_a_loads_progress_is_seen_by_others_as_it_reads(monkeypatch):
    from registry import formats

    monkeypatch.setattr(formats, "BLOCK", 40 * formats.PLAIN)  # 40 lines a block, 3 blocks a chunk
    monkeypatch.setattr(loads, "CHUNK", 100)
    task_log = loads.save_file("201.txt", flat(numbers(201, 1000)))
    page = connections.create_connection(DEFAULT_DB_ALIAS)  # what the job's page reads meanwhile
    seen: list[tuple[int, int, str]] = []

    def look(lines: int) -> None:
        with page.cursor() as cursor:
            cursor.execute("SELECT processed, phase FROM tasks_logs_tasklog WHERE id = %s", [task_log.pk])
            seen.append((lines, *cursor.fetchone()))

    try:
        assert loads.load(task_log, on_progress=look).state == TaskLog.State.SUCCEEDED
    finally:
        page.close()

    assert seen[:2] == [(120, 120, "checking"), (240, 240, "checking")]
    assert seen[-1] == (1000, 1000, "merging")
    assert registry() == set(numbers(201, 1000))


def test_a_progress_write_that_fails_stops_the_reports_never_the_load(monkeypatch, caplog):
    update = QuerySet.update

    def progress_unwritable(queryset, **values):  # a report of the lines read (not the claim, not the end)
        if queryset.model is TaskLog and "processed" in values and "state" not in values:
            raise OperationalError("the server closed the connection unexpectedly")
        return update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", progress_unwritable)
    task_log = loads.save_file("201.txt", flat(numbers(201, 300)))

    assert loads.load(task_log).state == TaskLog.State.SUCCEEDED

    assert registry() == set(numbers(201, 300))
    assert [record.message for record in caplog.records if "its progress could not be written" in record.message] == [
        f"TaskLog {task_log.pk}: its progress could not be written (the server closed the connection"
        " unexpectedly); the load goes on"]
