"""The fiche of the counter in a pinned number of statements (issue 16): the session's user, the
procuration with its five related rows by one statement written once per process (police/views.py
_FICHE, procuration/fixed_select.py), not a query the ORM builds on every request, and the
consultation's audit entry in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procuration.models import AuditLog
from tests.factories import ElecteurFactory, ProcurationFactory
from tests.police._helpers import fiche_url, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client, policier):
    client.force_login(policier)
    client.get(reverse("police:home"))  # the session remembers the TOTP check; the site's config is cached
    AuditLog.record(policier, "test.ouverture", None)  # the chain's head exists (tests/police/test_lookup_queries.py)
    return client


def test_the_fiche_reads_the_procuration_by_one_fixed_statement(officer_client, policier, commune):
    mandataire = ElecteurFactory(commune=commune, nom="LAMBERT", prenoms="Paul")
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune),
                           mandataire=mandataire)
    with CaptureQueriesContext(connection) as captured:
        response = officer_client.get(fiche_url(policier, p.pk))
    sql = [q["sql"] for q in captured]
    assert response.status_code == 200
    # user; the procuration and its related rows; the audit entry: savepoint (the test's transaction),
    # head locked + entry + head, release.
    assert len(sql) == 5, sql
    assert sql[1].startswith("SELECT t.") and 'FROM "procuration_procuration" t ' in sql[1], sql[1]
    assert 'JOIN "procuration_commune"' in sql[1] and 'JOIN "procuration_scrutin"' in sql[1]
    assert not any('FROM "procuration_procuration" WHERE' in s or '"procuration_procuration"."id" = ' in s
                   for s in sql), sql
    page = text(response)
    assert "K7M2QX" in page and f"Paul LAMBERT, né(e) le 15/01/1980, inscrit(e) à {commune.nom}" in page
    assert AuditLog.objects.filter(action="police.consultation", object_id=str(p.pk)).count() == 1


def test_a_fiche_whose_procuration_is_gone_answers_404(officer_client, policier):
    assert officer_client.get(fiche_url(policier, 987654)).status_code == 404
