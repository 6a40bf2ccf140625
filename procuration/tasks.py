"""Celery tasks. They take primary keys, re-read the row and cope with it being gone."""

import datetime
import logging
import smtplib
import threading
import time
import uuid

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone

from procuration import counts
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


def deliver(message: OutboxEmail, connection=None) -> None:
    """Hand one message to the SMTP server; on a connection already open it is reused."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message.message_id},
        connection=connection or get_connection(),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    email.send(fail_silently=False)


# The lease. A batch is claimed (leased to one claim id) and committed at once; then each message is
# sent on one SMTP connection and marked sent right after the server took it, in its own statement.
# A killed worker leaves at most the message in flight sent-but-not-marked (sent again later, with the
# same Message-ID: the at-least-once window of docs/faults.md, as with one message per task); the rest
# of its batch is taken again when its lease has run out. Before each message its lease is renewed,
# on the condition that the row is still this claim's: once another claim took it, it is not sent here.
TABLE = OutboxEmail._meta.db_table
COLUMNS = "id, kind, \"to\", subject, body_text, body_html, attempts, claimed_by"
FREE = "(claimed_until IS NULL OR claimed_until < now())"
CLAIM_BATCH = f"""
UPDATE {TABLE} SET claimed_by = %s, claimed_until = now() + make_interval(secs => %s)
WHERE id IN (
    SELECT id FROM {TABLE} WHERE state = 'pending' AND {FREE} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
) RETURNING {COLUMNS}"""
# One row by its key: a back-off (claimed_by empty) does not hold it, only another worker's lease does.
CLAIM_ONE = f"""
UPDATE {TABLE} SET claimed_by = %s, claimed_until = now() + make_interval(secs => %s)
WHERE id = (
    SELECT id FROM {TABLE} WHERE id = %s AND state = 'pending' AND (claimed_by = '' OR {FREE})
    FOR UPDATE SKIP LOCKED
) RETURNING {COLUMNS}"""
MARK_SENT = f"""UPDATE {TABLE} SET state = 'sent', sent_at = now(), attempts = attempts + 1, last_error = '',
    claimed_by = '', claimed_until = NULL WHERE id = %s AND state = 'pending'"""
RENEW = f"""UPDATE {TABLE} SET claimed_until = now() + make_interval(secs => %s)
    WHERE id = %s AND claimed_by = %s AND state = 'pending' RETURNING id"""
# Marking the previous message sent and renewing the next one's lease: one round trip per message.
MARK_SENT_AND_RENEW = f"""WITH sent AS ({MARK_SENT} RETURNING id), renewed AS ({RENEW})
SELECT id FROM renewed"""


def _claim(sql: str, params: list) -> list[OutboxEmail]:
    if connection.vendor != "postgresql":
        return _PORTABLE_CLAIMS[sql](*params)
    with connection.cursor() as cursor:  # autocommit: the lease is committed before anything is sent
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        rows = [OutboxEmail(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
    return sorted(rows, key=lambda m: m.pk)


def _renew(previous: int | None, message: OutboxEmail) -> bool:
    lease = settings.OUTBOX_LEASE_SECONDS
    if connection.vendor != "postgresql":
        if previous is not None:
            _mark_sent(previous)
        return bool(_held(message.pk, message.claimed_by).update(claimed_until=_lease_end(lease)))
    with connection.cursor() as cursor:
        if previous is None:
            cursor.execute(RENEW, [lease, message.pk, message.claimed_by])
        else:
            cursor.execute(MARK_SENT_AND_RENEW, [previous, lease, message.pk, message.claimed_by])
        return cursor.fetchone() is not None


def _mark_sent(pk: int) -> None:
    if connection.vendor != "postgresql":
        OutboxEmail.objects.filter(pk=pk, state=OutboxEmail.State.PENDING).update(
            state=OutboxEmail.State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error="",
            claimed_by="", claimed_until=None)
        return
    with connection.cursor() as cursor:
        cursor.execute(MARK_SENT, [pk])


# The same lease on the embedded default (SQLite: no make_interval, no SKIP LOCKED). Its transactions
# take the database's write lock when they begin (transaction_mode IMMEDIATE, procuration/settings.py),
# so a claim read and written in one transaction is taken by one process at a time.
def _lease_end(seconds: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def _free() -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now())


def _held(pk: int, claim: str):
    return OutboxEmail.objects.filter(pk=pk, claimed_by=claim, state=OutboxEmail.State.PENDING)


def _take(claim: str, lease: int, rows) -> list[OutboxEmail]:
    with transaction.atomic():
        pks = list(rows.values_list("pk", flat=True))
        OutboxEmail.objects.filter(pk__in=pks).update(claimed_by=claim, claimed_until=_lease_end(lease))
        return list(OutboxEmail.objects.filter(pk__in=pks).order_by("pk"))


def _claim_batch_portable(claim: str, lease: int, size: int) -> list[OutboxEmail]:
    pending = OutboxEmail.objects.filter(_free(), state=OutboxEmail.State.PENDING)
    return _take(claim, lease, pending.order_by("pk")[:size])


def _claim_one_portable(claim: str, lease: int, pk: int) -> list[OutboxEmail]:
    pending = OutboxEmail.objects.filter(Q(claimed_by="") | _free(), pk=pk, state=OutboxEmail.State.PENDING)
    return _take(claim, lease, pending)


_PORTABLE_CLAIMS = {CLAIM_BATCH: _claim_batch_portable, CLAIM_ONE: _claim_one_portable}


def _record_failure(message: OutboxEmail, exc: Exception) -> bool:
    """Count the attempt; a temporary failure backs off (the row is released until then), anything
    else is final. Returns True when the message will be tried again."""
    attempts = message.attempts + 1
    retry = _is_temporary(exc) and attempts < settings.OUTBOX_MAX_ATTEMPTS
    countdown = min(2 ** attempts, 600)
    OutboxEmail.objects.filter(pk=message.pk, state=OutboxEmail.State.PENDING).update(
        attempts=attempts,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        state=OutboxEmail.State.PENDING if retry else OutboxEmail.State.FAILED,
        claimed_by="",
        claimed_until=timezone.now() + datetime.timedelta(seconds=countdown) if retry else None,
    )
    message.attempts = attempts
    if retry:
        logger.warning("Temporary SMTP failure for outbox %s (attempt %s): %s", message.pk, attempts, _describe(exc))
    else:
        logger.error("Outbox %s failed permanently: %s", message.pk, _describe(exc))
    return retry


# The SMTP connection a worker keeps between batches (per process; per thread with the threads pool):
# (backend, the server's settings it was opened with, when it was last used). Never in eager mode: a
# web process sends its request's e-mails and closes the connection, as before.
_kept = threading.local()


def _server() -> tuple:
    return (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
            settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL)


def _answers(backend) -> bool:
    """The kept connection still answers (a server may drop an idle client at any time)."""
    try:
        return backend.connection.noop()[0] == 250
    except Exception:  # noqa: BLE001 - any failure: open a new one
        return False


def _open_smtp(keep: bool):
    """An open connection: the one kept by this worker if it is to the same server, idle for less
    than OUTBOX_SMTP_KEEP_SECONDS and answers a NOOP; otherwise a new one (the kept one closed)."""
    kept, _kept.smtp = getattr(_kept, "smtp", None), None
    if kept is not None:
        backend, server, used = kept
        if (keep and server == _server() and time.monotonic() - used < settings.OUTBOX_SMTP_KEEP_SECONDS
                and _answers(backend)):
            return backend
        _close(backend)
    backend = get_connection()
    backend.open()  # opened here, the backend leaves it open after each message
    return backend


def _release(smtp, keep: bool) -> None:
    """Keep a worker's healthy SMTP connection for its next batch, or close it."""
    if smtp is None:
        return
    if keep and settings.OUTBOX_SMTP_KEEP_SECONDS > 0 and isinstance(smtp, SmtpBackend) and smtp.connection:
        _kept.smtp = (smtp, _server(), time.monotonic())
    else:
        _close(smtp)


