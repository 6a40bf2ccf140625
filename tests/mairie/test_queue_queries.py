"""The queue page: a constant number of queries whatever the number of procurations."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procuration.models import Electeur, Procuration, Status
from tests.factories import ElecteurFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


def _bulk_waiting(commune, n, offset=0):
    """n procurations waiting for the mairie, inserted in bulk (factories would take minutes)."""
    s = ScrutinFactory()
    base = ElecteurFactory(commune=commune)
    electeurs = Electeur.objects.bulk_create([
        Electeur(nne=f"{700000000 + offset + i:09d}", nom=f"NOM{i}", prenoms="Jean", sexe="M", date_naissance=datetime.date(1970, 1, 1),
                 commune=commune, bureau=base.bureau)
        for i in range(2 * n)
    ])
    now = timezone.now()
    Procuration.objects.bulk_create([
        Procuration(
            reference=f"Q{offset + i:05d}", status=Status.VALIDEE_AUTORITE, mandant=electeurs[2 * i], mandataire=electeurs[2 * i + 1],
            commune=commune, scrutin=s, tour1=True, tour2=True, valid_from=s.date_tour1, valid_until=s.date_tour2,
            submitted_at=now, autorite_at=now - datetime.timedelta(minutes=i), autorite_label="MARTIN Julie",
        )
        for i in range(n)
    ], batch_size=2000)


def test_queue_page_query_count_is_constant_with_10000_procurations(client, agent_mairie, commune,
                                                                    django_assert_num_queries, monkeypatch):
    # The DSFR site config is kept per process for SITE_CONFIG_TTL seconds: inserting 10 000 rows on a
    # loaded machine can outlast it and add its two queries. Not what this test measures.
    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    client.force_login(agent_mairie)
    _bulk_waiting(commune, 5)
    client.get(reverse("mairie:queue"))  # the session's first request checks the TOTP and caches the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("mairie:queue")).status_code == 200
    Procuration.objects.all().delete()
    _bulk_waiting(commune, 10_000, offset=50_000)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("mairie:queue"))
    assert response.status_code == 200
    assert "10000 procurations" in response.content.decode()
    # And with filters and on a later page.
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("mairie:queue"), {"page": 3, "age": "1", "status": "validee_autorite"})
    assert response.status_code == 200


def test_queue_page_of_50_rows_with_their_checks_runs_at_most_7_queries(client, agent_mairie, commune,
                                                                       django_assert_max_num_queries, monkeypatch):
    """The user, the count, the rows (their columns only), the checks' one (the mandataires' and the
    mandants' binding procurations together), the filters' scrutins and bureaux, the agent's mandat
    (the menu). Not the commune: the filters need only its pk (issue 16; 9 before)."""
    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    client.force_login(agent_mairie)
    _bulk_waiting(commune, 60)
    client.get(reverse("mairie:queue"))
    with django_assert_max_num_queries(7):
        response = client.get(reverse("mairie:queue"))
    assert response.status_code == 200 and response.content.decode().count('<tr data-reference="') == 50
