"""The Celery worker keeps its PostgreSQL connection between tasks, as gunicorn does between
requests, and still drops a connection that broke (procuration/celery.py, issue 16).

Celery's Django fixup closes the connection around every task unless CELERY_DB_REUSE_MAX is set:
each e-mail of the outbox then paid a new PostgreSQL backend. The tasks run on the real worker of
tests/conftest.py (threads pool, 2 threads: at most two connections), through the Redis broker.
"""

import time

import pytest
from django.db import connection

from procuration.celery import app

SEEN = []  # (backend pid, task number), appended by the worker's threads (same process)


@app.task(name="tests.faults.test_worker_connection.backend_pid")
def backend_pid(number):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        SEEN.append((cursor.fetchone()[0], number))


@pytest.fixture
def persistent_connections():
    """The production settings of every thread's connection (the settings dict is shared): kept
    60 s, health-checked before the first query of each task."""
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    SEEN.clear()
    yield
    connection.settings_dict.update(saved)


def run_tasks(first, count):
    for number in range(first, first + count):
        backend_pid.delay(number)
    deadline = time.monotonic() + 30
    while len(SEEN) < first + count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(number for _, number in SEEN) == list(range(first + count))
    return {pid for pid, number in SEEN if number >= first}


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_its_connection_between_tasks(celery_worker, persistent_connections):
    run_tasks(0, 2)  # each thread's connection opened with the settings above
    pids = run_tasks(2, 8)
    assert len(pids) <= 2  # one backend per worker thread, not one per task


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_broke_between_tasks_is_replaced(celery_worker, persistent_connections):
    pids = run_tasks(0, 4)
    with connection.cursor() as cursor:
        for pid in pids:  # as a PostgreSQL restart or an idle timeout would
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    new_pids = run_tasks(4, 4)
    assert new_pids and not new_pids & pids  # every task ran, on new connections
