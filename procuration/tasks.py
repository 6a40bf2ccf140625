"""Celery tasks. They take primary keys, re-read the row and cope with it being gone."""

import datetime
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from procuration.audit import purge_dossiers, record_digest
from procuration.expiry import expired_before, expired_unrecorded_q
from procuration.models import OutboxEmail, Procuration, Status

logger = logging.getLogger(__name__)

# Temporary failures worth retrying: connection problems and 4xx answers.
TEMPORARY = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError, OSError)


def _is_temporary(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= c < 500 for c in codes)
    return isinstance(exc, TEMPORARY)


def _describe(exc: Exception) -> str:
    """For the logs: the error's kind and SMTP codes, never the text (it may quote an address)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{type(exc).__name__} {sorted({code for code, _ in exc.recipients.values()})}"
    return type(exc).__name__


def deliver(message: OutboxEmail) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message.message_id},
        connection=get_connection(),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    email.send(fail_silently=False)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_outbox_email(self, pk: int) -> str:
    """Send one outbox message at most once: the row is locked while sending and marked sent
    in the same transaction; a pending row that another worker holds is skipped."""
    error = None
    with transaction.atomic():
        message = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state=OutboxEmail.State.PENDING)
            .first()
        )
        if message is None:
            return "skipped"
        message.attempts += 1
        try:
            deliver(message)
        except Exception as exc:  # noqa: BLE001 - classified below
            error = exc
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if not _is_temporary(exc) or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.state = OutboxEmail.State.FAILED
            message.save(update_fields=["attempts", "last_error", "state"])
        else:
            message.state = OutboxEmail.State.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            message.save(update_fields=["attempts", "state", "sent_at", "last_error"])
            return "sent"
    if message.state == OutboxEmail.State.PENDING:
        countdown = min(2 ** message.attempts, 600)
        logger.warning("Temporary SMTP failure for outbox %s (attempt %s): %s", pk, message.attempts, _describe(error))
        if self.request.is_eager:
            return "retry-later"  # in-process mode: the periodic requeue will try again
        raise self.retry(countdown=countdown, exc=error)
    logger.error("Outbox %s failed permanently: %s", pk, _describe(error))
    return "failed"


@shared_task
def requeue_stuck_emails() -> int:
    """Re-queue pending messages older than OUTBOX_STUCK_AFTER_SECONDS (broker was down, worker died)."""
    from procuration.outbox import enqueue

    limit = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    pks = list(
        OutboxEmail.objects.filter(state=OutboxEmail.State.PENDING, created_at__lte=limit).values_list("pk", flat=True)[:5000]
    )
    for pk in pks:
        enqueue(pk)
    return len(pks)


@shared_task
def expire_and_purge() -> dict:
    """Record the expiry of demandes not validated within two months (already true for every reader:
    Procuration.statut_effectif), close procurations whose validity has ended, and purge personal data
    past the retention periods (docs/domain.md). The purged dossiers' events and audit entries stay in
    their hash chains, pseudonymised (procuration/audit.py)."""
    now = timezone.now()
    today = timezone.localdate()
    counts = {"expirees": 0, "echues": 0, "purgees": 0}

    # Two calendar months (procuration.expiry, the one home of the rule): record what every reader already
    # sees (Procuration.statut_effectif).
    cutoff = expired_before(today)
    for pk in Procuration.objects.filter(expired_unrecorded_q(today)).values_list("pk", flat=True):
        p = Procuration.objects.filter(pk=pk).first()
        if p is not None and p.expirer():
            counts["expirees"] += 1
    for pk in Procuration.objects.filter(status=Status.BROUILLON, created_at__lt=cutoff).values_list("pk", flat=True):
        Procuration.objects.filter(pk=pk, status=Status.BROUILLON).delete()

    for pk in Procuration.objects.filter(
        status__in=[Status.VALIDEE_AUTORITE, Status.VALIDEE_MAIRIE], valid_until__lt=today
    ).values_list("pk", flat=True):
        p = Procuration.objects.filter(pk=pk).first()
        if p is not None and p.echoir():
            counts["echues"] += 1

    # Expired demandes never became procurations: their data are destroyed at expiry (arrêté du 31 mars
    # 2021), as soon as the e-mail that tells the mandant has left the outbox (sent, or failed for good):
    # in this same run when it is sent at once, else at the next one.
    notice_pending = OutboxEmail.objects.filter(procuration=OuterRef("pk"), kind="expired", state=OutboxEmail.State.PENDING)
    counts["purgees"] += purge_dossiers(Procuration.objects.filter(status=Status.EXPIREE).exclude(Exists(notice_pending)))
    # Demandes refused at the counter: destroyed after a short delay (a mandant may ask why).
    purge_refused = now - datetime.timedelta(days=settings.PROCURATION_PURGE_EXPIRED_AFTER_DAYS)
    counts["purgees"] += purge_dossiers(
        Procuration.objects.filter(
            Q(status=Status.REFUSEE_AUTORITE) | Q(status=Status.ANNULEE, autorite_at__isnull=True),
            ended_at__lt=purge_refused,
        )
    )
    # Established procurations: kept one year after the end of validity.
    retention = today - datetime.timedelta(days=settings.PROCURATION_RETENTION_DAYS)
    counts["purgees"] += purge_dossiers(
        Procuration.objects.filter(
            Q(status__in=[Status.ECHUE, Status.RESILIEE, Status.INVALIDEE_MAIRIE])
            | Q(status=Status.ANNULEE, autorite_at__isnull=False),
            valid_until__lt=retention,
        )
    )
    return counts


@shared_task
def record_audit_digest() -> str:
    """The daily digest of the audit trail's chains (procuration/audit.py), also logged so that a copy
    lives outside the database."""
    digest = record_digest()
    logger.info(
        "Empreinte du journal du %s : audit #%s %s ; %s chaînes de dossier %s",
        digest.day, digest.audit_seq, digest.audit_hash, digest.dossiers, digest.dossiers_hash,
    )
    return digest.audit_hash
