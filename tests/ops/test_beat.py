"""Only one beat sends the periodic tasks (procuration/beat.py), with the real Redis broker.

The schedule entry names a task no worker knows, on a queue no test worker consumes: beat then
publishes it to Redis (send_task, even in eager mode), and LLEN of that queue counts the sends.
"""

import datetime

import pytest
import redis
from django.utils import timezone

from procuration.beat import LOCK_KEY, SingleBeatScheduler
from procuration.celery import app
from tests.services import wait_until

QUEUE = "ops-beat-test"


@pytest.fixture
def broker(settings):
    if not settings.BEAT_LOCK_URL:
        pytest.skip("CELERY_BROKER_URL (Redis) not set: run through scripts/test.sh")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(QUEUE, LOCK_KEY)
    yield client
    client.delete(QUEUE, LOCK_KEY)


def beat(tmp_path, name):
    scheduler = SingleBeatScheduler(app=app, schedule_filename=str(tmp_path / name), lazy=False)
    due_now(scheduler)
    return scheduler


def due_now(scheduler):
    """The probe entry, last run two hours ago (hourly): due at the next tick."""
    scheduler.update_from_dict({
        "ops-probe": {"task": "ops.tests.beat_probe", "schedule": 3600.0, "options": {"queue": QUEUE},
                      "last_run_at": timezone.now() - datetime.timedelta(hours=2)},
    })
    scheduler._heap = None  # rebuild the heap with the entry as it is now


def tick_until_probe_sent_or_idle(scheduler, broker, sent_before):
    """Tick until the probe is published or the scheduler has nothing due (it then waits > 0)."""
    for _ in range(10):
        wait = scheduler.tick()
        if broker.llen(QUEUE) > sent_before or wait > 0:
            return wait
    return wait


@pytest.mark.django_db
def test_a_second_beat_sends_nothing_while_the_first_runs(broker, tmp_path, settings):
    first, second = beat(tmp_path, "first"), beat(tmp_path, "second")
    try:
        tick_until_probe_sent_or_idle(first, broker, 0)
        assert broker.llen(QUEUE) == 1
        assert broker.get(LOCK_KEY).decode() == first.lock.token
        for _ in range(5):  # the second beat's probe is due too, yet it sends nothing
            assert second.tick() == settings.BEAT_LOCK_RETRY_SECONDS
        assert broker.llen(QUEUE) == 1

        # The first beat stops (cleanly): the second takes over at its next tick.
        first.close()
        tick_until_probe_sent_or_idle(second, broker, 1)
        assert broker.llen(QUEUE) == 2
        assert broker.get(LOCK_KEY).decode() == second.lock.token
        # The first, started again by mistake, stays idle.
        again = beat(tmp_path, "again")
        assert again.tick() == settings.BEAT_LOCK_RETRY_SECONDS
        assert broker.llen(QUEUE) == 2
        again.close()
        assert broker.get(LOCK_KEY).decode() == second.lock.token  # closing it freed nothing of the other's
    finally:
        second.close()


@pytest.mark.django_db
def test_a_dead_beats_lock_expires_and_another_takes_over(broker, tmp_path, settings):
    settings.BEAT_LOCK_TTL_SECONDS = 1
    dead, standby = beat(tmp_path, "dead"), beat(tmp_path, "standby")
    tick_until_probe_sent_or_idle(dead, broker, 0)
    assert broker.llen(QUEUE) == 1
    # The holder dies without releasing (no close()): the standby sends only once the key expired.
    assert standby.tick() == settings.BEAT_LOCK_RETRY_SECONDS
    assert wait_until(lambda: broker.get(LOCK_KEY) is None, timeout=10)
    tick_until_probe_sent_or_idle(standby, broker, 1)
    assert broker.llen(QUEUE) == 2
    standby.close()
    assert broker.get(LOCK_KEY) is None


def test_beat_uses_the_single_beat_scheduler(settings):
    assert app.conf.beat_scheduler == "procuration.beat:SingleBeatScheduler"
    assert app.conf.beat_max_loop_interval * 3 <= settings.BEAT_LOCK_TTL_SECONDS  # renewed within the TTL
