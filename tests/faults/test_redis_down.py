"""Redis (the Celery broker and the cache) really shut down while an officer validates at the counter."""

import logging
import time

import pytest
from django.urls import reverse

from procuration.models import OutboxEmail, ProcurationEvent, Status
from procuration.models.procuration import PieceType
from procuration.tasks import requeue_stuck_emails
from tests.factories import ElecteurFactory, ProcurationFactory
from tests.police._helpers import fiche_pk, text
from tests.services import redis_env, start_redis, stop_redis, wait_until, when_broker_answers

HOME = reverse("police:home")


@pytest.fixture
def demande(commune):
    return ProcurationFactory(
        en_attente=True, reference="R3D1SX", mandant=ElecteurFactory(commune=commune, nom="DUPONT"),
        email_contact="marie.dupont@example.fr",
    )


@pytest.fixture
def redis_stopped():
    """Redis down for the test's body; restarted (and answering) whatever happens."""
    port, scratch = redis_env()
    stop_redis(port)
    try:
        yield port
    finally:
        start_redis(port, scratch)


@pytest.mark.django_db(transaction=True)
def test_counter_validation_with_redis_down_then_email_sent_once_when_back(
    celery_worker, smtp_sink, settings, client, policier, demande, caplog
):
    port, scratch = redis_env()
    client.force_login(policier)
    stop_redis(port)
    try:
        with caplog.at_level(logging.WARNING):
            # Look the reference up (the rate limiter's cache is down), then validate.
            response = client.post(HOME, {"reference": "r3d1sx"})
            assert response.status_code == 302, text(response)[:2000]
            assert fiche_pk(response["Location"], policier) == demande.pk
            response = client.post(
                response["Location"],
                {"action": "valider", "piece_type": PieceType.CNI, "piece_numero_fin": "1234"},
                follow=True,
            )
        # The normal success page, not an error.
        assert response.status_code == 200
        # After a validation the officer lands on the act's page (récépissé to print: police:acte).
        assert response.redirect_chain == [(reverse("police:acte", args=[demande.pk]), 302)]
        assert "Procuration R3D1SX validée" in text(response)
        assert "Cache Redis unreachable" in caplog.text
        assert "Broker unavailable" in caplog.text

        # The state and its event are saved; the e-mail waits in the outbox.
        demande.refresh_from_db()
        assert demande.status == Status.VALIDEE_AUTORITE
        event = ProcurationEvent.objects.get(procuration=demande, to_status=Status.VALIDEE_AUTORITE)
        assert (event.from_status, event.actor) == (Status.EN_ATTENTE, policier)
        message = OutboxEmail.objects.get(procuration=demande)
        assert (message.kind, message.state, message.attempts) == ("validated_by_authority", "pending", 0)
        time.sleep(0.5)
        assert smtp_sink.messages == []
    finally:
        start_redis(port, scratch)

    # Redis is back: the periodic requeue hands the row to the real worker, which sends it.
    settings.OUTBOX_STUCK_AFTER_SECONDS = 0
    when_broker_answers(requeue_stuck_emails.delay)
    received = smtp_sink.wait_for(1, timeout=60)
    assert len(received) == 1
    assert received[0]["To"] == "marie.dupont@example.fr"
    assert received[0]["Message-ID"] == message.message_id
    assert wait_until(lambda: OutboxEmail.objects.get(pk=message.pk).state == OutboxEmail.State.SENT)
    message.refresh_from_db()
    assert message.attempts == 1
    # Requeue again: nothing more goes out.
    requeue_stuck_emails.delay()
    time.sleep(1.5)
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db
def test_lookup_rate_limit_still_applies_per_process_while_redis_is_down(
    client, policier, demande, settings, redis_stopped
):
    """The cache falls back to this process's memory: the counter stays open, lookups stay limited."""
    from django.core.cache import cache

    local_cache = cache.fallback
    local_cache.clear()
    settings.POLICE_LOOKUP_LIMIT = 2
    client.force_login(policier)
    try:
        assert client.post(HOME, {"reference": "R3D1SX"}).status_code == 302
        assert client.post(HOME, {"reference": "R3D1SX"}).status_code == 302
        response = client.post(HOME, {"reference": "R3D1SX"})
        assert response.status_code == 429
        assert "Trop de recherches" in text(response)
    finally:
        local_cache.clear()


@pytest.mark.django_db
def test_staff_login_with_password_and_totp_works_while_redis_is_down(client, policier, password, redis_stopped):
    """allauth's login rate limit and TOTP replay guard live in the cache: with Redis down the
    cache falls back to process memory and an officer can still log in (password, then code)."""
    from tests.factories import totp_code

    response = client.post(reverse("police:login"), {"login": policier.username, "password": password})
    assert response.status_code == 302, text(response)[:2000]
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(policier.totp_secret)})
    assert response.status_code == 302, text(response)[:2000]
    assert client.get(HOME).status_code == 200


@pytest.mark.django_db
def test_a_session_ended_while_redis_did_not_answer_does_not_come_back(client, policier, settings):
    """Sessions are read from a Redis copy (cached_db). Redis stops answering (CLIENT PAUSE: it
    keeps its data, as after a network cut) while the officer logs out: the database forgets the
    session, Redis still holds the old copy. When Redis answers again, the old cookie must not
    open the counter."""
    import redis as redis_client
    from django.test import Client

    port, _ = redis_env()
    client.force_login(policier)
    assert client.get(HOME).status_code == 200
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    redis_client.Redis(host="127.0.0.1", port=port).execute_command("CLIENT", "PAUSE", 2000, "ALL")
    client.logout()  # the cache delete times out: the process notes the key
    time.sleep(5.5)  # Redis answers again and the process's retry delay has passed

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("police:login"))
