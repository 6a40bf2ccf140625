"""A worker keeps its SMTP connection between batches (procuration/tasks.py, OUTBOX_SMTP_KEEP_SECONDS):
e-mails trickling in one by one no longer open, greet and quit a connection each. Against the real
components: the Redis broker, the Celery worker of tests/conftest.py (threads pool, 2 threads: at
most two kept connections), the SMTP server on loopback, which counts its clients' greetings."""

import pytest
from aiosmtpd.controller import Controller

from procuration import tasks
from procuration.models import OutboxEmail
from tests.factories import ProcurationFactory, UserFactory
from tests.services import wait_until


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-k", policier=True)


def validate_and_wait(officer, smtp_sink, n):
    """One validation (its e-mails committed, a drain asked for), then every outbox row sent."""
    ProcurationFactory(en_attente=True, email_contact=f"m{n}@example.fr").valider_autorite(by=officer, piece_type="cni")
    assert wait_until(lambda: not OutboxEmail.objects.exclude(state=OutboxEmail.State.SENT).exists())
    assert len(smtp_sink.wait_for(OutboxEmail.objects.count())) == OutboxEmail.objects.count()


@pytest.mark.django_db(transaction=True)
def test_trickling_emails_go_out_on_the_connection_the_worker_kept(celery_worker, smtp_sink, officer):
    for n in range(6):
        validate_and_wait(officer, smtp_sink, n)
    assert OutboxEmail.objects.count() >= 6
    assert 1 <= smtp_sink.greetings <= 2  # one connection per worker thread; one per batch before
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_server_dropped_is_replaced_before_sending(celery_worker, smtp_sink, officer):
    validate_and_wait(officer, smtp_sink, 0)
    # The server goes away and comes back on the same port: the kept connections are dead.
    handler = smtp_sink.controller.handler
    smtp_sink.controller.stop()
    smtp_sink.controller = Controller(handler, hostname="127.0.0.1", port=smtp_sink.port)
    smtp_sink.controller.start()
    greetings = smtp_sink.greetings
    validate_and_wait(officer, smtp_sink, 1)
    assert smtp_sink.greetings > greetings  # a new connection
    # The dead one was found by its NOOP before sending: no failed attempt, no back-off.
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}
    assert set(OutboxEmail.objects.values_list("last_error", flat=True)) == {""}


@pytest.mark.django_db(transaction=True)
def test_no_connection_is_kept_when_the_setting_is_zero(celery_worker, smtp_sink, officer, settings):
    settings.OUTBOX_SMTP_KEEP_SECONDS = 0
    for n in range(3):
        validate_and_wait(officer, smtp_sink, n)
    assert smtp_sink.greetings == OutboxEmail.objects.count()  # one connection per batch of one


def test_a_web_process_sending_eagerly_keeps_no_connection(db, smtp_sink, officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ProcurationFactory(en_attente=True, email_contact="m@example.fr").valider_autorite(by=officer)
    assert OutboxEmail.objects.get().state == OutboxEmail.State.SENT
    assert getattr(tasks._kept, "smtp", None) is None
