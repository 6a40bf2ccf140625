"""Write e-mails into the outbox inside the caller's transaction; queue their sending on commit."""

import logging
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string

from procuration.fixed_select import insert
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
    message = OutboxEmail(
        kind=kind, to=to, subject=subject, body_text=text, body_html=html, procuration=procuration, object_ref=object_ref
    )
    insert(message)  # the row create() would write, by a statement written once per process
    transaction.on_commit(partial(enqueue, message.pk))
    return message


# Set while a drain task is queued and not started yet: the commits meanwhile need no other one
# (the drain deletes the key before it claims, so it sees their rows). Expires in case that task is lost.
KICK_KEY = "outbox:drain-asked"
KICK_TTL_SECONDS = 30


def enqueue(pk: int) -> None:
    """Ask a worker to drain the outbox (procuration.tasks.drain_outbox), which sends this message
    with the others pending, OUTBOX_DRAIN_DELAY_MS from now: the messages committed meanwhile find
    the drain asked for and go in its batch (in the flow, e-mails trickle in one or two at a time,
    and each drain costs a task, a claim and a send of its own). If the broker is down the row
    stays pending and the periodic requeue task picks it up later: nothing is lost, the request
    does not fail."""
    from procuration.tasks import drain_outbox

    try:
        if cache.add(KICK_KEY, pk, timeout=KICK_TTL_SECONDS):
            try:
                drain_outbox.apply_async(countdown=settings.OUTBOX_DRAIN_DELAY_MS / 1000)
            except Exception:
                cache.delete(KICK_KEY)
                raise
    except Exception:  # kombu raises OperationalError and friends when the broker is unreachable
        logger.warning("Broker unavailable; outbox message %s will be re-queued", pk, exc_info=True)
