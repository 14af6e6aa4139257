"""Dialers, people and uploads adding overlapping numbers at the same time, and bulk actions over
them, against a real server (live_server, over HTTP) and a real Celery worker process: nobody
gets a 500, every number is stored once with one `added` event, and every request's counts close.

On PostgreSQL each of these writers locks many rows; two adds of the same numbers in opposite
orders used to deadlock, and one of them answered a 500 and added nothing. Now every writer locks
in phone order (no deadlock at all: the race tests check that not even the retry was needed), and
a transaction that still loses a race runs again, then answers 503 (API) or says to try again
(pages): the deadlock tests below lose one on purpose. SQLite serializes writers (IMMEDIATE
transactions), so there the race tests check that writers waiting their turn never see a 500."""
# ruff: noqa: B023 — each round's threads are joined before the next round rebinds what they read

import http.cookiejar
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.urls import reverse

from api import services as api_services
from api.tests.helpers import ApiClient
from audit.models import Event
from blacklist import services
from blacklist.models import BlacklistedNumber, Status
from tasks_logs.models import TaskLog
from tests.helpers import wait_until_finished

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer at a time, so no deadlocks to lose"
)

ROUNDS = 2
STEPS = 10  # per round: every client sends a fresh window of 500 numbers at once, ten times over
STEP = 1_000  # numbers per step; the windows overlap and come in opposite orders
WINDOW = 500
ADDED = re.compile(r"Added ([\d,]+) new number\(s\); raised the status of ([\d,]+); ([\d,]+) already listed")


def pool(round_: int) -> list[str]:
    """A round's numbers: both of its uploads carry them all, the clients send them step by step."""
    return [f"+1212{201 + round_}{i:04d}" for i in range(STEPS * STEP)]


def integer(text: str) -> int:
    return int(text.replace(",", ""))


class Browser:
    """One person's HTTP session (cookies, CSRF token) on the live server, through urllib."""

    def __init__(self, base_url: str, username: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": username, "password": "pass-pass-123",
                                       "csrfmiddlewaretoken": self.token(page)})

    def get(self, path: str) -> str:
        with self.opener.open(self.base_url + path, timeout=120) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict, files: dict | None = None) -> tuple[int, str]:
        """(status, body) after following the redirect; a 500 raises HTTPError, kept by the caller."""
        if files:
            boundary = uuid.uuid4().hex
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                     for name, value in fields.items()]
            parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                      f"Content-Type: text/csv\r\n\r\n{content}\r\n" for name, (filename, content) in files.items()]
            body, content_type = ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"
        else:
            body, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base_url + path, body, {"Content-Type": content_type})
        with self.opener.open(request, timeout=120) as response:
            return response.status, response.read().decode()

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def api_add(base_url: str, key: str, numbers: list[str]) -> tuple[int, str, dict | str]:
    """(status, content type, JSON or text) of POST /api/v1/blacklist/numbers."""
    request = urllib.request.Request(base_url + "/api/v1/blacklist/numbers", json.dumps(numbers).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], " ".join(error.read().decode().split())[:200]


