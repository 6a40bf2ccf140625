"""Write e-mails into the outbox inside the caller's transaction; queue their sending on commit."""

import logging
from functools import partial

from django.db import transaction
from django.template.loader import render_to_string

from procuration.models.outbox import OutboxEmail

logger = logging.getLogger(__name__)


def render_email(kind: str, context: dict) -> tuple[str, str, str]:
    """One template trio per e-mail: templates/emails/<kind>/{subject.txt, body.txt, body.html}."""
    subject = " ".join(render_to_string(f"emails/{kind}/subject.txt", context).split())
    text = render_to_string(f"emails/{kind}/body.txt", context)
    html = render_to_string(f"emails/{kind}/body.html", context)
    return subject, text, html


def schedule_email(kind: str, to: str, context: dict, *, procuration=None, object_ref: str = "") -> OutboxEmail | None:
    if not to:
        return None
    subject, text, html = render_email(kind, context)
    message = OutboxEmail.objects.create(
        kind=kind, to=to, subject=subject, body_text=text, body_html=html, procuration=procuration, object_ref=object_ref
    )
    transaction.on_commit(partial(enqueue, message.pk))
    return message


def enqueue(pk: int) -> None:
    """Hand the message to Celery. If the broker is down the row stays pending and the
    periodic requeue task picks it up later: nothing is lost, the request does not fail."""
    from procuration.tasks import send_outbox_email

    try:
        send_outbox_email.delay(pk)
    except Exception:  # kombu raises OperationalError and friends when the broker is unreachable
        logger.warning("Broker unavailable; outbox message %s will be re-queued", pk, exc_info=True)
