import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mairie import prechecks
from procuration import checks
from procuration.models import Electeur, Liste, Portee, Procuration, ScrutinType, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


def test_bulk_prechecks_match_checks_evaluate(commune, other_commune):
    now = timezone.now()
    presidentielle = ScrutinFactory(type=ScrutinType.PRESIDENTIELLE)
    busy = ElecteurFactory(commune=commune)
    tuteur = ElecteurFactory(commune=commune)
    rows = [
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune)),
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=other_commune)),
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune, deces=True)),
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                           mandataire=ElecteurFactory(commune=commune, inscrit=False)),
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune, sous_tutelle=True,
                                                                                           tuteur=tuteur), mandataire=tuteur),
        ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                           scrutin=presidentielle, mandataire=ElecteurFactory(commune=commune, liste=Liste.COMPLEMENTAIRE)),
    ]
    # Durée limitée covering the présidentielle, with a mandataire on a liste complémentaire.
    rows.append(ProcurationFactory(
        validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune), portee=Portee.DUREE,
        scrutin=None, valid_from=presidentielle.date_tour1 - datetime.timedelta(days=3),
        valid_until=presidentielle.date_tour1 + datetime.timedelta(days=30),
        mandataire=ElecteurFactory(commune=commune, liste=Liste.COMPLEMENTAIRE),
    ))
    # Plafond: the busy mandataire's first (France) stands, the later ones exceed it.
    s = ScrutinFactory()
    for i in range(3):
        rows.append(ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                                       mandataire=busy, scrutin=s, autorite_at=now - datetime.timedelta(hours=3 - i)))
    # Doublon: the same mandant twice on the same dates.
    m = ElecteurFactory(commune=commune)
    rows.append(ProcurationFactory(validee_autorite=True, commune=commune, mandant=m, scrutin=s))
    rows.append(ProcurationFactory(en_attente=True, commune=commune, mandant=m, scrutin=s))

    loaded = list(Procuration.objects.filter(pk__in=[p.pk for p in rows]).select_related(*prechecks.QUEUE_RELATED))
    verdicts = prechecks.evaluate_page(loaded)
    seen = set()
    for p in loaded:
        assert verdicts[p.pk].results == checks.evaluate(p), p.reference
        seen.update(r.code for r in verdicts[p.pk].results if not r.ok)
    assert seen == {"mandant_inscrit", "mandataire_inscrit", "plafond", "doublon", "tutelle", "liste_complementaire"}


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
                                                                    django_assert_num_queries):
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
