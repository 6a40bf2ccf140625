"""/healthz and /readyz (procuration/health.py)."""

import pytest
from django.db import connection

from procuration import health


@pytest.fixture(autouse=True)
def _fresh_migration_check():
    health.forget_migration_check()
    yield
    health.forget_migration_check()


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: a query would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_every_component(client, settings):
    if not (settings.REDIS_CACHE_URL and settings.CELERY_BROKER_URL):
        pytest.skip("run through scripts/test.sh")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"postgresql": "ok", "migrations": "ok", "redis": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_reads_the_migration_table_once_per_process(client, django_assert_num_queries):
    with django_assert_num_queries(3):  # SELECT 1, then the migration table (exists? rows)
        assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):  # SELECT 1 only: migrations were applied, it stays so
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_names_a_missing_migration(client):
    with connection.cursor() as cursor:  # rolled back at the end of the test
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'procuration' AND name = "
            "(SELECT max(name) FROM django_migrations WHERE app = 'procuration')"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["migrations"]
    assert response.json()["checks"]["postgresql"] == "ok"


def test_readyz_refuses_post(client):
    assert client.post("/readyz").status_code == 405
