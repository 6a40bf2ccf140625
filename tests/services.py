"""Stop and restart the real services of scripts/test.sh (Redis, PostgreSQL) from a test.

Every helper waits until the service really answers (or really stopped) before returning, so a
test that stops a service can hand it back healthy to the tests that run after it.
"""

import os
import socket
import subprocess
import time

import pytest
import redis


def wait_until(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# ------------------------------------------------------------------ Redis (broker and cache)


def redis_env() -> tuple[int, str]:
    port, scratch = os.environ.get("REDIS_PORT"), os.environ.get("TEST_SCRATCH_DIR")
    if not (port and scratch):
        pytest.skip("REDIS_PORT / TEST_SCRATCH_DIR not set: run through scripts/test.sh")
    return int(port), scratch


def redis_up(port: int) -> bool:
    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


def stop_redis(port: int) -> None:
    """SHUTDOWN for real; returns once nothing listens on the port any more.

    Waits first until no task is in flight (kombu's "unacked" hash empty): a worker that loses
    Redis while it holds an unacknowledged task crashes in kombu 5.7 (docs/faults.md, « Known
    gaps »), which would take the session worker of tests/conftest.py down for the tests after.
    """
    client = redis.Redis(host="127.0.0.1", port=port)
    assert wait_until(lambda: client.hlen("unacked") == 0, timeout=120, interval=0.2), "a task is still in flight"
    try:
        redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass  # the server closes the connection while shutting down
    assert wait_until(lambda: not redis_up(port), timeout=10)
    assert wait_until(lambda: not listening(port), timeout=10), "Redis still listening"


def start_redis(port: int, scratch: str) -> None:
    """Same arguments as scripts/test.sh; returns once Redis answers PING."""
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes", "--save", "",
         "--appendonly", "no", "--dir", scratch, "--pidfile", f"{scratch}/redis.pid", "--logfile", f"{scratch}/redis.log"],
        check=True,
    )
    assert wait_until(lambda: redis_up(port), timeout=20), "Redis did not come back"


# ------------------------------------------------------------------ PostgreSQL


def postgres_env() -> tuple[str, str, int]:
    pg_bin, pg_data, port = os.environ.get("PG_BIN"), os.environ.get("PG_DATA"), os.environ.get("PGPORT")
    if not (pg_bin and pg_data and port):
        pytest.skip("PG_BIN / PG_DATA / PGPORT not set: run through scripts/test.sh")
    return pg_bin, pg_data, int(port)


def postgres_up(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=1) as c:
            return c.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def restart_postgres(pg_bin: str, pg_data: str, port: int) -> None:
    """`pg_ctl restart` reuses the options of the last start (postmaster.opts): same port, same
    socket directory. -m fast disconnects every session, as a crash-free restart in production."""
    subprocess.run(
        ["runuser", "-u", "postgres", "--", f"{pg_bin}/pg_ctl", "-D", pg_data, "-m", "fast", "-w", "-t", "60",
         "-l", f"{pg_data}/server.log", "restart"],
        check=True, stdout=subprocess.DEVNULL,
    )
    assert wait_until(lambda: postgres_up(port), timeout=30), "PostgreSQL did not come back"


def when_broker_answers(publish, timeout=30.0):
    """Call publish() until it succeeds: after a Redis restart the producer's pooled connection
    may need one failed publish to notice it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return publish()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
