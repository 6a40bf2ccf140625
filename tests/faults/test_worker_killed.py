"""A real Celery worker PROCESS killed with SIGKILL while it is sending an outbox e-mail.

The worker runs as `celery -A procuration worker --pool=solo` in its own process, on the Redis
broker and the test database of scripts/test.sh, on a queue of its own (the in-process session
worker of tests/conftest.py does not consume it). The SMTP server holds the first message to a
chosen recipient inside DATA until the test releases it, so the kill lands exactly mid-send.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.conf import settings
from django.db import connection

from procuration.celery import app
from procuration.models import OutboxEmail
from procuration.tasks import send_outbox_email
from tests.services import redis_env, wait_until, when_broker_answers

QUEUE = "faults-worker-killed"
VISIBILITY_TIMEOUT = 2  # seconds before an unacked task of a dead worker is handed out again


class StallingSink:
    """A real SMTP server on loopback that holds the first message to some recipients inside DATA
    until the test releases it.

    "before": the server has not taken the message when it stalls; if the client goes away
    meanwhile, the message is dropped (nothing was accepted).
    "after": the server has already queued the message and only its « 250 » reply is pending:
    the at-least-once window of docs/faults.md.
    """

    def __init__(self, stall: dict[str, str]):
        self.stall = stall  # recipient -> "before" | "after", for the first message to it only
        self.delivered, self.dropped = [], []
        self.lock = threading.Lock()
        self.stalled = {to: threading.Event() for to in stall}
        self.release = {to: threading.Event() for to in stall}
        self.done = {to: threading.Event() for to in stall}
        sink = self

        class Handler(Message):
            async def handle_DATA(self, server, session, envelope):
                message = self.prepare_message(session, envelope)
                (to,) = envelope.rcpt_tos
                with sink.lock:
                    mode = sink.stall.pop(to, None)
                if mode is None:
                    sink._deliver(message)
                    return "250 OK"
                taken = mode == "after"
                if taken:
                    sink._deliver(message)
                sink.stalled[to].set()
                try:
                    while not sink.release[to].is_set():
                        await asyncio.sleep(0.02)
                    if server.transport is None or server.transport.is_closing():
                        return "421 4.4.2 Connection lost"
                    if not taken:
                        sink._deliver(message)
                        taken = True
                    return "250 OK"
                finally:  # also when aiosmtpd cancels the handler because the client vanished
                    if not taken:
                        sink.dropped.append(message)
                    sink.done[to].set()

            def handle_message(self, message):  # unused: handle_DATA delivers itself
                raise AssertionError

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def _deliver(self, message):
        with self.lock:
            self.delivered.append(message)

    def to(self, address):
        with self.lock:
            return [m for m in self.delivered if m["To"] == address]


@pytest.fixture
def worker_processes():
    """Start real worker processes; any still alive at the end is stopped (by its own pid)."""
    redis_env()  # skip outside scripts/test.sh
    started = []
    log_dir = Path(os.environ.get("FAULTS_LOG_DIR") or os.environ["TEST_SCRATCH_DIR"])

    def start(name: str, smtp_port: int) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "procuration.settings",
            # The test database pytest-django created (test_<name>), not the original one.
            "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process below
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "procuration", "worker", "--pool=solo",
             "-Q", QUEUE, "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-l", "info"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        process.log = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.log.close()
    port, _ = redis_env()
    redis.Redis(host="127.0.0.1", port=port).delete(QUEUE)


def broker_is_empty() -> bool:
    """kombu's Redis transport keeps the deliveries not yet acknowledged in the "unacked" hash."""
    port, _ = redis_env()
    r = redis.Redis(host="127.0.0.1", port=port)
    return r.llen(QUEUE) == 0 and not any(QUEUE.encode() in v for v in r.hvals("unacked"))


def outbox_row(to: str) -> OutboxEmail:
    return OutboxEmail.objects.create(
        kind="validated_by_authority", to=to, subject="Votre procuration est validée",
        body_text="Votre procuration a été validée.",
    )


def publish(pk: int) -> None:
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False  # through Redis, to the worker process
    try:
        when_broker_answers(lambda: send_outbox_email.apply_async((pk,), queue=QUEUE))
    finally:
        app.conf.task_always_eager = previous


def kill_mid_send(worker: subprocess.Popen, sink: StallingSink, message: OutboxEmail) -> None:
    """The worker takes the task and stalls inside DATA; SIGKILL it; then release the server."""
    publish(message.pk)
    assert sink.stalled[message.to].wait(timeout=60), "the worker never reached DATA"
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL
    assert not broker_is_empty(), "acks_late: the broker must still hold the unacknowledged task"
    sink.release[message.to].set()
    assert sink.done[message.to].wait(timeout=10)
    # Its transaction died with its connection: the row is pending, the attempt not counted.
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxEmail.State.PENDING, 0)
    # Past the visibility timeout, the next worker to start takes the task back from Redis.
    time.sleep(VISIBILITY_TIMEOUT)


def sent(message: OutboxEmail) -> bool:
    return OutboxEmail.objects.get(pk=message.pk).state == OutboxEmail.State.SENT


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_then_redelivered(worker_processes):
    """Three real worker processes, two of them killed mid-send (two cases in one test to start
    three processes instead of four)."""
    before, after = "avant@example.fr", "apres@example.fr"
    sink = StallingSink({before: "before", after: "after"})
    sink.controller.start()
    try:
        # 1. Killed before the server accepted the message: delivered exactly once, by the next worker.
        message = outbox_row(before)
        kill_mid_send(worker_processes("faults-w1", sink.port), sink, message)
        assert sink.to(before) == [] and len(sink.dropped) == 1
        second = worker_processes("faults-w2", sink.port)
        assert wait_until(lambda: sent(message), timeout=60), "the e-mail was lost"
        message.refresh_from_db()
        assert message.attempts == 1 and message.sent_at is not None
        assert [m["Message-ID"] for m in sink.to(before)] == [message.message_id]
        # Nothing left that could be delivered again: the task was acknowledged, the queue is empty.
        assert wait_until(broker_is_empty, timeout=10)

        # 2. The remaining at-least-once window: the server had accepted the message when the
        # worker died, before it committed « sent ». It goes out twice, with one Message-ID.
        message_2 = outbox_row(after)
        kill_mid_send(second, sink, message_2)
        assert len(sink.to(after)) == 1
        worker_processes("faults-w3", sink.port)
        assert wait_until(lambda: sent(message_2), timeout=60)
        assert [m["Message-ID"] for m in sink.to(after)] == [message_2.message_id] * 2
        assert wait_until(broker_is_empty, timeout=10)
        assert len(sink.to(before)) == 1
    finally:
        for event in sink.release.values():
            event.set()
        sink.controller.stop()
