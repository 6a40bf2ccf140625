"""One JSON line per request and per task, the request id carried into the tasks, no personal
data in the logs (procuration/observability.py)."""

import datetime
import json
import logging
import re

import pytest
from django.urls import reverse

from procuration.models import Procuration, Status
from procuration.observability import JsonFormatter
from tests.conftest import Client
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.police._helpers import fiche_pk

FORMATTER = JsonFormatter()


def lines(caplog, logger=None) -> list[dict]:
    return [json.loads(FORMATTER.format(r)) for r in caplog.records if logger is None or r.name == logger]


@pytest.mark.django_db
def test_request_line_with_the_incoming_request_id(client, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("accessibilite"), HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"
    [line] = lines(caplog, "procuration.request")
    assert line["request_id"] == "lb-7f3a9c21-0001"
    assert (line["event"], line["method"], line["view"], line["route"], line["status"], line["level"]) == (
        "request", "GET", "accessibilite", "accessibilite/", 200, "INFO")
    assert isinstance(line["duration_ms"], float) and line["user_id"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["", "short", "has space 1234567", "x" * 200, 'quo"te-123456789', "é-123456789"])
def test_a_malformed_request_id_is_replaced(client, caplog, incoming):
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("accessibilite"), HTTP_X_REQUEST_ID=incoming)
    generated = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert [line["request_id"] for line in lines(caplog, "procuration.request")] == [generated]


@pytest.mark.django_db
def test_each_request_gets_its_own_id(client):
    ids = {client.get(reverse("accessibilite"))["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.django_db
def test_probes_and_metrics_are_not_logged_at_info(client, caplog):
    with caplog.at_level(logging.INFO):
        for url in ("/healthz", "/readyz", "/metrics"):
            assert client.get(url).status_code == 200
    assert lines(caplog, "procuration.request") == []
    with caplog.at_level(logging.DEBUG, logger="procuration.request"):
        client.get("/healthz")
    assert [(line["view"], line["level"]) for line in lines(caplog, "procuration.request")] == [("healthz", "DEBUG")]


@pytest.mark.django_db
def test_logged_in_user_is_named_by_id_only(client, policier, caplog):
    client.force_login(policier)
    with caplog.at_level(logging.INFO):
        client.get(reverse("police:home"))
    [line] = lines(caplog, "procuration.request")
    assert line["user_id"] == policier.pk
    assert "opj" not in json.dumps(line) and "Martin" not in json.dumps(line)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_request_id_travels_through_the_broker_into_the_task(celery_worker, commune, policier, caplog):
    from tests.services import wait_until

    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune), email_contact="m@example.fr")
    officer = Client()
    officer.force_login(policier)
    found = officer.post(reverse("police:home"), {"reference": p.reference})
    with caplog.at_level(logging.INFO):
        response = officer.post(found["Location"], {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"},
                                HTTP_X_REQUEST_ID="counter-req-000042")
        assert response.status_code == 302
        assert wait_until(lambda: any(line["task"].endswith("drain_outbox")
                                      for line in lines(caplog, "procuration.task")), timeout=30)
    [task] = [line for line in lines(caplog, "procuration.task") if line["task"].endswith("drain_outbox")]
    assert (task["request_id"], task["state"], task["event"]) == ("counter-req-000042", "SUCCESS", "task")
    assert task["task_id"] and isinstance(task["duration_ms"], float)


@pytest.mark.django_db(transaction=True)
def test_a_whole_flow_logs_no_personal_data(
    commune, policier, agent_mairie, mandant_user, mandant_electeur, caplog, mailoutbox, settings,
):
    """Mandant's demande, counter validation, mairie validation, the e-mails sent by the tasks
    (eager, run on commit inside each request): every log line is JSON and names none of the
    people involved; each task line carries the id of the request that queued it."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("eager tasks expected (scripts/test.sh)")
    scrutin = ScrutinFactory(libelle="Municipales de test")
    mandataire = ElecteurFactory(nne="123456789", nom="LAMBERT", prenoms="Paul", sexe="M",
                                 date_naissance=datetime.date(1975, 2, 3), commune=commune)
    policier.first_name, policier.last_name, policier.email = "Julie", "Martin", "julie.martin@interieur.example"
    policier.save()
    agent_mairie.first_name, agent_mairie.last_name = "Sophie", "Bernard"
    agent_mairie.save()

    mandant, officer, mairie = Client(), Client(), Client()
    mandant.force_login(mandant_user)
    officer.force_login(policier)
    mairie.force_login(agent_mairie)
    with caplog.at_level(logging.INFO):
        mandant.post(reverse("mandant:demande_validite"), {"portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on",
                                                           "tour2": "on", "etablissement": "france"})
        mandant.get(reverse("mandant:verifier_mandataire"),
                    {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-03"})
        mandant.post(reverse("mandant:demande_mandataire"),
                     {"mode": "nne", "nne": "123 456 789", "date_naissance_nne": "1975-02-03"})
        mandant.post(reverse("mandant:demande_recapitulatif"),
                     {"email_contact": "marie.contact@example.fr", "attestation": "on"})
        p = Procuration.objects.get()
        found = officer.post(reverse("police:home"), {"reference": p.reference})
        assert fiche_pk(found["Location"], policier) == p.pk
        officer.post(found["Location"], {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"})
        mairie.post(reverse("mairie:validate", args=[p.pk]))
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE
    assert len(mailoutbox) >= 3  # reference, counter validation, mairie validation: sent by the tasks

    logged = lines(caplog)
    requests = [line for line in logged if line["logger"] == "procuration.request"]
    tasks = [line for line in logged if line["logger"] == "procuration.task"]
    assert len(requests) == 7 and len({line["request_id"] for line in requests}) == 7
    assert len(tasks) == len(mailoutbox)
    # Each task carries the id of the request that queued it.
    assert {line["request_id"] for line in tasks} <= {line["request_id"] for line in requests}

    text = "\n".join(FORMATTER.format(r) for r in caplog.records).casefold()
    people = [mandant_electeur, mandataire]
    secrets = {e.nne for e in people} | {e.nom for e in people} | {n for e in people for n in e.prenoms.split()}
    secrets |= {"marie.contact@example.fr", mandant_user.email, mandant_user.last_name, policier.email,
                policier.last_name, policier.first_name, agent_mairie.last_name, agent_mairie.first_name,
                agent_mairie.email, "1975-02-03", "123 456 789"}
    leaked = sorted(s for s in secrets if s and s.casefold() in text)
    assert leaked == [], leaked
