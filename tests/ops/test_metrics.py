"""/metrics: who may read it, and what it says (procuration/metrics.py)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from procuration.metrics import state_collector
from procuration.models import OutboxEmail
from tests.factories import ProcurationFactory


@pytest.fixture(autouse=True)
def _fresh_status_counts():
    state_collector.forget()
    yield
    state_collector.forget()


def sample(body: str, name: str, **labels) -> float:
    """The value of the one sample `name{labels}` of the exposition text (parsed by prometheus_client)."""
    found = [s.value for family in text_string_to_metric_families(body) for s in family.samples
             if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, [line for line in body.splitlines() if line.startswith(name)])
    return found[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meta",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "10.1.2.3"},
        # A proxy on the same host connects from loopback for anyone: relayed requests are refused.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"},
    ],
)
def test_metrics_are_hidden_from_other_addresses(client, meta):
    assert client.get("/metrics", **meta).status_code == 404
    assert client.post("/metrics", **meta).status_code == 404  # not even 405


@pytest.mark.django_db
def test_metrics_answer_loopback_and_configured_networks(client, settings):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.post("/metrics").status_code == 405
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_requests_per_view_and_status_and_latency(client):
    before = client.get("/metrics").content.decode()

    def count(body, status):
        try:
            return sample(body, "procuration_http_requests_total", view="accessibilite", method="GET", status=status)
        except AssertionError:
            return 0.0

    for _ in range(3):
        assert client.get(reverse("accessibilite")).status_code == 200
    assert client.post(reverse("accessibilite")).status_code in (200, 405)
    body = client.get("/metrics").content.decode()
    assert count(body, "200") - count(before, "200") == 3
    assert sample(body, "procuration_http_request_duration_seconds_bucket", view="accessibilite", le="+Inf") >= 4
    assert sample(body, "procuration_http_request_duration_seconds_count", view="accessibilite") >= 4


@pytest.mark.django_db
def test_outbox_backlog_oldest_age_and_procurations_per_status(client, commune, django_assert_num_queries):
    ProcurationFactory.create_batch(2, en_attente=True)
    ProcurationFactory(validee_autorite=True)
    old = OutboxEmail.objects.create(kind="reference", to="a@example.fr", subject="s", body_text="b")
    OutboxEmail.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(seconds=300))
    OutboxEmail.objects.create(kind="reference", to="b@example.fr", subject="s", body_text="b")
    OutboxEmail.objects.create(kind="reference", to="c@example.fr", subject="s", body_text="b", state="failed")
    OutboxEmail.objects.create(kind="reference", to="d@example.fr", subject="s", body_text="b", state="sent")

    with django_assert_num_queries(3):  # backlog, failed, statuses
        body = client.get("/metrics").content.decode()
    assert sample(body, "procuration_outbox_messages", state="pending") == 2
    assert sample(body, "procuration_outbox_messages", state="failed") == 1
    assert 300 <= sample(body, "procuration_outbox_oldest_pending_age_seconds") < 400
    assert sample(body, "procuration_procurations", status="en_attente") == 2
    assert sample(body, "procuration_procurations", status="validee_autorite") == 1
    assert sample(body, "procuration_procurations", status="validee_mairie") == 0
    with django_assert_num_queries(2):  # the statuses are kept METRICS_STATUS_CACHE_SECONDS
        client.get("/metrics")


@pytest.mark.django_db
def test_celery_queue_length_is_read_from_the_broker(client, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("run through scripts/test.sh")
    import redis

    from procuration.celery import app

    settings.METRICS_CELERY_QUEUES = ["celery", "ops-metrics-test"]  # a queue no test worker consumes
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("ops-metrics-test")
    try:
        for _ in range(2):
            app.send_task("procuration.tasks.requeue_stuck_emails", queue="ops-metrics-test")
        body = client.get("/metrics").content.decode()
        assert sample(body, "procuration_celery_queue_length", queue="ops-metrics-test") == 2
    finally:
        broker.delete("ops-metrics-test")
    body = client.get("/metrics").content.decode()
    assert sample(body, "procuration_celery_queue_length", queue="ops-metrics-test") == 0
