"""Outbox batches (procuration/tasks.py, drain_outbox) with real Celery worker PROCESSES, the test
PostgreSQL and Redis of scripts/test.sh and a real SMTP server: two workers draining at once, and a
worker killed with SIGKILL in the middle of a batch.

The worker processes and the stalling SMTP server are those of test_worker_killed.py.
"""

import os
import signal
from collections import Counter

import pytest
from django.db.models.functions import Now

from procuration.celery import app
from procuration.models import OutboxEmail
from procuration.tasks import drain_outbox
from tests.faults.test_worker_killed import (  # noqa: F401 - worker_processes is a fixture
    QUEUE,
    StallingSink,
    broker_is_empty,
    worker_processes,
)
from tests.services import wait_until, when_broker_answers


def rows(prefix: str, n: int) -> list[OutboxEmail]:
    return OutboxEmail.objects.bulk_create([
        OutboxEmail(kind="validated_by_authority", to=f"{prefix}{i}@example.fr", subject="Votre procuration est validée",
                    body_text="Votre procuration a été validée.")
        for i in range(n)
    ])


def publish_drain() -> None:
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False  # through Redis, to the worker processes
    try:
        when_broker_answers(lambda: drain_outbox.apply_async(queue=QUEUE))
    finally:
        app.conf.task_always_eager = previous


def all_sent(messages) -> bool:
    return not OutboxEmail.objects.filter(pk__in=[m.pk for m in messages]).exclude(state=OutboxEmail.State.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_send_each_message_once(worker_processes, monkeypatch):  # noqa: F811
    sink = StallingSink({})
    sink.controller.start()
    monkeypatch.setenv("OUTBOX_BATCH_SIZE", "10")  # 30 batches: the two workers take turns
    try:
        messages = rows("deux", 300)
        worker_processes("batch-w1", sink.port)
        worker_processes("batch-w2", sink.port)
        publish_drain()
        publish_drain()
        assert wait_until(lambda: all_sent(messages), timeout=120), "messages were left pending"
        ids = Counter(m["Message-ID"] for m in sink.delivered)
        assert ids == Counter({m.message_id: 1 for m in messages})
        assert set(OutboxEmail.objects.filter(pk__in=[m.pk for m in messages]).values_list("attempts", "claimed_by")) == {
            (1, "")
        }
        assert wait_until(broker_is_empty, timeout=30)
    finally:
        sink.controller.stop()


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_loses_nothing_and_sends_at_most_one_twice(worker_processes, monkeypatch):  # noqa: F811
    """The server has taken the third message and its « 250 » is pending when the worker dies: the
    first two are marked sent already, the third goes out again, the rest once, after the lease."""
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "3")
    messages = rows("lot", 8)
    third = messages[2]
    sink = StallingSink({third.to: "after"})
    sink.controller.start()
    try:
        first = worker_processes("batch-k1", sink.port)
        publish_drain()
        assert sink.stalled[third.to].wait(timeout=60), "the worker never reached the third message"
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        sink.release[third.to].set()
        assert sink.done[third.to].wait(timeout=10)

        # Each message was marked sent right after the server took it; the rest stays leased.
        state = {m.pk: m for m in OutboxEmail.objects.filter(pk__in=[m.pk for m in messages])}
        assert [state[m.pk].state for m in messages] == ["sent"] * 2 + ["pending"] * 6
        leased = {state[m.pk].claimed_by for m in messages[2:]}
        assert len(leased) == 1 and leased != {""}
        assert all(state[m.pk].attempts == 0 for m in messages[2:])

        # Nobody takes the rows before the lease has run out; then the next worker does.
        assert wait_until(
            lambda: not OutboxEmail.objects.filter(pk__in=[m.pk for m in messages], claimed_until__gt=Now()).exists(),
            timeout=30,
        )
        worker_processes("batch-k2", sink.port)
        publish_drain()
        assert wait_until(lambda: all_sent(messages), timeout=60), "a message was lost"
        ids = Counter(m["Message-ID"] for m in sink.delivered)
        assert ids == Counter({m.message_id: 2 if m == third else 1 for m in messages})
        assert wait_until(broker_is_empty, timeout=30)
    finally:
        for event in sink.release.values():
            event.set()
        sink.controller.stop()
