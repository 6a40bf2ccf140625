"""Webhooks: Standard Webhooks signatures, a real receiving server on loopback, retries with backoff,
disabling after 24 h with the administrator alerted, replay, rotation, SSRF refusal."""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
import time_machine
from django.urls import reverse

from api import webhooks
from api.models import WebhookDelivery, WebhookEndpoint
from procuration.exceptions import DomainError
from procuration.models import IdentiteVerifiee, OutboxEmail


def verify(secret: str, headers, body: bytes) -> bool:
    """What a receiver does (docs/api.md)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s.split(",", 1)[1]) for s in headers["webhook-signature"].split())


def test_signature_is_the_standard_webhooks_one():
    # The example of the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks).
    assert webhooks.sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                         b'{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class Receiver:
    """A real HTTP server on loopback that records what it receives and answers `status`."""

    def __init__(self):
        self.received, self.status = [], 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, n, timeout=30):
        end = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.received


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def endpoint(receiver, commune, commune_admin, settings, data):
    """Registered after the data were made: only the changes of the test itself are sent."""
    settings.API_WEBHOOK_ALLOW_PRIVATE = True
    return WebhookEndpoint.objects.create(commune=commune, url=receiver.url, secret=webhooks.new_secret(),
                                          created_by=commune_admin)


@pytest.mark.django_db
def test_each_change_is_delivered_signed(endpoint, receiver, data):
    p = data["p"]["attente"]
    p.resilier(reason="test", identite=IdentiteVerifiee.france_identite(p.mandant))
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, change__object_id=p.pk)
    assert webhooks.deliver(delivery.pk) == "delivered"
    headers, body = receiver.received[-1]
    assert verify(endpoint.secret, headers, body) and headers["webhook-id"] == delivery.msg_id
    assert json.loads(body)["type"] == "procuration.resilier"
    assert json.loads(body)["data"] == {"kind": "procuration", "object_id": p.pk, "state": "resiliee",
                                        "at": json.loads(body)["data"]["at"]}
    assert not verify(webhooks.new_secret(), headers, body)
    assert webhooks.deliver(delivery.pk) == "skipped"  # never twice


@pytest.mark.django_db
def test_other_communes_changes_are_not_sent(endpoint, data):
    data["p"]["b"].resilier(reason="B", identite=IdentiteVerifiee.france_identite(data["p"]["b"].mandant))
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exclude(change__commune=endpoint.commune).exists()
    assert not WebhookDelivery.objects.filter(change__object_id=data["p"]["b"].pk, endpoint=endpoint).exists()


@pytest.mark.django_db
def test_rotation_signs_with_both_secrets(endpoint, receiver, data, client, commune_admin):
    old = endpoint.secret
    client.force_login(commune_admin)
    assert client.post(reverse("mairie_api:webhook_rotate", args=[endpoint.pk])).status_code == 200
    endpoint.refresh_from_db()
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))
    webhooks.deliver(WebhookDelivery.objects.get(endpoint=endpoint).pk)
    headers, body = receiver.received[-1]
    assert len(headers["webhook-signature"].split()) == 2
    assert verify(old, headers, body) and verify(endpoint.secret, headers, body)


@pytest.mark.django_db
def test_retries_with_backoff_then_disables_and_alerts_after_24h(endpoint, receiver, data, settings):
    receiver.status = 503
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))
    d = WebhookDelivery.objects.get(endpoint=endpoint)
    start = d.created_at
    gaps = []
    for _ in range(3):
        with time_machine.travel(WebhookDelivery.objects.get(pk=d.pk).next_attempt_at, tick=False):
            assert webhooks.deliver(d.pk) == "retry"
        d.refresh_from_db()
        gaps.append(d.next_attempt_at)
    assert [(b - a).total_seconds() > 0 for a, b in zip(gaps, gaps[1:])] == [True, True]
    assert (gaps[2] - gaps[1]) > (gaps[1] - gaps[0])  # exponential
    with time_machine.travel(start + datetime.timedelta(hours=24, seconds=1), tick=False):
        assert webhooks.deliver(d.pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at
    assert OutboxEmail.objects.filter(kind="api_webhook_disabled", to=endpoint.created_by.email).count() == 1
    assert d.attempt_log.count() == 4 and all(a.status_code == 503 for a in d.attempt_log.all())
    # New changes are no longer queued for a disabled endpoint.
    data["p"]["mairie"].resilier(reason="y", identite=IdentiteVerifiee.france_identite(data["p"]["mairie"].mandant))
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


@pytest.mark.django_db
def test_delivery_log_page_and_replay(endpoint, receiver, data, client, commune_admin, admin_b):
    receiver.status = 500
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))
    d = WebhookDelivery.objects.get(endpoint=endpoint)
    webhooks.deliver(d.pk)
    client.force_login(commune_admin)
    page = client.get(reverse("mairie_api:webhook_log", args=[endpoint.pk])).content.decode()
    assert d.msg_id in page and "HTTP 500" in page
    receiver.status = 200
    response = client.post(reverse("mairie_api:webhook_replay", args=[d.pk]))
    assert response.status_code == 302
    new = WebhookDelivery.objects.exclude(pk=d.pk).get(endpoint=endpoint)
    assert new.change_id == d.change_id and new.msg_id != d.msg_id
    assert webhooks.deliver(new.pk) == "delivered"
    client.force_login(admin_b)
    assert client.post(reverse("mairie_api:webhook_replay", args=[d.pk])).status_code == 404
    assert client.get(reverse("mairie_api:webhook_log", args=[endpoint.pk])).status_code == 404


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
                                 "https://169.254.169.254/latest", "https://[::1]/x", "https://localhost/x",
                                 "ftp://example.org/x"])
def test_internal_addresses_are_refused_in_production(settings, url):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(DomainError):
        webhooks.check_url(url)


@pytest.mark.django_db
def test_portal_registers_an_endpoint_and_refuses_internal_ones(client, commune_admin, settings):
    settings.API_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(commune_admin)
    response = client.post(reverse("mairie_api:webhooks"), {"url": "https://192.168.1.10/hook"})
    assert "réseau interne" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    settings.API_WEBHOOK_ALLOW_PRIVATE = True
    response = client.post(reverse("mairie_api:webhooks"), {"url": "http://127.0.0.1:8123/hook"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(reverse("mairie_api:webhooks")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_after_commit_without_blocking(celery_worker, endpoint, receiver, data):
    """The transition returns before anything is sent (the outbox row is queued on commit); the real
    Celery worker then delivers through Redis to the loopback server."""
    receiver.status = 200
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))
    received = receiver.wait_for(1)
    assert len(received) == 1 and verify(endpoint.secret, *received[0])
    deadline = time.monotonic() + 30
    while WebhookDelivery.objects.get(endpoint=endpoint).state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert WebhookDelivery.objects.get(endpoint=endpoint).state == "delivered"


@pytest.mark.django_db
def test_pending_deliveries_are_requeued_after_a_lost_task(endpoint, data):
    """A worker restart loses nothing: the row stays pending and the periodic task queues it again."""
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))  # on_commit never ran here: as if the broker had lost the task
    assert WebhookDelivery.objects.get(endpoint=endpoint).state == "pending"
    assert webhooks.requeue_due() == 1