@pytest.mark.worker
def test_api_hand_entry_and_uploads_adding_overlapping_numbers_at_once_store_each_once(
    live_server, celery_worker_process, make_user, admin_user, caplog
):
    make_user("Manager", "mona")
    make_user("Reviewer", "rita")
    _, review_key = api_services.create_key("dialer A", user=admin_user, can_check=True, can_add=True,
                                            can_approve=False, expires_at=None)
    _, approve_key = api_services.create_key("dialer B", user=admin_user, can_check=True, can_add=True,
                                             can_approve=True, expires_at=None)
    mona, rita = Browser(live_server.url, "mona"), Browser(live_server.url, "rita")  # typing numbers
    uploaders = [(Browser(live_server.url, "rita"), Status.REVIEW), (Browser(live_server.url, "mona"), Status.APPROVED)]
    failures, requested = [], {}  # any answer but a good one; phone → highest status asked for
    sums = {"new": 0, "raised": 0}
    lock = threading.Lock()

    def record(phones, status, new, raised, unchanged):
        with lock:
            sums["new"] += new
            sums["raised"] += raised
            for phone in phones:
                requested[phone] = max(requested.get(phone, Status.REVIEW), status)
        if new + raised + unchanged != len(set(phones)):
            failures.append(f"counts do not close: {new} + {raised} + {unchanged} != {len(set(phones))}")

    for round_ in range(ROUNDS):
        numbers = pool(round_)
        rng = random.Random(round_)
        ascending, descending, shuffled = sorted, lambda w: sorted(w, reverse=True), lambda w: rng.sample(w, len(w))

        def windows(start, order):
            return [order(numbers[step * STEP + start:step * STEP + start + WINDOW]) for step in range(STEPS)]

        step = threading.Barrier(7, timeout=60)  # the clients start each step together
        underway = threading.Event()  # set once the clients have added numbers: the uploads start then

        def by_api(key, status, steps):
            for phones in steps:
                step.wait()
                code, content_type, answer = api_add(live_server.url, key, phones)
                if code != 200:
                    failures.append(f"API {code} {content_type}: {answer}")
                    continue
                record(phones, status, answer["new"], answer["raised"], answer["unchanged"])
                underway.set()

        def by_hand(browser, status, steps):
            token = browser.token(browser.get("/blacklist/add/"))
            for phones in steps:
                fields = {"csrfmiddlewaretoken": token, "numbers": "\n".join(phones)}
                if status == Status.APPROVED:
                    fields["approve"] = "on"
                step.wait()
                try:
                    _, page = browser.post("/blacklist/add/", fields)
                except urllib.error.HTTPError as error:
                    failures.append(f"hand entry {error.code}: {' '.join(error.read().decode().split())[:200]}")
                    continue
                if not (added := ADDED.search(page)):
                    failures.append(f"hand entry without its message: {' '.join(page.split())[:200]}")
                    continue
                record(phones, status, *map(integer, added.groups()))

        threads = [
            threading.Thread(target=by_api, args=(review_key, Status.REVIEW, windows(0, ascending))),
            threading.Thread(target=by_api, args=(approve_key, Status.APPROVED, windows(0, descending))),
            threading.Thread(target=by_api, args=(review_key, Status.REVIEW, windows(250, shuffled))),
            threading.Thread(target=by_api, args=(approve_key, Status.APPROVED, windows(500, descending))),
            threading.Thread(target=by_api, args=(approve_key, Status.APPROVED, windows(250, ascending))),
            threading.Thread(target=by_hand, args=(mona, Status.APPROVED, windows(500, shuffled))),
            threading.Thread(target=by_hand, args=(rita, Status.REVIEW, windows(0, shuffled))),
        ]
        for thread in threads:
            thread.start()
        underway.wait(timeout=60)
        # Posted while the clients add, so each import's merge meets them: the worker inserts and
        # raises the round's numbers as the clients insert and raise the same ones.
        uploads = []
        for (browser, status), rows in zip(uploaders, (numbers, numbers[::-1]), strict=True):
            fields = {"csrfmiddlewaretoken": browser.token(browser.get("/blacklist/add/"))}
            if status == Status.APPROVED:
                fields["approve"] = "on"
            browser.post("/blacklist/add/upload/", fields, {"file": ("leads.csv", "phone\n" + "\n".join(rows) + "\n")})
            uploads.append((TaskLog.objects.filter(kind=TaskLog.Kind.IMPORT).latest("pk").pk, status))
        for task_log_id, status in uploads:
            task_log = wait_until_finished(TaskLog.objects.get(pk=task_log_id), 120)
            assert (task_log.state, task_log.attempts) == (TaskLog.State.SUCCEEDED, 1), task_log.message  # no task retry
            assert task_log.new + task_log.raised + task_log.unchanged == len(numbers) == task_log.total
            record(numbers, status, task_log.new, task_log.raised, task_log.unchanged)
        for thread in threads:
            thread.join()

    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures)
    # Locks taken in one order: not one deadlock, not even one the retry made up for.
    assert "lost a race" not in caplog.text + celery_worker_process.log_path.read_text()
    listed = dict(BlacklistedNumber.objects.values_list("phone", "status"))
    assert len(listed) == BlacklistedNumber.objects.count() == len(requested) == ROUNDS * STEPS * STEP
    assert listed == requested  # each at the highest status anyone asked for, never lowered
    assert sums["new"] == len(listed)
    added = Event.objects.filter(action=Event.Action.ADDED)
    assert added.count() == len(listed) == added.values("phone").distinct().count()
    assert Event.objects.filter(action=Event.Action.RAISED).count() == sums["raised"]