def send_claimed(messages: list[OutboxEmail], eager: bool = False, queue: str | None = None) -> dict[int, str]:
    """Send claimed messages in order on one SMTP connection, reopened after an error; a worker keeps
    it for its next batch (_open_smtp). A message is sent only if its row is still this claim's (its
    lease renewed just before)."""
    outcome: dict[int, str] = {}
    smtp = None
    keep = not eager
    previous = None  # sent, not yet marked: marked together with the next lease renewal
    try:
        for message in messages:
            if not _renew(previous, message):
                previous = None
                outcome[message.pk] = "skipped"  # another claim holds it now
                continue
            previous = None
            try:
                if smtp is None:
                    smtp = _open_smtp(keep)
                deliver(message, smtp)
            except Exception as exc:  # noqa: BLE001 - classified in _record_failure
                _close(smtp)
                smtp = None
                if _record_failure(message, exc):
                    outcome[message.pk] = "retry-later"
                    if not eager:  # in-process mode: the periodic requeue will try again
                        _enqueue_retry(message, queue)
                else:
                    outcome[message.pk] = "failed"
                continue
            previous = message.pk
            outcome[message.pk] = "sent"
        if previous is not None:
            _mark_sent(previous)
    except BaseException:
        _close(smtp)  # whatever went wrong, the connection is not kept
        raise
    _release(smtp, keep)
    return outcome


