"""The web and worker processes' PostgreSQL connections run without JIT compilation (issue 16:
a plan whose estimate passed jit_above_cost paid ≈ 20 ms of compilation per run); DB_JIT=true
gives the server's own setting back."""

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


@pytest.mark.parametrize(("value", "expected"), [(None, "-c jit=off"), ("true", None)])
def test_db_jit_decides_the_connection_option(value, expected):
    env = {**os.environ, "DATABASE_URL": "postgres://u@127.0.0.1:5/db", "DJANGO_SETTINGS_MODULE": "procuration.settings"}
    env.pop("DB_JIT", None)
    if value is not None:
        env["DB_JIT"] = value
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('options'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(expected)
