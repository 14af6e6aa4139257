"""/healthz, for load balancers: open to anyone, says nothing about the data, 503 when a part is down."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthy_app_answers_200_without_login(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "registry": {"status": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_unreachable_redis_answers_503_naming_the_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json() == {"status": "failed", "database": "ok", "broker": "failed: ConnectionError",
                               "registry": {"status": "unknown"}}


def test_unwritable_embedded_broker_answers_503(client, settings, tmp_path):
    settings.REDIS_URL = None
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "missing")}

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"] == "failed: OSError"


def test_healthz_refuses_post(client):
    assert client.post(reverse("healthz")).status_code == 405
