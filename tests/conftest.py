import os
import threading

import django.test
import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, CommuneFactory, ElecteurFactory, UserFactory

# ------------------------------------------------------------------ basics


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and sessions live in the cache (Redis under scripts/test.sh), the DSFR
    site configuration in each process: start each test clean."""
    from procuration.context_processors import forget_site_config

    cache.clear()
    forget_site_config()
    # The in-process Celery worker (celery_worker below) sets Celery's process-wide « a join would
    # block » flag when its pool starts, and again when it reconnects after a test stopped Redis;
    # the eager tasks of every other test run in this process, whose result.get() it then refuses
    # (« Never call result.get() within a task! »). It belongs to worker processes: cleared here.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


class Client(django.test.Client):
    """Django's test client; force_login opens the session with the user's kind of login, as the
    real login does (procuration/adapters.py AccountAdapter.login): electors through the OpenID
    Connect backend, staff through the password one. A password session of an elector is refused
    (tests/security/test_doors.py proves it by passing the backend explicitly)."""

    def force_login(self, user, backend=None):
        from procuration.access import OIDC_BACKEND, logs_in_with_oidc

        if backend is None and logs_in_with_oidc(user):
            backend = OIDC_BACKEND
        super().force_login(user, backend)


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def commune(db):
    return CommuneFactory(nom="Almayrac", code_insee="81005")


@pytest.fixture
def other_commune(db):
    return CommuneFactory(nom="Loisieux", code_insee="38214")


# One user per role.
@pytest.fixture
def mandant_electeur(commune):
    return ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", date_naissance="1980-05-12")


@pytest.fixture
def mandant_user(mandant_electeur):
    e = mandant_electeur
    return UserFactory(
        username="mandant-a", first_name=e.prenoms, last_name=e.nom, birthdate=e.date_naissance, gender=e.sexe,
        birthplace=e.code_lieu_naissance, birthcountry=e.code_pays_naissance, email="marie.dupont@example.fr",
    )


@pytest.fixture
def mandant_b(db):
    return UserFactory(username="mandant-b", email="b@example.fr")


@pytest.fixture
def policier(db):
    return UserFactory(username="opj", policier=True, first_name="Julie", last_name="Martin")


@pytest.fixture
def agent_mairie(commune):
    return UserFactory(username="agent-a", agent_mairie=True, commune=commune)


@pytest.fixture
def agent_mairie_b(other_commune):
    return UserFactory(username="agent-b", agent_mairie=True, commune=other_commune)


@pytest.fixture
def commune_admin(commune):
    return UserFactory(username="admin-a", commune_admin=True, commune=commune)


@pytest.fixture
def agent_listes(commune):
    return UserFactory(username="listes-a", agent_listes=True, commune=commune)


@pytest.fixture
def admin_national(db):
    return UserFactory(username="national", admin_national=True)


# ------------------------------------------------------------------ browser (Playwright on Debian's Chromium)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


# ------------------------------------------------------------------ real Celery worker


@pytest.fixture(scope="session")
def _celery_session_worker(django_db_setup, django_db_blocker):
    """A real Celery worker (threads pool) consuming from the Redis broker of scripts/test.sh."""
    from celery.contrib.testing.worker import start_worker

    from procuration.celery import app

    if not app.conf.broker_url or app.conf.broker_url.startswith("memory"):
        pytest.skip("CELERY_BROKER_URL is not set: run through scripts/test.sh")
    with django_db_blocker.unblock():
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20):
            yield app


@pytest.fixture
def celery_worker(_celery_session_worker):
    """Use with @pytest.mark.django_db(transaction=True): tasks go through Redis to the worker."""
    app = _celery_session_worker
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous


# ------------------------------------------------------------------ local SMTP sink


class SmtpSink:
    def __init__(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        self.messages = []
        self.greetings = 0  # EHLO/HELO received: one per SMTP connection a client opens
        self.lock = threading.Lock()
        self.refuse_next = 0  # answer 451 (temporary) to this many messages
        self.reject_next = 0  # answer 550 (permanent) to this many messages
        sink = self

        class Handler(Message):
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                with sink.lock:
                    sink.greetings += 1
                session.host_name = hostname
                return responses

            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    if sink.refuse_next > 0:
                        sink.refuse_next -= 1
                        return "451 4.3.0 Temporary failure, try again later"
                    if sink.reject_next > 0:
                        sink.reject_next -= 1
                        return "550 5.1.1 Mailbox unavailable"
                return await super().handle_DATA(server, session, envelope)

            def handle_message(self, message):
                with sink.lock:
                    sink.messages.append(message)

        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20.0):
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on loopback; Django's SMTP backend is pointed at it."""
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    yield sink
    sink.stop()


