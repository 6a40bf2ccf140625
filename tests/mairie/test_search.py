"""The mairie searches its procurations (every status) and exports the queue and the results in CSV."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mairie.models import ExportJob
from procuration.models import Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory
from tests.police._helpers import text

pytestmark = pytest.mark.django_db
SEARCH = reverse("mairie:search")


@pytest.fixture
def dossiers(commune, other_commune):
    eloise = ElecteurFactory(commune=commune, nom="Lecœur", prenoms="Éloïse Marie", nne="123456789",
                             date_naissance=datetime.date(1975, 3, 9))
    return {
        "waiting": ProcurationFactory(validee_autorite=True, commune=commune, mandant=eloise, reference="K7M2QX"),
        "done": ProcurationFactory(validee_mairie=True, commune=commune, reference="H3P9ZT",
                                   mandataire=ElecteurFactory(commune=commune, nom="LECOEUR", prenoms="Éloïse")),
        "refused": ProcurationFactory(en_attente=True, status=Status.REFUSEE_AUTORITE, commune=commune,
                                      reference="R4W8NB", mandant=ElecteurFactory(commune=commune, nom="Durand",
                                                                                   date_naissance=datetime.date(1990, 7, 1))),
        # Same name, another commune: never shown.
        "foreign": ProcurationFactory(validee_autorite=True, reference="Z9Z9Z9",
                                      mandant=ElecteurFactory(commune=other_commune, nom="LECŒUR", prenoms="Éloïse")),
    }


def _refs(response) -> set[str]:
    html = text(response)
    return {r for r in ("K7M2QX", "H3P9ZT", "R4W8NB", "Z9Z9Z9") if f'data-reference="{r}"' in html}


@pytest.mark.parametrize(("params", "found"), [
    ({"q": "eloise LECOEUR"}, {"K7M2QX", "H3P9ZT"}),  # mandant or mandataire, accents and case folded
    ({"q": "lécœur", "status": Status.VALIDEE_MAIRIE}, {"H3P9ZT"}),
    ({"q": " k7m 2qx "}, {"K7M2QX"}),  # the reference as typed at the counter
    ({"q": "123 456 789"}, {"K7M2QX"}),  # NNE with spaces
    ({"date_naissance": "1990-07-01"}, {"R4W8NB"}),  # refused by the authority: every status
    ({"q": "Z9Z9Z9"}, set()),  # another commune's reference
])
def test_search_finds_every_status_of_the_commune_only(client, agent_mairie, dossiers, params, found):
    client.force_login(agent_mairie)
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    assert _refs(response) == found


@pytest.mark.parametrize(("params", "message"), [
    ({"q": ""}, "Saisissez une référence, un nom, un numéro national d'électeur ou une date de naissance."),
    ({"q": "12345"}, "Le numéro national d'électeur compte 8 ou 9 chiffres"),
    ({"date_naissance": "31/02/1990"}, "Saisissez une date valide."),
])
def test_search_bad_input_says_why_in_french(client, agent_mairie, dossiers, params, message):
    client.force_login(agent_mairie)
    html = text(client.get(SEARCH, params))
    assert message in html and not _refs(client.get(SEARCH, params))


def test_search_is_paginated_with_a_constant_number_of_queries(client, agent_mairie, commune,
                                                                 django_assert_max_num_queries):
    from mairie.views import SEARCH_PAGE_SIZE

    client.force_login(agent_mairie)
    client.get(SEARCH, {"q": "martin"})  # session and user loaded once
    counts = []
    for n in (5, SEARCH_PAGE_SIZE):
        ProcurationFactory.create_batch(n - Procuration.objects.filter(commune=commune).count(),
                                        validee_mairie=True, commune=commune,
                                        mandant=ElecteurFactory(commune=commune, nom="Martin"))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(SEARCH, {"q": "MARTIN"})
        assert text(response).count("data-reference=") == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        client.get(SEARCH, {"q": "MARTIN", "page": 1})
    ProcurationFactory.create_batch(3, validee_mairie=True, commune=commune,
                                    mandant=ElecteurFactory(commune=commune, nom="Martin"))
    page2 = text(client.get(SEARCH, {"q": "martin", "page": 2}))
    assert page2.count("data-reference=") == 3 and "Page 2 sur 2" in page2


def _run_export(client, url, params, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}?{params}")
    job = ExportJob.objects.latest("pk")
    assert response["Location"] == reverse("mairie:export", args=[job.pk])
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE, job.error
    download = client.get(reverse("mairie:export_download", args=[job.pk]))
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    return job, list(csv.reader(io.StringIO(body), delimiter=";"))


def test_search_results_export_to_csv_neutralised_and_scoped(client, agent_mairie, agent_mairie_b, commune, dossiers,
                                                            django_capture_on_commit_callbacks):
    ProcurationFactory(validee_autorite=True, commune=commune, reference="F0RM1A",
                       mandant=ElecteurFactory(commune=commune, nom="Lecoeur", prenoms='=HYPERLINK("http://x";"y")'))
    client.force_login(agent_mairie)
    job, rows = _run_export(client, reverse("mairie:search_export"), "q=lecoeur",
                            django_capture_on_commit_callbacks)
    assert rows[0][0] == "Référence"
    assert {r[0] for r in rows[1:]} == {"K7M2QX", "H3P9ZT", "F0RM1A"}  # never Z9Z9Z9
    assert job.total == 3 and job.kind == ExportJob.Kind.RECHERCHE and job.progress == 100
    formula = next(r for r in rows if r[0] == "F0RM1A")
    assert formula[4] == "'=HYPERLINK(\"http://x\";\"y\")"
    # Another commune's agent: the export and its file answer 404.
    client.force_login(agent_mairie_b)
    assert client.get(reverse("mairie:export", args=[job.pk])).status_code == 404
    assert client.get(reverse("mairie:export_download", args=[job.pk])).status_code == 404


def test_search_export_without_criteria_is_refused(client, agent_mairie, dossiers):
    client.force_login(agent_mairie)
    response = client.post(reverse("mairie:search_export"), follow=True)
    assert "L'export n'a pas été lancé : corrigez les critères." in text(response)
    assert not ExportJob.objects.exists()


def test_filtered_queue_exports_what_the_queue_shows(client, agent_mairie, commune, dossiers,
                                                     django_capture_on_commit_callbacks):
    client.force_login(agent_mairie)
    job, rows = _run_export(client, reverse("mairie:queue_export"), "", django_capture_on_commit_callbacks)
    assert [r[0] for r in rows[1:]] == ["K7M2QX"] and job.kind == ExportJob.Kind.FILE
    job, rows = _run_export(client, reverse("mairie:queue_export"), f"status={Status.VALIDEE_MAIRIE}",
                            django_capture_on_commit_callbacks)
    assert [r[0] for r in rows[1:]] == ["H3P9ZT"] and job.criteria == {"status": Status.VALIDEE_MAIRIE}
    assert rows[1][1] == "Validée par la mairie"
