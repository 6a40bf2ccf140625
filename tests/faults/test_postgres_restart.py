"""PostgreSQL really restarted (pg_ctl restart -m fast) between two requests of one web process.

The requests go through Django's WSGI handler in this thread, as a gunicorn sync worker serves
them: request_started / request_finished run close_old_connections, so the persistent connection
(CONN_MAX_AGE) is kept between requests. Django's test Client is not used here: it disconnects
close_old_connections around each request, which would skip the very mechanism under test.
"""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.services import postgres_env, restart_postgres

HOME = reverse("police:home")


@pytest.fixture
def persistent_connection():
    """The production settings of the default connection: kept 60 s, health-checked per request."""
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()  # the next connection is opened with the settings below
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    yield connection.settings_dict
    connection.close()
    connection.settings_dict.update(saved)


@pytest.fixture
def officer_cookie(policier):
    client = Client()
    client.force_login(policier)
    return "; ".join(f"{morsel.key}={morsel.value}" for morsel in client.cookies.values())


def wsgi_get(handler, path, cookie):
    """One request through the WSGI interface, closed as a WSGI server closes it."""
    environ = RequestFactory().get(path, HTTP_COOKIE=cookie).environ
    status = []
    response = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(response)
    finally:
        response.close()  # sends request_finished
    return int(status[0].split()[0]), body.decode()


def backend_pid():
    return connection.connection.info.backend_pid if connection.connection is not None else None


@pytest.mark.django_db(transaction=True)
def test_next_request_after_postgres_restart_answers(persistent_connection, officer_cookie):
    pg_bin, pg_data, port = postgres_env()
    handler = WSGIHandler()

    # The counter page (session, user and MFA authenticator read from PostgreSQL).
    status, body = wsgi_get(handler, HOME, officer_cookie)
    assert status == 200 and "Référence" in body
    before = backend_pid()
    assert before is not None, "the connection was not kept: the test would prove nothing"

    restart_postgres(pg_bin, pg_data, port)

    # The stale connection is detected at the first query of the request and replaced.
    status, body = wsgi_get(handler, HOME, officer_cookie)
    assert status == 200 and "Référence" in body
    assert backend_pid() not in (None, before)


@pytest.mark.django_db(transaction=True)
def test_without_health_checks_one_request_fails_after_a_restart(persistent_connection, officer_cookie, caplog):
    """Why settings.py sets CONN_HEALTH_CHECKS: without it the first request after a restart
    uses the dead connection and fails; only the request after it gets a new one."""
    pg_bin, pg_data, port = postgres_env()
    persistent_connection["CONN_HEALTH_CHECKS"] = False
    connection.close()  # read when connecting
    handler = WSGIHandler()
    assert wsgi_get(handler, HOME, officer_cookie)[0] == 200

    restart_postgres(pg_bin, pg_data, port)

    assert wsgi_get(handler, HOME, officer_cookie)[0] == 500
    errors = [r.exc_info[1] for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert errors and all(isinstance(e, (OperationalError, InterfaceError)) for e in errors)
    assert wsgi_get(handler, HOME, officer_cookie)[0] == 200