def _close(smtp) -> None:
    if smtp is not None:
        try:
            smtp.close()  # a failed QUIT changes nothing: the messages are marked already
        except Exception:  # noqa: BLE001
            logger.warning("SMTP connection did not close cleanly", exc_info=True)


def _enqueue_retry(message: OutboxEmail, queue: str | None) -> None:
    try:
        send_outbox_email.apply_async((message.pk,), countdown=min(2 ** message.attempts, 600), queue=queue)
    except Exception:  # the broker is down: the periodic requeue takes the row back
        logger.warning("Broker unavailable; outbox message %s will be re-queued", message.pk, exc_info=True)


def _queue(task) -> str | None:
    """The queue the task came from: its follow-ups go to the same workers."""
    return (task.request.delivery_info or {}).get("routing_key") or None


def _claim_id() -> str:
    return uuid.uuid4().hex


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_outbox_email(self, pk: int) -> str:
    """Send one given outbox message (a retry after back-off, a re-queued row). Skipped when it is
    sent or failed; when another worker's lease holds it, tried again once that lease has run out."""
    claimed = _claim(CLAIM_ONE, [_claim_id(), settings.OUTBOX_LEASE_SECONDS, pk])
    if claimed:
        return send_claimed(claimed, eager=self.request.is_eager, queue=_queue(self))[pk]
    row = OutboxEmail.objects.filter(pk=pk, state=OutboxEmail.State.PENDING).values("claimed_until").first()
    if row is None:
        return "skipped"
    # Leased (maybe by a worker that died mid-send): look again when the lease has run out.
    wait = (row["claimed_until"] - timezone.now()).total_seconds() if row["claimed_until"] else 0
    if self.request.is_eager:
        return "leased"
    raise self.retry(countdown=max(1, int(wait) + 1))


@shared_task(bind=True, acks_late=True)
def drain_outbox(self) -> int:
    """Send a batch of pending messages (OUTBOX_BATCH_SIZE). A full batch first asks for another
    drain, so that the other worker processes take the next batches meanwhile."""
    from procuration.outbox import KICK_KEY

    cache.delete(KICK_KEY)  # from now on, a new commit asks for a new drain (procuration/outbox.py)
    size, eager, total = settings.OUTBOX_BATCH_SIZE, self.request.is_eager, 0
    while True:
        claimed = _claim(CLAIM_BATCH, [_claim_id(), settings.OUTBOX_LEASE_SECONDS, size])
        full = len(claimed) == size
        if full and not eager:
            try:
                drain_outbox.apply_async(queue=_queue(self))
            except Exception:  # noqa: BLE001 - the periodic requeue covers it
                logger.warning("Broker unavailable; the next outbox batch waits for the requeue", exc_info=True)
        outcome = send_claimed(claimed, eager=eager, queue=_queue(self))
        total += sum(1 for v in outcome.values() if v == "sent")
        if not (full and eager):  # in-process mode: drain everything here
            return total


@shared_task
def requeue_stuck_emails() -> int:
    """Re-queue pending messages older than OUTBOX_STUCK_AFTER_SECONDS (broker was down, worker died),
    leaving out those a live worker's lease holds (a back-off does not hold them)."""
    limit = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    not_held = Q(claimed_by="") | Q(claimed_until__isnull=True) | Q(claimed_until__lt=Now())
    pks = list(
        OutboxEmail.objects.filter(not_held, state=OutboxEmail.State.PENDING, created_at__lte=limit)
        .values_list("pk", flat=True)[:5000]
    )
    for pk in pks:
        try:
            send_outbox_email.delay(pk)
        except Exception:  # noqa: BLE001
            logger.warning("Broker unavailable; outbox message %s stays pending", pk, exc_info=True)
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


@shared_task
def compact_procuration_counts() -> int:
    """Fold the figures' change rows into one row per commune, scrutin and status (procuration.counts):
    the dashboard reads a few rows per key however many transitions happened."""
    return counts.compact()