BULK_DONE = re.compile(r"(Approved|Unapproved|Removed) ([\d,]+) numbers?")


def test_bulk_actions_racing_api_adds_over_the_same_numbers_keep_the_table_and_its_events_in_step(
    live_server, make_user, admin_user, caplog
):
    """Approve, unapprove and remove "all matching" while dialers add and raise the same numbers:
    each statement locks its rows in phone order, so none of them waits on another in a circle."""
    steps = [[f"+1213{301 + step}{i:04d}" for i in range(1_500)] for step in range(6)]
    BlacklistedNumber.objects.bulk_create(  # listed in reverse, so a scan in table order goes against the adds
        BlacklistedNumber(phone=phone, status=Status.REVIEW) for numbers in reversed(steps) for phone in numbers[999::-1]
    )
    for username in ("rita", "rob", "ruth"):
        make_user("Reviewer", username)
    keys = [api_services.create_key(name, user=admin_user, can_check=True, can_add=True, can_approve=approve,
                                    expires_at=None)[1] for name, approve in (("A", True), ("B", True), ("C", False))]
    acting = [(Browser(live_server.url, "rita"), "review", "approve"),
              (Browser(live_server.url, "rob"), "approved", "unapprove"),
              (Browser(live_server.url, "ruth"), "review", "remove")]
    failures, done = [], {"api new": 0, "api raised": 0, "Approved": 0, "Unapproved": 0, "Removed": 0}
    lock = threading.Lock()
    start = threading.Barrier(6, timeout=60)  # every step: three bulk actions and three dialers at once

    def bulk(browser, tab, action):
        token = browser.token(browser.get(f"/blacklist/{tab}/"))
        for numbers in steps:
            query = urllib.parse.urlencode({"phone": numbers[0][:8]})
            start.wait()
            try:
                _, page = browser.post(f"/blacklist/{tab}/bulk/", {"csrfmiddlewaretoken": token, "action": action,
                                                                   "scope": "all", "query": query, "confirmed": "on"})
            except urllib.error.HTTPError as error:
                failures.append(f"bulk {action} {error.code}: {' '.join(error.read().decode().split())[:200]}")
                continue
            if not (result := BULK_DONE.search(page)):
                failures.append(f"bulk {action} without its message: {' '.join(page.split())[:300]}")
                continue
            with lock:
                done[result.group(1)] += integer(result.group(2))

    def add(key, order):
        for numbers in steps:
            phones = order(numbers)
            start.wait()
            code, content_type, answer = api_add(live_server.url, key, phones)
            if code != 200:
                failures.append(f"API {code} {content_type}: {answer}")
                continue
            if answer["new"] + answer["raised"] + answer["unchanged"] != len(phones):
                failures.append(f"API counts do not close: {answer}")
            with lock:
                done["api new"] += answer["new"]
                done["api raised"] += answer["raised"]

    rng = random.Random(1)
    threads = [threading.Thread(target=bulk, args=acting_one) for acting_one in acting] + [
        threading.Thread(target=add, args=(keys[0], sorted)),
        threading.Thread(target=add, args=(keys[1], lambda numbers: rng.sample(numbers[250:1_250], 1_000))),
        threading.Thread(target=add, args=(keys[2], lambda numbers: sorted(numbers[:1_200], reverse=True))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures)
    assert "lost a race" not in caplog.text  # locks in one order: no deadlock even needed the retry
    events = Event.objects.all()
    assert done == {
        "api new": events.filter(action=Event.Action.ADDED, via=Event.Via.API).count(),
        "api raised": events.filter(action=Event.Action.RAISED, via=Event.Via.API).count(),
        "Approved": events.filter(action=Event.Action.APPROVED, via=Event.Via.BULK).count(),
        "Unapproved": events.filter(action=Event.Action.UNAPPROVED, via=Event.Via.BULK).count(),
        "Removed": events.filter(action=Event.Action.REMOVED, via=Event.Via.BULK).count(),
    }
    # Each number's last event says what the table holds: its status, or that it was removed.
    last = dict(events.order_by("pk").values_list("phone", "to_status"))
    listed = dict(BlacklistedNumber.objects.values_list("phone", "status"))
    assert {phone: status for phone, status in last.items() if status is not None} == {
        phone: status for phone, status in listed.items() if phone in last}


# A deadlock made on purpose: another transaction holds one number and asks for a second one the
# request has locked. The other transaction's deadlock_timeout is 10 s, the request's 1 s, so
# PostgreSQL's detector finds the cycle in the request and cancels it: the request always loses.

A, B, C = "+12125550101", "+12125550102", "+12125550103"  # A and B listed for review, C new


@contextmanager
def deadlocking():
    """While the block sends one request that locks A then B, another transaction holds B and,
    once the request waits for it, asks for A; it commits as soon as it has both."""
    holding = threading.Event()

    def other():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:  # so the request's detector (1 s) always fires first,
                    cursor.execute("SET LOCAL deadlock_timeout = '10s'")  # even on a loaded machine
                BlacklistedNumber.objects.select_for_update().get(phone=B)
                holding.set()
                while not waited_for():
                    time.sleep(0.01)
                BlacklistedNumber.objects.select_for_update().get(phone=A)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    assert holding.wait(10)
    yield
    thread.join(30)


def waited_for() -> bool:
    """Whether another connection waits for a lock this one holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        return cursor.fetchone()[0] > 0


@pytest.fixture
def listed(transactional_db):
    BlacklistedNumber.objects.bulk_create(BlacklistedNumber(phone=phone, status=Status.REVIEW) for phone in (A, B))


@pytest.fixture
def approver_key(transactional_db, admin_user):
    return api_services.create_key("dialer", user=admin_user, can_check=True, can_add=True, can_approve=True,
                                   expires_at=None)[1]


def statuses():
    return dict(BlacklistedNumber.objects.values_list("phone", "status"))


@postgresql_only
def test_an_add_that_loses_a_deadlock_is_run_again_and_adds_everything_once(client, listed, approver_key, caplog):
    with deadlocking():
        response = ApiClient(client).post("/api/v1/blacklist/numbers", [B, C, A], approver_key)

    assert response.status_code == 200
    assert response.json()["new"] == 1 and response.json()["raised"] == 2
    assert "add_numbers lost a race for the same rows (try 1 of 5)" in caplog.text  # there was a deadlock
    assert statuses() == {A: Status.APPROVED, B: Status.APPROVED, C: Status.APPROVED}
    assert sorted(Event.objects.values_list("phone", "action")) == [(A, "raised"), (B, "raised"), (C, "added")]


@postgresql_only
def test_an_add_that_keeps_losing_races_answers_a_json_503_with_retry_after_and_adds_nothing(
    client, listed, approver_key, monkeypatch
):
    monkeypatch.setattr(services, "RACE_TRIES", 1)
    with deadlocking():
        response = ApiClient(client).post("/api/v1/blacklist/numbers", [B, C, A], approver_key)  # checked: documented

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {"error": "Other changes to the same numbers kept this request from going through."
                                        " Nothing was added: send it again."}
    assert statuses() == {A: Status.REVIEW, B: Status.REVIEW}
    assert not Event.objects.exists()


@postgresql_only
def test_hand_entry_that_keeps_losing_races_says_to_try_again_and_adds_nothing(client, listed, make_user,
                                                                              monkeypatch):
    monkeypatch.setattr(services, "RACE_TRIES", 1)
    client.force_login(make_user("Manager"))
    with deadlocking():
        response = client.post(reverse("blacklist:add"), {"numbers": f"{B}\n{C}\n{A}", "approve": "on"}, follow=True)

    assert response.redirect_chain == [(reverse("blacklist:add"), 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "Others were changing the same numbers at that moment, so nothing was changed. Please try again."]
    assert statuses() == {A: Status.REVIEW, B: Status.REVIEW}


@postgresql_only
def test_a_bulk_action_that_keeps_losing_races_says_to_try_again_and_changes_nothing(client, listed, make_user,
                                                                                    monkeypatch):
    monkeypatch.setattr(services, "RACE_TRIES", 1)
    client.force_login(make_user("Reviewer"))
    ids = list(BlacklistedNumber.objects.values_list("pk", flat=True))
    with deadlocking():
        response = client.post(reverse("blacklist:bulk_action", args=["review"]),
                               {"action": "approve", "scope": "selected", "ids": ids, "query": "sort=phone"},
                               follow=True)

    assert response.redirect_chain == [(reverse("blacklist:review") + "?sort=phone", 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "Others were changing the same numbers at that moment, so nothing was changed. Please try again."]
    assert statuses() == {A: Status.REVIEW, B: Status.REVIEW}
    assert not Event.objects.exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock; PostgreSQL locks rows (above)")
def test_while_another_write_holds_sqlites_lock_past_the_timeout_an_add_answers_503_and_a_check_answers(
    client, listed, approver_key, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)  # instead of 20 s
    connection.close()  # the request's connection opens with that timeout
    holding, done = threading.Event(), threading.Event()

    def other_writer():
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: the one write lock, until the request gave up
                BlacklistedNumber.objects.filter(phone=A).update(status=Status.APPROVED)
                holding.set()
                done.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(10)
    try:
        added = ApiClient(client).post("/api/v1/blacklist/numbers", [C], approver_key)
        checked = ApiClient(client).get("/api/v1/blacklist/check", approver_key, phone=B)  # records no use: locked
    finally:
        done.set()
        thread.join(30)

    assert added.status_code == 503
    assert added["Retry-After"] == "1"
    assert (checked.status_code, checked.json()["status"]) == (200, "review")
    assert not BlacklistedNumber.objects.filter(phone=C).exists()


@postgresql_only
def test_an_admin_action_that_keeps_losing_races_says_to_try_again_and_changes_nothing(admin_client, listed,
                                                                                      monkeypatch):
    monkeypatch.setattr(services, "RACE_TRIES", 1)
    changelist = reverse("admin:blacklist_blacklistednumber_changelist")
    ids = list(BlacklistedNumber.objects.values_list("pk", flat=True))
    with deadlocking():
        response = admin_client.post(changelist, {"action": "approve", "_selected_action": ids}, follow=True)

    assert response.redirect_chain == [(changelist, 302)]
    assert [str(message) for message in response.context["messages"]] == [services.Busy.said]
    assert statuses() == {A: Status.REVIEW, B: Status.REVIEW}
    assert not Event.objects.exists()


def test_the_admin_delete_page_says_to_try_again_when_others_kept_changing_the_number(admin_client, make_numbers,
                                                                                     monkeypatch):
    def busy(*args, **kwargs):
        raise services.Busy("Lost 3 races for the same rows in a row")

    monkeypatch.setattr(services, "remove", busy)
    (number,) = make_numbers(Status.REVIEW, reason="other")  # not kept for retention: the admin may delete it
    delete_page = reverse("admin:blacklist_blacklistednumber_delete", args=[number.pk])

    response = admin_client.post(delete_page, {"post": "yes"}, follow=True)

    assert response.redirect_chain == [(delete_page, 302)]
    assert [str(message) for message in response.context["messages"]] == [services.Busy.said]
    assert BlacklistedNumber.objects.filter(pk=number.pk).exists()
