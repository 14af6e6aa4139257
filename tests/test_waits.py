"""The waits of tests/helpers.py fail the test at their deadline, saying what they waited for, and
as soon as the process waited on has exited: a wait that gives up silently would let the test go
on to assert against a job still queued, and a dead worker would cost the whole timeout."""

import subprocess
import sys
import time

import pytest

from tasks_logs.models import TaskLog
from tests.helpers import wait_for_line, wait_until, wait_until_finished


@pytest.mark.django_db
def test_waiting_for_a_job_that_never_finishes_fails_at_the_deadline_naming_the_job():
    queued = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="never.csv", total=1)

    with pytest.raises(pytest.fail.Exception, match=rf"Timed out after 0.3 s waiting for TaskLog {queued.pk} "):
        wait_until_finished(queued, timeout=0.3)


@pytest.mark.django_db
def test_waiting_for_a_finished_job_returns_it_as_it_is_now():
    done = TaskLog.objects.create(kind=TaskLog.Kind.IMPORT, file_name="done.csv", total=1)
    TaskLog.objects.filter(pk=done.pk).update(state=TaskLog.State.SUCCEEDED, processed=1, new=1)

    assert (wait_until_finished(done, timeout=5).state, done.new) == (TaskLog.State.SUCCEEDED, 1)


def test_a_wait_returns_what_the_condition_returned():
    answers = iter([None, 0, "ready"])

    assert wait_until(lambda: next(answers), timeout=5) == "ready"


def test_a_process_that_exits_fails_the_wait_at_once_with_its_output(tmp_path):
    log_path = tmp_path / "early.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", "print('no broker here')"], stdout=log,
                                   stderr=subprocess.STDOUT)
    process.log_path = log_path
    started = time.monotonic()

    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited \(0\) before 'ready.' in early.log.*no broker here"):
        wait_for_line(process, "ready.", timeout=60)
    assert time.monotonic() - started < 30  # not the whole timeout
