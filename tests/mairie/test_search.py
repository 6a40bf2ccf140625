"""The mairie searches its procurations (every status) and exports the queue and the results in CSV."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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


def _search_with_joins(user, form):
    """The search as it was written before the electors were found first (each criterion a filter
    over the mandant's and the mandataire's joined rows): the oracle of the test below."""
    from django.db.models import Q

    from procuration.normalize import fold, normalize_nne, strip_nne
    from procuration.reference import InvalidReference, normalize_reference

    assert form.is_valid(), form.errors
    data = form.cleaned_data
    qs = Procuration.objects.visible_to(user)
    if data["status"]:
        qs = qs.statut_effectif_in(data["status"])
    if data["date_naissance"]:
        qs = qs.filter(Q(mandant__date_naissance=data["date_naissance"]) |
                       Q(mandataire__date_naissance=data["date_naissance"]))
    if q := data["q"]:
        digits = strip_nne(q)
        if digits.isascii() and digits.isdigit():
            nne = normalize_nne(digits)
            qs = qs.filter(Q(mandant__nne=nne) | Q(mandataire__nne=nne))
        else:
            tokens = fold(q).split()

            def names(prefix):
                match = Q()
                for t in tokens:
                    match &= Q(**{f"{prefix}__noms_recherche__contains": t})
                return match

            match = names("mandant") | names("mandataire") if tokens else Q(pk__in=[])
            try:
                match |= Q(reference=normalize_reference(q))
            except InvalidReference:
                pass
            qs = qs.filter(match)
    return qs.order_by("-created_at", "-pk")


@pytest.mark.parametrize("electeurs_first_max", [500, 1])  # the electors first; the joins beyond one elector
def test_search_by_electors_first_gives_the_same_rows_in_the_same_order(agent_mairie, commune, other_commune,
                                                                        django_assert_max_num_queries, monkeypatch,
                                                                        electeurs_first_max):
    """Names shared by mandants and mandataires, two tokens, mandataires of another commune, our
    electors in another commune's procurations, drafts, a demande expired but not yet recorded,
    equal creation times: the search by electors first answers exactly what the joins answered,
    and so does the search of a name that too many electors bear."""
    from mairie import listing

    monkeypatch.setattr(listing, "ELECTEURS_FIRST_MAX", electeurs_first_max)

    now = timezone.now()
    births = [datetime.date(1960, 1, 2), datetime.date(1985, 6, 30), datetime.date(2001, 12, 24)]
    names = [("Martin", "Jean"), ("Martinez", "Ana María"), ("Lecœur", "Éloïse"), ("Le Cœur", "Paul Martin"),
             ("Dupont", "Léa"), ("Du Pont", "Marc"), ("Núñez", "Inès")]
    electeurs = [ElecteurFactory(commune=commune if i % 3 else other_commune, nom=nom, prenoms=prenoms,
                                 date_naissance=births[i % 3])
                 for i, (nom, prenoms) in enumerate(names * 2)]
    ours = [e for e in electeurs if e.commune_id == commune.pk]
    statuses = [Status.VALIDEE_MAIRIE, Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, Status.REFUSEE_AUTORITE,
                Status.RESILIEE, Status.BROUILLON, Status.ECHUE]
    made = []
    for i in range(36):
        mandant = ours[i % len(ours)] if i % 5 else electeurs[(i * 5) % len(electeurs)]
        mandataire = electeurs[(i * 7 + 3) % len(electeurs)]
        if mandataire == mandant:
            mandataire = electeurs[(i * 7 + 4) % len(electeurs)]
        status = statuses[i % len(statuses)]
        made.append(ProcurationFactory(
            en_attente=status != Status.BROUILLON, status=status, commune=commune if i % 6 else other_commune,
            mandant=mandant, mandataire=mandataire, created_at=now - datetime.timedelta(hours=i % 4),
            submitted_at=None if status == Status.BROUILLON else now - datetime.timedelta(days=100 if i == 1 else 1),
        ))
    foreign = next(p for p in made if p.commune_id == other_commune.pk and p.status != Status.BROUILLON)
    queries = ["martin", "MARTIN jean", "lecoeur", "le coeur", "du", "pont dupont", "nunez ines", "ZZZZZZ", "-",
               made[2].reference, foreign.reference, electeurs[1].nne, electeurs[3].nne]
    seen = set()
    for q in queries + [""]:
        for birth in ("", births[1].isoformat()):
            for status in ("", Status.VALIDEE_MAIRIE, Status.EXPIREE, Status.EN_ATTENTE):
                params = {"q": q, "date_naissance": birth, "status": status}
                if not (q or birth):
                    continue
                expected = list(_search_with_joins(agent_mairie, listing.search_form(agent_mairie, params))
                                .values_list("reference", flat=True))
                with django_assert_max_num_queries(2):  # the electors, then the procurations
                    found = list(listing.search_queryset(agent_mairie, listing.search_form(agent_mairie, params))
                                 .values_list("reference", flat=True))
                assert found == expected, params
                assert foreign.reference not in found
                seen.update(found)
    assert len(seen) > 10  # the dataset is varied enough for the comparison to mean something


def test_search_counts_and_pages_without_joining_the_electors(client, agent_mairie, dossiers):
    """A name few electors bear: the electors are read first, then the count and the page read the
    procurations by mandant_id / mandataire_id; the electors are joined only to show the rows."""
    client.force_login(agent_mairie)
    client.get(SEARCH, {"q": "martin"})  # session and user loaded once
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(SEARCH, {"q": "eloise lecoeur"})
    assert _refs(response) == {"K7M2QX", "H3P9ZT"}
    count = next(q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"])
    assert "procuration_electeur" not in count and "JOIN" not in count


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
