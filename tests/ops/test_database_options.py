"""The web and worker processes' PostgreSQL connections (issue 16):
- run without JIT compilation (a plan whose estimate passed jit_above_cost paid ≈ 20 ms of
  compilation per run); DB_JIT=true gives the server's own setting back;
- prepare a statement run 5 times (DB_PREPARE_THRESHOLD), so PostgreSQL stops planning it on every
  run (Django turns prepared statements off unless asked); DB_PREPARE_THRESHOLD=off for a
  transaction-mode pooler;
- are PostgreSQL's: another DATABASE_URL stops the start with a French message, not at the first
  connection with psycopg's keywords refused by another driver."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_connection_runs_without_jit():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def _option(name: str, option: str, value: str | None) -> str:
    """OPTIONS[option] of the settings read with the environment variable `name` unset or set to value."""
    env = {**os.environ, "DATABASE_URL": "postgres://u@127.0.0.1:5/db", "DJANGO_SETTINGS_MODULE": "procuration.settings"}
    env.pop(name, None)
    if value is not None:
        env[name] = value
    code = f"from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get({option!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize(("value", "expected"), [(None, "-c jit=off"), ("true", None)])
def test_db_jit_decides_the_connection_option(value, expected):
    assert _option("DB_JIT", "options", value) == str(expected)


@pytest.mark.django_db
def test_a_statement_run_more_than_five_times_is_prepared():
    """The run after the fifth of a statement on a connection prepares it: PostgreSQL lists it in
    pg_prepared_statements and plans it no more (Django's default leaves the list empty)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    sql = "SELECT id FROM procuration_commune WHERE id = %s AND code_insee <> 'prepared-statement-test'"
    with connection.cursor() as cursor:
        assert connection.connection.prepare_threshold == 5
        for run in range(6):
            cursor.execute(sql, [run])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%prepared-statement-test%"])
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(("value", "expected"), [(None, "5"), ("0", "0"), ("off", "None"), ("none", "None")])
def test_db_prepare_threshold_decides_the_connection_option(value, expected):
    assert _option("DB_PREPARE_THRESHOLD", "prepare_threshold", value) == expected


def test_a_bad_prepare_threshold_stops_the_start():
    env = {**os.environ, "DATABASE_URL": "postgres://u@127.0.0.1:5/db", "DJANGO_SETTINGS_MODULE": "procuration.settings",
           "DB_PREPARE_THRESHOLD": "cinq"}
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; settings.DATABASES"], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "DB_PREPARE_THRESHOLD='cinq' : nombre entier attendu." in out.stderr


@pytest.mark.parametrize("url", ["sqlite:////tmp/procuration.sqlite3", "mysql://u:secret@127.0.0.1/db"])
def test_a_database_url_other_than_postgresql_stops_the_start(url):
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "procuration.settings"}
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; settings.DATABASES"], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert out.returncode != 0
    scheme = url.split(":", 1)[0]
    assert f"DATABASE_URL : une base PostgreSQL est attendue (postgres://…), pas {scheme!r}" in out.stderr
    assert "secret" not in out.stderr  # the URL's password is never printed
