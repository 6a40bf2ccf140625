"""The drain a commit asks for starts OUTBOX_DRAIN_DELAY_MS later (procuration/outbox.py): the e-mails
committed meanwhile go out in its batch. Against the real components: the Redis broker, the Celery
worker of tests/conftest.py, the SMTP server on loopback. With OUTBOX_SMTP_KEEP_SECONDS at 0 a batch
opens one SMTP connection: the server's greetings count the batches."""

import pytest

from procuration.models import OutboxEmail, Status
from tests.factories import ProcurationFactory, UserFactory
from tests.services import wait_until


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-d", policier=True)


def _validate_all(officer, smtp_sink, n):
    waiting = [ProcurationFactory(en_attente=True, email_contact=f"m{i}@example.fr") for i in range(n)]
    for p in waiting:  # each in its own transaction, its e-mails committed and a drain asked for
        p.valider_autorite(by=officer, piece_type="cni")
    assert wait_until(lambda: not OutboxEmail.objects.exclude(state=OutboxEmail.State.SENT).exists())
    sent = OutboxEmail.objects.count()
    assert sent >= n and len(smtp_sink.wait_for(sent)) == sent
    return waiting


@pytest.mark.django_db(transaction=True)
def test_emails_committed_within_the_delay_share_one_batch(celery_worker, smtp_sink, officer, settings):
    settings.OUTBOX_SMTP_KEEP_SECONDS = 0  # one SMTP connection per batch
    settings.OUTBOX_DRAIN_DELAY_MS = 2000  # the five validations commit well within it
    waiting = _validate_all(officer, smtp_sink, 5)
    assert smtp_sink.greetings == 1  # one drain, one batch, one connection
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}  # each sent once
    assert all(p.__class__.objects.get(pk=p.pk).status == Status.VALIDEE_AUTORITE for p in waiting)


@pytest.mark.django_db(transaction=True)
def test_without_delay_each_commit_may_start_its_own_drain(celery_worker, smtp_sink, officer, settings):
    """The setting at 0 asks for the drain at once, as before: every e-mail is still sent, once."""
    settings.OUTBOX_SMTP_KEEP_SECONDS = 0
    settings.OUTBOX_DRAIN_DELAY_MS = 0
    _validate_all(officer, smtp_sink, 3)
    assert 1 <= smtp_sink.greetings <= OutboxEmail.objects.count()
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}
