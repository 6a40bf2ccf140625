"""The e-mail outbox against the real components: Redis broker, Celery worker, SMTP server."""

import time

import pytest

from procuration.models import OutboxEmail, Status
from procuration.tasks import requeue_stuck_emails, send_outbox_email
from tests.factories import ProcurationFactory, UserFactory
from tests.services import redis_env, start_redis, stop_redis, wait_until


def row_state(pk):
    return OutboxEmail.objects.get(pk=pk).state


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-o", policier=True, first_name="Julie", last_name="Martin")


# ------------------------------------------------------------------ broker down at validation time


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_validation_then_email_goes_out_once_when_back(celery_worker, smtp_sink, settings, officer):
    port, scratch = redis_env()
    p = ProcurationFactory(en_attente=True, email_contact="marie@example.fr")

    # Stop Redis for real (the broker and the cache).
    stop_redis(port)

    try:
        # The officer validates: no exception reaches the caller, the state is saved, the e-mail waits.
        assert p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="1234") is True
        p.refresh_from_db()
        assert p.status == Status.VALIDEE_AUTORITE
        message = OutboxEmail.objects.get(procuration=p)
        assert message.kind == "validated_by_authority"
        assert message.state == OutboxEmail.State.PENDING and message.attempts == 0
        time.sleep(1)
        assert smtp_sink.messages == []
    finally:
        start_redis(port, scratch)

    # The beat task re-queues what is stuck; the real worker (which reconnected) sends it.
    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    deadline = time.monotonic() + 30
    while True:  # the producer's pooled connection may need one failed publish to notice the restart
        try:
            requeue_stuck_emails.delay()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    received = smtp_sink.wait_for(1, timeout=90)
    assert len(received) == 1
    assert received[0]["To"] == "marie@example.fr"
    assert "MARTIN Julie" in received[0].get_payload()[0].get_payload(decode=True).decode()
    assert wait_until(lambda: row_state(message.pk) == OutboxEmail.State.SENT)
    # Re-queue again: it was marked sent, nothing more goes out.
    requeue_stuck_emails.delay()
    send_outbox_email.delay(message.pk)
    time.sleep(2)
    assert len(smtp_sink.messages) == 1


# ------------------------------------------------------------------ SMTP failures


@pytest.mark.django_db(transaction=True)
def test_temporary_smtp_failure_is_retried_and_delivered_once(celery_worker, smtp_sink, officer):
    """Runs after the broker restart above: the session worker still works."""
    smtp_sink.refuse_next = 2  # 451 twice, then accepted
    p = ProcurationFactory(en_attente=True, email_contact="marie@example.fr")
    p.valider_autorite(by=officer, piece_type="cni")
    message = OutboxEmail.objects.get(procuration=p)
    received = smtp_sink.wait_for(1, timeout=60)
    assert len(received) == 1
    assert wait_until(lambda: row_state(message.pk) == OutboxEmail.State.SENT)
    message.refresh_from_db()
    assert message.attempts == 3
    assert message.last_error == ""
    assert smtp_sink.refuse_next == 0
    time.sleep(1)
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_permanent_smtp_failure_is_marked_failed(celery_worker, smtp_sink, officer):
    smtp_sink.reject_next = 1  # 550
    p = ProcurationFactory(en_attente=True, email_contact="nobody@example.fr")
    p.valider_autorite(by=officer, piece_type="cni")
    message = OutboxEmail.objects.get(procuration=p)
    assert wait_until(lambda: row_state(message.pk) == OutboxEmail.State.FAILED)
    message.refresh_from_db()
    assert message.attempts == 1
    assert "550" in message.last_error
    assert smtp_sink.messages == []


def test_sending_a_sent_row_again_sends_nothing(db, smtp_sink, settings, officer, django_capture_on_commit_callbacks):
    p = ProcurationFactory(en_attente=True, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=officer)
    message = OutboxEmail.objects.get(procuration=p)
    assert message.state == OutboxEmail.State.SENT
    assert len(smtp_sink.wait_for(1)) == 1
    assert send_outbox_email.delay(message.pk).get() == "skipped"
    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    assert requeue_stuck_emails() == 0
    time.sleep(0.5)
    assert len(smtp_sink.messages) == 1


def test_eager_temporary_failure_stays_pending_until_requeued(db, smtp_sink, settings, officer,
                                                             django_capture_on_commit_callbacks):
    smtp_sink.refuse_next = 1
    p = ProcurationFactory(en_attente=True, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=officer)
    message = OutboxEmail.objects.get(procuration=p)
    assert message.state == OutboxEmail.State.PENDING and message.attempts == 1
    assert "451" in message.last_error
    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    assert requeue_stuck_emails() == 1
    message.refresh_from_db()
    assert message.state == OutboxEmail.State.SENT and message.attempts == 2
    assert len(smtp_sink.wait_for(1)) == 1
