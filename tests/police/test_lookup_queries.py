"""The lookup at the counter in a fixed number of statements: the session's user, the procuration by
one fixed statement on the reference's index (police/services.py _find), the audit entry in one
statement that locks the chain's head, writes the entry and moves the head (procuration/models/audit.py;
issue 16, docs/performance.md). In production there is no transaction around it (a single round trip);
here the test's transaction makes it a savepoint, as any caller's transaction would."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from police import services
from procuration.models import AuditLog, Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory, set_status

HOME = reverse("police:home")
FIXED = ('SELECT "id", "status", "submitted_at", "resiliation_demandee_at" FROM "procuration_procuration" '
         'WHERE "reference" = ')


@pytest.fixture
def officer_client(client, policier):
    client.force_login(policier)
    client.get(HOME)  # the session remembers the TOTP check (procuration/access.py)
    # The chain's head exists, as after the migrations: a transactional test's flush in an earlier run
    # of a reused test database (--reuse-db, scripts/mutation.sh) deletes it, and the first entry
    # would then take the path that creates it (11 statements instead of 5).
    AuditLog.record(policier, "test.ouverture", None)
    return client


def _statements(client, raw):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(HOME, {"reference": raw})
    return response, [q["sql"] for q in captured]


@pytest.mark.django_db
@pytest.mark.parametrize("status,expected", [(Status.EN_ATTENTE, "trouvee"), (Status.VALIDEE_MAIRIE, "validee_mairie"),
                                             (Status.BROUILLON, "inconnue")])
def test_a_lookup_runs_five_statements_the_procuration_by_one_fixed_one(officer_client, commune, policier, status,
                                                                       expected):
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune))
    set_status(p, status)
    response, sql = _statements(officer_client, "k7m-2qx")
    assert response.status_code == (302 if expected == "trouvee" else 200)
    # user; procuration; the audit entry: savepoint (the test's transaction), head locked + entry + head, release.
    assert len(sql) == 5, sql
    assert sql[0].startswith('SELECT "procuration_user"."id"') and 'EXISTS(SELECT 1 AS "a" FROM "elus_mandat"' in sql[0]  # procuration.auth: the user and the mandat
    assert sql[1] == FIXED + "'K7M2QX'"
    assert sql[2].startswith("SAVEPOINT") and sql[4].startswith("RELEASE SAVEPOINT")
    assert sql[3].startswith('WITH head AS (SELECT seq, hash FROM "procuration_chainhead"') and "FOR UPDATE" in sql[3]
    assert 'INSERT INTO "procuration_auditlog"' in sql[3] and 'UPDATE "procuration_chainhead"' in sql[3]
    log = AuditLog.objects.filter(action="police.lookup").get()
    assert (log.actor, log.detail["resultat"]) == (policier, expected)
    assert log.object_id == ("" if expected == "inconnue" else str(p.pk))


@pytest.mark.django_db
def test_an_unknown_reference_is_one_statement_too(officer_client):
    response, sql = _statements(officer_client, "ZZZ999")
    assert response.status_code == 200
    assert len(sql) == 5 and sql[1] == FIXED + "'ZZZ999'"


@pytest.mark.django_db
def test_the_fixed_statement_gives_the_instance_only_would(commune):
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune),
                           resiliation_demandee_at=None)
    Procuration.objects.filter(pk=p.pk).update(submitted_at=p.submitted_at - datetime.timedelta(days=3))
    found = services._find("K7M2QX")
    expected = Procuration.objects.only(*services.LOOKUP_FIELDS).get(reference="K7M2QX")
    for name in services.LOOKUP_FIELDS:
        assert getattr(found, name) == getattr(expected, name), name
    assert found.get_deferred_fields() == expected.get_deferred_fields()
    assert found._state.adding is False and found._state.db == "default"
    assert found.statut_effectif == Status.EN_ATTENTE
    assert services._find("ABCDEF") is None
