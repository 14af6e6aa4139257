"""The login throttle under a burst: 40 logins to one account at once, against a real server
(Django's live server: one thread per request, each with its own database connection), check at
most the limit of passwords, and the right password sent in the burst does not log in."""

import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

from accounts.models import LoginFailures

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long password"
BURST = 40
RIGHT_ONE = 15  # the 16th login of the burst carries the right password


class CountingHasher(MD5PasswordHasher):
    """The tests' MD5 hasher, counting the passwords it checks. Each check takes a moment, as a
    real hasher's does, which is what left main's check-then-count open to a burst."""

    checked = 0
    limit_reached = threading.Event()
    _lock = threading.Lock()

    def verify(self, password, encoded):
        with CountingHasher._lock:
            CountingHasher.checked += 1
            if CountingHasher.checked >= settings.LOGIN_FAILURES_PER_ACCOUNT:
                CountingHasher.limit_reached.set()
        time.sleep(0.2)
        return super().verify(password, encoded)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 after the login POST is the answer we look at


def login_form(base_url):
    """A browser-like client that has loaded the login page: (opener, CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirects())
    page = opener.open(f"{base_url}/accounts/login/", timeout=30).read().decode()
    return opener, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def post_login(base_url, opener, token, password) -> tuple[int, str]:
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "ana", "password": password}).encode()
    request = urllib.request.Request(f"{base_url}/accounts/login/", data=data, headers={"Referer": base_url})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:  # the 302 of a successful login
        return answer.code, ""


class _WideListenQueue(ThreadedWSGIServer):
    request_queue_size = BURST  # Django's 10 would have the kernel reset part of the burst


class _BurstServerThread(LiveServerThread):
    server_class = _WideListenQueue


@pytest.fixture
def server_url(transactional_db):
    """pytest-django's live_server, with a listen queue that takes the whole burst at once."""
    thread = _BurstServerThread("127.0.0.1", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["accounts.tests.test_login_throttle_parallel.CountingHasher"]
    CountingHasher.checked = 0
    CountingHasher.limit_reached.clear()
    return CountingHasher


def test_forty_parallel_logins_check_at_most_the_limit_and_the_right_password_in_the_burst_is_refused(
        server_url, django_user_model, counting_hasher):
    user = django_user_model.objects.create_user("ana", password=PASSWORD)
    forms = [login_form(server_url) for _ in range(BURST)]
    start = threading.Barrier(BURST)
    answers = [None] * BURST

    def send(n):
        opener, token = forms[n]
        start.wait()
        if n == RIGHT_ONE:  # sent once the burst's first wrong passwords are being checked
            assert counting_hasher.limit_reached.wait(timeout=60)
        answers[n] = post_login(server_url, opener, token, PASSWORD if n == RIGHT_ONE else "wrong")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(answer is not None for answer in answers)
    assert counting_hasher.checked <= settings.LOGIN_FAILURES_PER_ACCOUNT
    status, page = answers[RIGHT_ONE]
    assert status == 200 and "Too many failed logins" in page  # what the user sees
    assert sum("Too many failed logins" in page for _, page in answers) >= BURST - settings.LOGIN_FAILURES_PER_ACCOUNT
    assert LoginFailures.objects.get(key="account:ana").count == settings.LOGIN_FAILURES_PER_ACCOUNT
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
