"""The round trips of a transition (issue 16, docs/performance.md): the procuration locked once with
what the checks and e-mails read, no savepoint nor re-lock for the dossier's event, the delta feed's
row and the commune's webhook endpoints in one statement, the commune's automatic validation without
a query of its own. Still: the event chained, the Change row with its transaction, the outbox row,
in the same transaction."""

import re

import pytest
from django.db import connection
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from api.models import Change, WebhookDelivery, WebhookEndpoint
from procuration.audit import broken_links
from procuration.models import OutboxEmail, Procuration, ProcurationEvent, Status
from procuration.models.procuration import locked_with
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, UserFactory

# Read on their own, each was a query of the transition before; now joined to the locked row.
JOINED = ("procuration_electeur", "procuration_commune", "procuration_scrutin", "procuration_bureaudevote")


def _from(sql: str) -> str:
    match = re.search(r'\bFROM "(\w+)"', sql)
    return match.group(1) if match else ""


def _statements(action):
    with CaptureQueriesContext(connection) as captured:
        action()  # inside the test's transaction: the transition's BEGIN is a SAVEPOINT here
    return [q["sql"] for q in captured]


def _assert_lean(sql: list[str]):
    locks = [s for s in sql if "FOR UPDATE" in s and _from(s) == "procuration_procuration"]
    assert len(locks) == 1, locks  # the procuration, once: no re-lock for its event
    assert all(f'"{table}"' in locks[0] for table in JOINED if table != "procuration_bureaudevote"), locks[0]
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1, sql  # one rollback point: the transition's
    # (the plafond's lock on the mandataire, procuration.checks, stays: SELECT … FOR UPDATE)
    assert not [s for s in sql if s.startswith("SELECT") and _from(s) in JOINED and "FOR UPDATE" not in s], sql
    assert not [s for s in sql if "api_webhookendpoint" in s and not s.startswith("INSERT INTO")], sql
    changes = [s for s in sql if s.startswith('INSERT INTO "api_change"')]
    assert len(changes) == 1 and "api_webhookendpoint" in changes[0]


@pytest.mark.django_db
@pytest.mark.parametrize("auto_validation", [False, True])
def test_a_counter_validation_locks_once_and_reads_the_related_rows_with_the_lock(commune, policier, auto_validation):
    commune.auto_validation = auto_validation
    commune.save()
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    sql = _statements(lambda: p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="AB12"))
    if auto_validation:  # valider_mairie in a savepoint: its own lock, and its own Change row
        assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_MAIRIE
        assert len([s for s in sql if "FOR UPDATE" in s and _from(s) == "procuration_procuration"]) == 2
        assert not [s for s in sql if s.startswith("SELECT") and _from(s) == "procuration_commune"], sql
    else:
        _assert_lean(sql)
        assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_AUTORITE
    events = list(ProcurationEvent.objects.filter(dossier=p.pk).order_by("seq").values_list("seq", "to_status"))
    assert events[:1] == [(1, Status.VALIDEE_AUTORITE)] and len(events) == (2 if auto_validation else 1)
    assert not list(broken_links())
    assert OutboxEmail.objects.filter(procuration=p, kind="validated_by_authority").count() == 1
    change = Change.objects.filter(object_id=p.pk, event="procuration.valider_autorite").get()
    assert change.tx is not None and change.commune_id == commune.pk


@pytest.mark.django_db
def test_a_mairie_validation_locks_once_and_reads_the_related_rows_with_the_lock(commune, agent_mairie):
    p = ProcurationFactory(validee_autorite=True, mandant=ElecteurFactory(commune=commune))
    sql = _statements(lambda: p.valider_mairie(by=agent_mairie))
    _assert_lean(sql)
    assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_MAIRIE
    assert OutboxEmail.objects.filter(procuration=p, kind="mairie_decision").count() == 1
    assert ProcurationEvent.objects.filter(dossier=p.pk, to_status=Status.VALIDEE_MAIRIE).count() == 1
    assert not list(broken_links())
    # The procuration keeps the rows read under the lock: the view's message and e-mail use them.
    with CaptureQueriesContext(connection) as after:
        assert (p.commune.nom, p.mandataire.commune.nom, p.mandant.bureau.nom) == (commune.nom, commune.nom, "Bureau 1")
    assert len(after) == 0


@pytest.mark.django_db
def test_the_change_row_and_one_delivery_per_active_endpoint_of_the_commune(commune, policier, agent_mairie):
    other = CommuneFactory(nom="Cordes-sur-Ciel", code_insee="81069")
    active = [WebhookEndpoint.objects.create(commune=commune, url=f"https://logiciel.example.fr/{i}", secret="whsec_x",
                                             created_by=agent_mairie) for i in range(2)]
    WebhookEndpoint.objects.create(commune=commune, url="https://logiciel.example.fr/off", secret="whsec_x",
                                   created_by=agent_mairie, active=False)
    WebhookEndpoint.objects.create(commune=other, url="https://ailleurs.example.fr/", secret="whsec_x",
                                   created_by=agent_mairie)
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="AB12")
    change = Change.objects.get(object_id=p.pk)
    assert (change.kind, change.event, change.state) == ("procuration", "procuration.valider_autorite",
                                                         Status.VALIDEE_AUTORITE)
    deliveries = WebhookDelivery.objects.filter(change=change)
    assert sorted(deliveries.values_list("endpoint_id", flat=True)) == sorted(e.pk for e in active)
    assert all(d.msg_id.startswith("msg_") and d.state == "pending" for d in deliveries)


@pytest.mark.django_db(transaction=True)
def test_lock_held_outside_a_transaction_is_refused():
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=CommuneFactory()))
    with pytest.raises(TransactionManagementError):
        ProcurationEvent.append(p, from_status=Status.EN_ATTENTE, to_status=Status.EN_ATTENTE, lock_held=True)
    assert not ProcurationEvent.objects.filter(dossier=p.pk).exists()


def test_the_locked_row_comes_with_what_the_checks_read():
    from procuration.checks import RELATED

    assert set(RELATED) <= set(locked_with()) and "commune" in locked_with()


@pytest.mark.django_db
def test_a_demande_filed_locks_once(commune):
    user = UserFactory()
    p = ProcurationFactory(mandant=ElecteurFactory(commune=commune))  # brouillon
    sql = _statements(lambda: p.soumettre(by=user))
    assert Procuration.objects.get(pk=p.pk).status == Status.EN_ATTENTE
    assert len([s for s in sql if "FOR UPDATE" in s and _from(s) == "procuration_procuration"]) == 1
    assert not [s for s in sql if s.startswith("SELECT") and "FOR UPDATE" not in s
                and _from(s) in ("procuration_electeur", "procuration_commune")], sql
    assert OutboxEmail.objects.filter(procuration=p, kind="reference_issued").count() == 1


@pytest.mark.django_db
def test_a_resiliation_asked_online_locks_once_and_appends_its_event_without_a_savepoint(commune):
    user = UserFactory()
    p = ProcurationFactory(validee_autorite=True, mandant=ElecteurFactory(commune=commune))
    sql = _statements(lambda: p.demander_resiliation(by=user))
    assert len([s for s in sql if "FOR UPDATE" in s and _from(s) == "procuration_procuration"]) == 1, sql
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1, sql  # its own atomic block's, in the test's
    assert list(ProcurationEvent.objects.filter(dossier=p.pk).values_list("seq", "from_status", "to_status")) == [
        (1, Status.VALIDEE_AUTORITE, Status.VALIDEE_AUTORITE)]
