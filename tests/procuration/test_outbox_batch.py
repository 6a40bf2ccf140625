"""Outbox batches in process (drain_outbox run here), against the real PostgreSQL and a real SMTP
server: the connection is reused, a failure touches only its message, leases are respected."""

import datetime
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.db import connection
from django.utils import timezone

from procuration.models import OutboxEmail
from procuration.tasks import CLAIM_BATCH, _claim, drain_outbox, requeue_stuck_emails, send_claimed, send_outbox_email


class RecordingSink:
    """A real SMTP server that answers per recipient and notes which connection each message came on."""

    def __init__(self, answers: dict[str, str] | None = None):
        self.answers = answers or {}  # recipient -> SMTP reply instead of « 250 »
        self.delivered = []  # (To, Message-ID, client port)
        self.lock = threading.Lock()
        sink = self

        class Handler(Message):
            async def handle_DATA(self, server, session, envelope):
                (to,) = envelope.rcpt_tos
                if to in sink.answers:
                    return sink.answers[to]
                message = self.prepare_message(session, envelope)
                with sink.lock:
                    sink.delivered.append((message["To"], message["Message-ID"], session.peer[1]))
                return "250 OK"

            def handle_message(self, message):
                raise AssertionError

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)


@pytest.fixture
def sink(settings):
    def start(answers=None):
        s = RecordingSink(answers)
        s.controller.start()
        started.append(s)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", s.port, False
        return s

    started = []
    yield start
    for s in started:
        s.controller.stop()


def rows(n: int, prefix: str = "lot") -> list[OutboxEmail]:
    return OutboxEmail.objects.bulk_create([
        OutboxEmail(kind="validated_by_authority", to=f"{prefix}{i}@example.fr", subject="Votre procuration est validée",
                    body_text="Votre procuration a été validée.")
        for i in range(n)
    ])


def states(messages) -> list[str]:
    by_pk = dict(OutboxEmail.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", "state"))
    return [by_pk[m.pk] for m in messages]


@pytest.mark.django_db(transaction=True)
def test_a_batch_goes_out_on_one_connection_with_one_statement_per_message(sink, settings, django_assert_num_queries):
    server = sink()
    settings.OUTBOX_BATCH_SIZE = 20
    messages = rows(10)
    # The claim, one statement per message (mark the previous one sent + renew this one's lease), the last mark.
    with django_assert_num_queries(1 + 10 + 1):
        assert drain_outbox.apply().get() == 10
    assert states(messages) == ["sent"] * 10
    assert [(to, mid) for to, mid, _ in server.delivered] == [(m.to, m.message_id) for m in messages]
    assert len({port for *_, port in server.delivered}) == 1  # one SMTP connection for the batch
    assert set(OutboxEmail.objects.values_list("attempts", "claimed_by", "claimed_until")) == {(1, "", None)}


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_drains_the_next_one_too(sink, settings):
    server = sink()
    settings.OUTBOX_BATCH_SIZE = 4
    messages = rows(10)
    assert drain_outbox.apply().get() == 10
    assert states(messages) == ["sent"] * 10
    assert len(server.delivered) == 10


@pytest.mark.django_db(transaction=True)
def test_smtp_failures_mid_batch_touch_only_their_message(sink):
    messages = rows(6)
    server = sink({messages[2].to: "451 4.3.0 Try again later", messages[4].to: "550 5.1.1 Mailbox unavailable"})
    assert drain_outbox.apply().get() == 4
    assert states(messages) == ["sent", "sent", "pending", "sent", "failed", "sent"]
    assert [to for to, *_ in server.delivered] == [messages[i].to for i in (0, 1, 3, 5)]
    ports = [port for *_, port in server.delivered]
    assert ports[0] == ports[1] and len(set(ports)) == 3  # reopened after each failure
    temporary, permanent = OutboxEmail.objects.get(pk=messages[2].pk), OutboxEmail.objects.get(pk=messages[4].pk)
    assert (temporary.attempts, temporary.claimed_by) == (1, "") and "451" in temporary.last_error
    assert temporary.claimed_until > timezone.now()  # backing off: the batches leave it alone meanwhile
    assert (permanent.attempts, permanent.claimed_until) == (1, None) and "550" in permanent.last_error

    server.answers.clear()
    assert drain_outbox.apply().get() == 0
    # Its own retry (send_outbox_email, queued with the back-off as countdown) sends it.
    assert send_outbox_email.apply((temporary.pk,)).get() == "sent"
    assert states(messages) == ["sent", "sent", "sent", "sent", "failed", "sent"]
    assert OutboxEmail.objects.get(pk=temporary.pk).attempts == 2
    assert [to for to, *_ in server.delivered].count(temporary.to) == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_leased_by_another_worker_waits_for_the_lease_to_run_out(sink):
    server = sink()
    held, free = rows(2)
    OutboxEmail.objects.filter(pk=held.pk).update(claimed_by="other-worker",
                                                  claimed_until=timezone.now() + datetime.timedelta(minutes=1))
    assert drain_outbox.apply().get() == 1
    assert send_outbox_email.apply((held.pk,)).get() == "leased"
    assert states([held, free]) == ["pending", "sent"]
    # The other worker died: once its lease has run out, the row is taken again.
    OutboxEmail.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    assert drain_outbox.apply().get() == 1
    assert states([held, free]) == ["sent", "sent"]
    assert [to for to, *_ in server.delivered] == [free.to, held.to]


@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_rows_were_taken_over_sends_none_of_them(sink):
    """A worker stalled past its lease: another claim took its rows and sent them. When it wakes up,
    it must not send them again (the lease is renewed, on its own claim, before each message)."""
    server = sink()
    messages = rows(3)
    stalled = _claim(CLAIM_BATCH, ["stalled-claim", 30, 10])
    assert [m.pk for m in stalled] == [m.pk for m in messages]
    with connection.cursor() as cursor:  # its lease runs out
        cursor.execute("UPDATE procuration_outboxemail SET claimed_until = now() - interval '1 second'")
    assert drain_outbox.apply().get() == 3
    assert send_claimed(stalled, eager=True) == {m.pk: "skipped" for m in messages}
    assert sorted(to for to, *_ in server.delivered) == sorted(m.to for m in messages)


@pytest.mark.django_db(transaction=True)
def test_requeue_takes_back_rows_of_a_dead_lease_and_backed_off_rows_not_those_of_a_live_one(sink, settings):
    server = sink()
    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    live, dead, backing_off = rows(3)
    now = timezone.now()
    minute = datetime.timedelta(minutes=1)
    OutboxEmail.objects.filter(pk=live.pk).update(claimed_by="live-worker", claimed_until=now + minute)
    OutboxEmail.objects.filter(pk=dead.pk).update(claimed_by="dead-worker", claimed_until=now - minute)
    OutboxEmail.objects.filter(pk=backing_off.pk).update(claimed_by="", claimed_until=now + minute, attempts=1)
    assert requeue_stuck_emails() == 2
    assert states([live, dead, backing_off]) == ["pending", "sent", "sent"]
    assert sorted(to for to, *_ in server.delivered) == sorted([dead.to, backing_off.to])
