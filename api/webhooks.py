"""Webhooks per the Standard Webhooks scheme: signed, delivered from an outbox by Celery, retried
with exponential backoff for 24 h, then the endpoint is disabled and the administrator alerted."""

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import uuid
from functools import partial
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import Change, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from procuration.exceptions import DomainError

logger = logging.getLogger(__name__)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the key being the base64 after `whsec_`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def check_url(url: str) -> None:
    """HTTPS to a public address. http://127.0.0.1 and private addresses only when
    API_WEBHOOK_ALLOW_PRIVATE (tests, development). Checked when registered and at each send."""
    parts = urlsplit(url)
    allow = settings.API_WEBHOOK_ALLOW_PRIVATE
    if parts.scheme != "https" and not (allow and parts.scheme == "http"):
        raise DomainError("L'adresse doit commencer par https://.", field="url")
    if not parts.hostname:
        raise DomainError("Adresse invalide.", field="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise DomainError("Ce nom de domaine est introuvable.", field="url") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not allow and not ip.is_global:
            raise DomainError("Cette adresse désigne un réseau interne : elle est refusée.", field="url")


def payload(change: Change) -> bytes:
    from listes.models import Teledossier

    data = {"kind": change.kind, "object_id": change.object_id, "state": change.state, "at": change.at.isoformat()}
    if change.kind == Change.Kind.TELEDOSSIER:
        data["numero"] = Teledossier.objects.filter(pk=change.object_id).values_list("numero", flat=True).first()
    return json.dumps({"type": change.event, "timestamp": change.at.isoformat(), "data": data},
                      separators=(",", ":"), ensure_ascii=False).encode()


def fan_out(change: Change, endpoint_ids: list[int] | None = None) -> None:
    """One delivery per active endpoint of the commune, in the change's transaction; queued on commit.
    endpoint_ids: those endpoints, when the caller read them with the change (api.changes.record)."""
    if endpoint_ids is None:
        endpoint_ids = WebhookEndpoint.objects.filter(commune_id=change.commune_id, active=True).values_list("pk", flat=True)
    for endpoint_id in endpoint_ids:
        delivery = WebhookDelivery.objects.create(endpoint_id=endpoint_id, change=change, msg_id=f"msg_{uuid.uuid4().hex}")
        transaction.on_commit(partial(enqueue, delivery.pk))


def enqueue(pk: int) -> None:
    """Hand to Celery; with the broker down the row stays pending and requeue_due picks it up."""
    from api.tasks import deliver_webhook

    try:
        deliver_webhook.delay(pk)
    except Exception:  # kombu raises OperationalError and friends when the broker is unreachable
        logger.warning("Broker unavailable; webhook delivery %s will be re-queued", pk, exc_info=True)


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(settings.API_WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), 3 * 3600))


def deliver(pk: int) -> str:
    """One attempt; the row is locked while sending so two workers never send it together."""
    with transaction.atomic():
        d = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
             .select_related("endpoint", "change").filter(pk=pk, state=WebhookDelivery.State.PENDING).first())
        if d is None:
            return "skipped"
        endpoint = d.endpoint
        if not endpoint.active:
            return "inactive"
        body = payload(d.change)
        ts = int(timezone.now().timestamp())
        status, error = None, ""
        try:
            check_url(endpoint.url)
            headers = {
                "content-type": "application/json", "webhook-id": d.msg_id, "webhook-timestamp": str(ts),
                "webhook-signature": " ".join(sign(s, d.msg_id, ts, body) for s in endpoint.signing_secrets()),
            }
            response = httpx.post(endpoint.url, content=body, headers=headers, timeout=10.0, follow_redirects=False)
            status = response.status_code
        except DomainError as e:
            error = e.message
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"[:500]
        d.attempts += 1
        WebhookAttempt.objects.create(delivery=d, status_code=status, error=error)
        if status is not None and 200 <= status < 300:
            d.state, d.delivered_at = WebhookDelivery.State.DELIVERED, timezone.now()
            d.save(update_fields=["attempts", "state", "delivered_at"])
            return "delivered"
        if timezone.now() - d.created_at >= datetime.timedelta(seconds=settings.API_WEBHOOK_RETRY_SECONDS):
            d.state = WebhookDelivery.State.FAILED
            d.save(update_fields=["attempts", "state"])
            _disable(endpoint)
            return "failed"
        d.next_attempt_at = timezone.now() + backoff(d.attempts)
        d.save(update_fields=["attempts", "next_attempt_at"])
        return "retry"


def _disable(endpoint: WebhookEndpoint) -> None:
    """Inside the delivery's transaction: the endpoint stops, the administrator is e-mailed (outbox)."""
    from procuration.outbox import schedule_email

    if not endpoint.active:
        return
    endpoint.active, endpoint.disabled_at = False, timezone.now()
    endpoint.save(update_fields=["active", "disabled_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.FAILED)
    to = endpoint.created_by.email
    schedule_email("api_webhook_disabled", to, {"endpoint": endpoint, "site_url": settings.SITE_URL},
                   object_ref=f"api.WebhookEndpoint:{endpoint.pk}")


def replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same change (new id), queued now; the endpoint is re-enabled if needed."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if not endpoint.active:
            endpoint.active, endpoint.disabled_at = True, None
            endpoint.save(update_fields=["active", "disabled_at"])
        new = WebhookDelivery.objects.create(endpoint=endpoint, change_id=delivery.change_id,
                                             msg_id=f"msg_{uuid.uuid4().hex}")
        transaction.on_commit(partial(enqueue, new.pk))
    return new


def requeue_due() -> int:
    n = 0
    for pk in WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING,
                                             next_attempt_at__lte=timezone.now()).values_list("pk", flat=True)[:500]:
        enqueue(pk)
        n += 1
    return n
