"""The mairie searches its procurations (every status) and exports the queue and the results in CSV."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mairie.models import ExportJob
from procuration.models import Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
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


def test_search_field_says_how_to_search(client, agent_mairie):
    """A word must begin a name (procuration.search): the hint of the field says so, with examples."""
    client.force_login(agent_mairie)
    html = text(client.get(SEARCH))
    assert "entiers ou par leur début : « mart » trouve Martin et Martinez, « dupont lea » Léa Dupont" in html


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
    assert counts[0] == counts[1], [q['sql'][:150] for q in ctx.captured_queries]
    with django_assert_max_num_queries(counts[1]):
        client.get(SEARCH, {"q": "MARTIN", "page": 1})
    ProcurationFactory.create_batch(3, validee_mairie=True, commune=commune,
                                    mandant=ElecteurFactory(commune=commune, nom="Martin"))
    page2 = text(client.get(SEARCH, {"q": "martin", "page": 2}))
    assert page2.count("data-reference=") == 3 and "Page 2 sur 2" in page2


def _search_with_joins(user, form):
    """The search written as plainly as possible (each criterion a filter over the mandant's and the
    mandataire's joined rows, every word typed beginning one of the same person's folded names: at
    the start of noms_recherche or after a space): the oracle of the tests below. Until the search
    keys (procuration.search), a word could be any part of a name (`contains`); it must now begin one."""
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
                    match &= (Q(**{f"{prefix}__noms_recherche__startswith": t})
                              | Q(**{f"{prefix}__noms_recherche__contains": f" {t}"}))
                return match

            match = names("mandant") | names("mandataire") if tokens else Q(pk__in=[])
            try:
                match |= Q(reference=normalize_reference(q))
            except InvalidReference:
                pass
            qs = qs.filter(match)
    return qs.order_by("-created_at", "-pk")


def _both(user, params, max_queries=None):
    """(the search's references, the oracle's), in order."""
    from mairie import listing

    expected = list(_search_with_joins(user, listing.search_form(user, params)).values_list("reference", flat=True))
    found = list(listing.search_queryset(user, listing.search_form(user, params)).values_list("reference", flat=True))
    return found, expected


def test_search_by_keys_gives_the_rows_of_the_joins_in_the_same_order(agent_mairie, commune, other_commune,
                                                                       django_assert_max_num_queries):
    """Names shared by mandants and mandataires, two tokens, mandataires of another commune, our
    electors in another commune's procurations, drafts, a demande expired but not yet recorded,
    equal creation times: the search by keys answers exactly what the joins answer, in one query."""
    from mairie import listing

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
    queries = ["martin", "MARTIN jean", "mart martin", "lecoeur", "le coeur", "coeur", "du", "pont dupont",
               "nunez ines", "ZZZZZZ", "-", "m", made[2].reference, foreign.reference, electeurs[1].nne,
               electeurs[3].nne]
    seen = set()
    for q in queries + [""]:
        for birth in ("", births[1].isoformat()):
            for status in ("", Status.VALIDEE_MAIRIE, Status.EXPIREE, Status.EN_ATTENTE):
                params = {"q": q, "date_naissance": birth, "status": status}
                if not (q or birth):
                    continue
                found, expected = _both(agent_mairie, params)
                with django_assert_max_num_queries(1):  # the keys are a subquery of the procurations' query
                    list(listing.search_queryset(agent_mairie, listing.search_form(agent_mairie, params))
                         .values_list("pk", flat=True))
                assert found == expected, params
                assert foreign.reference not in found
                seen.update(found)
    assert len(seen) > 10  # the dataset is varied enough for the comparison to mean something
    # A word must begin a name now: « coeur » finds Le Cœur, not Lecœur.
    found, _ = _both(agent_mairie, {"q": "coeur"})
    assert found and all("Le Cœur" in (p.mandant.nom, p.mandataire.nom)
                         for p in Procuration.objects.filter(reference__in=found))


# Fragments that begin one another, fold together (« Lecœur », « LECOEUR »), end in z or 9 (the
# upper bound of a word's range), plus any text: names and queries drawn from them.
_FRAGMENTS = ["mar", "martin", "Martinez", "le", "Cœur", "Lecoeur", "du", "PONT", "Dupont", "Núñez", "élo",
              "Éloïse", "z", "zz", "zaza", "a9", "a99", "aa", "o'brien", "jean-marc"]
_word = st.one_of(st.sampled_from(_FRAGMENTS), st.text(alphabet="aezœé9-' ", min_size=1, max_size=6))
_name = st.lists(_word, min_size=1, max_size=3).map(" ".join)


@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(people=st.lists(st.tuples(_name, _name, st.booleans()), min_size=2, max_size=7),
       pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.booleans()), min_size=1, max_size=8),
       queries=st.lists(st.lists(_word, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4))
def test_search_by_keys_equals_the_joins_on_generated_names(agent_mairie, commune, other_commune, people, pairs,
                                                            queries):
    """Any names, any query: the same procurations as the joins, in the same order; another
    commune's never (its procurations bear the same names)."""
    from mairie import listing

    with transaction.atomic():
        electeurs = [ElecteurFactory(commune=commune if ours else other_commune, nom=nom, prenoms=prenoms)
                     for nom, prenoms, ours in people]
        scrutin = ScrutinFactory()
        for a, b, ours in pairs:
            mandant, mandataire = electeurs[a % len(electeurs)], electeurs[b % len(electeurs)]
            if mandant == mandataire:
                continue
            ProcurationFactory(validee_autorite=True, scrutin=scrutin, mandant=mandant, mandataire=mandataire,
                               commune=commune if ours else other_commune)
        for q in queries + [e.nom for e in electeurs] + [e.prenoms[:2] for e in electeurs]:
            if not listing.search_form(agent_mairie, {"q": q}).is_valid():
                continue  # « 9 »: a malformed NNE, refused (test_search_bad_input_says_why_in_french)
            found, expected = _both(agent_mairie, {"q": q})
            assert found == expected, q
            assert not Procuration.objects.filter(reference__in=found).exclude(commune=commune).exists()
        transaction.set_rollback(True)


def _names(user, q):
    from mairie import listing

    return set(listing.search_queryset(user, listing.search_form(user, {"q": q})).values_list("reference", flat=True))


def test_keys_follow_a_new_procuration_and_a_change_of_names(agent_mairie, agent_mairie_b, commune, other_commune):
    """Written with the procuration, re-written when an elector's names change (a save, the
    register's import), never readable from another commune."""
    from procuration import reu

    electeur = ElecteurFactory(commune=commune, nom="Dupont", prenoms="Léa", nne="300000123")
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandataire=electeur)
    assert _names(agent_mairie, "dupont lea") == {p.reference}
    assert _names(agent_mairie_b, "dupont lea") == set()  # another commune: absent
    electeur.nom = "Marchal"
    electeur.save()
    assert _names(agent_mairie, "dupont") == set() and _names(agent_mairie, "marchal lea") == {p.reference}
    # The register's import writes the electors in bulk (no save()): their keys follow too.
    reu.import_extract(commune, (
        "nne;nom;nom_usage;prenoms;sexe;date_naissance;lieu_naissance;bureau;liste;adresse\n"
        f"300000123;Roux;Vidal;Léa;F;{electeur.date_naissance:%d/%m/%Y};Albi;;principale;\n"
    ).encode())
    assert _names(agent_mairie, "marchal") == set()
    assert _names(agent_mairie, "roux lea") == _names(agent_mairie, "vidal") == {p.reference}
    # A second procuration of hers, in another commune: that mairie finds it, ours does not.
    electeur.refresh_from_db()  # as a request reads her
    other = ProcurationFactory(validee_autorite=True, commune=other_commune, mandant=electeur,
                               mandataire=ElecteurFactory(commune=other_commune))
    assert _names(agent_mairie_b, "roux") == {other.reference} and _names(agent_mairie, "roux") == {p.reference}


def test_rebuild_search_keys_writes_back_what_a_bulk_load_left_out(agent_mairie, commune):
    """A load that bypassed the ORM (the bench's COPY, the previous release's rows during a
    rolling deploy) leaves procurations without keys: the command writes them."""
    from django.core.management import call_command

    from procuration.models import SearchKey

    p = ProcurationFactory(validee_autorite=True, commune=commune,
                           mandant=ElecteurFactory(commune=commune, nom="Fabre", prenoms="Ana"))
    SearchKey.objects.filter(procuration=p).delete()
    assert _names(agent_mairie, "fabre") == set()
    out = io.StringIO()
    call_command("rebuild_search_keys", "--commune", commune.code_insee, stdout=out)
    assert _names(agent_mairie, "fab an") == {p.reference} and "1 procuration" in out.getvalue()


def test_search_by_keys_on_sqlite(tmp_path):
    """The embedded default (SQLite: no "C" collation, bytes compared by default): the migrations
    apply, the procurations already there get their keys, the ranges of words ending in z and 9 hold,
    for the keys' subquery and for the test of each row."""
    import os
    import subprocess
    import sys

    before = """
import datetime
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
apps = MigrationExecutor(connection).loader.project_state(("procuration", "0013_electeur_noms_trigram_idx")).apps
Commune, Electeur, Procuration = (apps.get_model("procuration", m) for m in ("Commune", "Electeur", "Procuration"))
c = Commune.objects.create(nom="Albi", code_insee="81004")
def person(nne, nom, prenoms, noms):
    return Electeur.objects.create(nne=nne, nom=nom, prenoms=prenoms, sexe="F", commune=c, noms_recherche=noms,
                                   date_naissance=datetime.date(1980, 1, 1))
a, b = person("300000001", "Zaza", "Léa", "zaza lea"), person("300000002", "A9", "Jean Marc", "a9 jean marc")
d = datetime.date(2030, 1, 1)
Procuration.objects.create(mandant=a, mandataire=b, commune=c, valid_from=d, valid_until=d)
"""
    after = """
import datetime
from procuration.models import Commune, Electeur, Procuration, SearchKey
from procuration import search
c = Commune.objects.get()
a, b = Electeur.objects.order_by("nne")
z = Electeur.objects.create(nne="300000003", nom="Zb", prenoms="Ana", sexe="F", commune=c,
                            date_naissance=datetime.date(1980, 1, 1))
p1 = Procuration.objects.get()  # filled by the migration
d = datetime.date(2030, 1, 1)
p2 = Procuration.objects.create(mandant=z, mandataire=b, commune=c, valid_from=d, valid_until=d)
def ids(*words):
    return sorted(Procuration.objects.filter(pk__in=search.procurations_named(c.pk, list(words))).values_list("pk", flat=True))
assert ids("z") == [p1.pk, p2.pk], ids("z")
assert ids("za") == ids("zaza", "lea") == [p1.pk]
assert ids("a9", "marc") == [p1.pk, p2.pk] and ids("a", "zb") == [p2.pk] and ids("lea", "marc") == []
def walked(*words):  # the broad search's test of each row (mairie.listing.search_page above the cap)
    return sorted(Procuration.objects.filter(search.row_named(list(words))).values_list("pk", flat=True))
for words in (["z"], ["za"], ["zaza", "lea"], ["a9", "marc"], ["a", "zb"], ["lea", "marc"]):
    assert walked(*words) == ids(*words), words
every = Procuration.objects.all()  # the one-word count (each procuration once, the reference after the keys)
for word in ("z", "za", "a", "a9", "j", "lea", "x"):
    assert [search.count_named(c.pk, word, every, n) for n in (1, 2, 3)] == [min(len(ids(word)), n) for n in (1, 2, 3)]
Procuration.objects.filter(pk=p2.pk).update(reference="K7M2QX")
assert search.count_named(c.pk, "z", every, 3, reference="K7M2QX") == 2  # p2 bears « zb »: once
assert search.count_named(c.pk, "za", every, 3, reference="K7M2QX") == 2
b.nom = "Roux"
b.save()
assert ids("a9") == [] and ids("roux", "jean") == [p1.pk, p2.pk]
print("ok", SearchKey.objects.count())
"""
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DEBUG": "true", "SECRET_KEY": "test-only"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = {"cwd": settings.BASE_DIR, "env": env, "capture_output": True, "text": True, "timeout": 300}
    for step in (["migrate", "procuration", "0013", "--noinput", "-v0"], ["shell", "-c", before],
                 ["migrate", "--noinput", "-v0"], ["shell", "-c", after]):
        done = subprocess.run([sys.executable, "manage.py", *step], **run)
        assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "ok 10"


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


def test_search_keys_compare_bytes_on_postgresql():
    """The ranges of words (token >= 'mart' AND token < 'mars') hold in the "C" collation only; a
    language collation may sort 'mart{' or 'mar-' apart from 'martin'."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT collation_name FROM information_schema.columns"
                       " WHERE table_name = 'procuration_searchkey' AND column_name = 'token'")
        assert cursor.fetchone() == ("C",)


def _pages(user, params, per_page):
    """Every page of the search as the page reads it (listing.search_page), in order: (references,
    the count shown, more)."""
    from mairie import listing

    refs, number = [], 1
    while True:
        page, more = listing.search_page(user, listing.search_form(user, params), number, per_page)
        refs += [p.reference for p in page.object_list]
        if not page.has_next():
            return refs, page.paginator.count, more
        number += 1


def test_a_broad_search_counts_up_to_the_cap_and_says_so(client, agent_mairie, commune, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    """More matches than the cap: the count stops at the cap + 1 (a LIMIT inside the count), the
    page says « Plus de … résultats » and pages through the first matches in the usual order, by
    a walk that tests each row's keys (EXISTS), with as many SQL queries as a search that finds
    few; the CSV export still holds every match."""
    from mairie import listing, views

    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 4)
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 3)
    now = timezone.now()
    # Every name fixed: a Faker mandataire named « Durand » (or « Martine » below) made the counts
    # and the page's rows wrong once in a while.
    martins = [ProcurationFactory(validee_mairie=True, commune=commune, created_at=now - datetime.timedelta(hours=i % 3),
                                  mandant=ElecteurFactory(commune=commune, nom="Martin"),
                                  mandataire=ElecteurFactory(commune=commune, nom="Bernard", prenoms="Luc"))
               for i in range(7)]
    ProcurationFactory(validee_mairie=True, commune=commune,
                       mandant=ElecteurFactory(commune=commune, nom="Durand", prenoms="Paul"),
                       mandataire=ElecteurFactory(commune=commune, nom="Leroy", prenoms="Anne"))
    newest = list(Procuration.objects.filter(pk__in=[p.pk for p in martins])
                  .order_by("-created_at", "-pk").values_list("reference", flat=True))
    client.force_login(agent_mairie)
    client.get(SEARCH, {"q": "durand"})  # session and user loaded once
    with CaptureQueriesContext(connection) as few:
        assert "1 procuration trouvée." in text(client.get(SEARCH, {"q": "durand"}))
    with CaptureQueriesContext(connection) as many:
        html = text(client.get(SEARCH, {"q": "mart"}))
    assert "Plus de 4 résultats : précisez votre recherche (nom complet, prénom ou NNE)." in html
    assert 'class="fr-alert fr-alert--info fr-alert--sm fr-mb-2w" id="result-count"' in html
    assert "sur 2 pages" in html and "Page 1 sur 2" in html
    assert len(many.captured_queries) == len(few.captured_queries)
    count_sql = next(q["sql"] for q in many.captured_queries if "COUNT(" in q["sql"])
    assert "LIMIT 5" in count_sql and "ORDER BY" not in count_sql
    page_sql = many.captured_queries[-1]["sql"]
    assert "EXISTS" in page_sql and "LIMIT 3" in page_sql
    assert [r for r in newest if f'data-reference="{r}"' in html] == newest[:3]
    page2 = text(client.get(SEARCH, {"q": "mart", "page": 2}))
    assert [r for r in newest if f'data-reference="{r}"' in page2] == newest[3:4]
    assert "Page 2 sur 2" in text(client.get(SEARCH, {"q": "mart", "page": 9}))  # past the cap: the last page
    assert _pages(agent_mairie, {"q": "mart"}, 3) == (newest[:4], 4, True)
    # The export is not capped: every match.
    job, rows = _run_export(client, reverse("mairie:search_export"), "q=mart", django_capture_on_commit_callbacks)
    assert [r[0] for r in rows[1:]] == newest and job.total == 7
    # Several words, over the cap: all of them in the same person's names, as below the cap.
    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", 2)
    lea = ElecteurFactory(commune=commune, nom="Durand", prenoms="Léa")
    for p in martins[:2]:  # a Martin and a Léa, not the same person: not « martin lea »
        Procuration.objects.filter(pk=p.pk).update(mandataire=lea)
        p.refresh_from_db()
        p.save()  # the keys follow the mandataire
    martin_lea = [ProcurationFactory(validee_mairie=True, commune=commune, created_at=now - datetime.timedelta(hours=9),
                                     mandataire=ElecteurFactory(commune=commune, nom="Martin", prenoms="Léa"))
                  for _ in range(3)]
    expected = [p.reference for p in sorted(martin_lea, key=lambda p: -p.pk)][:2]
    assert _pages(agent_mairie, {"q": "martin lea"}, 1) == (expected, 2, True)


# Few fragments, so that people share words and a search often finds more than a small cap.
_shared_name = st.lists(st.sampled_from(["mar", "martin", "le", "Cœur", "Lecoeur", "zz", "a9"]),
                        min_size=1, max_size=3).map(" ".join)


@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(people=st.lists(st.tuples(st.one_of(_shared_name, _name), _shared_name, st.booleans()), min_size=2, max_size=7),
       pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.booleans(), st.integers(0, 2)),
                      min_size=1, max_size=10),
       queries=st.lists(st.lists(_word, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=4),
       cap=st.integers(1, 3), per_page=st.integers(1, 3))
def test_capped_search_pages_the_first_rows_of_the_joins(agent_mairie, commune, other_commune, monkeypatch,
                                                         people, pairs, queries, cap, per_page):
    """Above the cap (the walk testing each row's keys): the pages hold the oracle's first `cap`
    rows, in its order; at or below it, every row (the keys' subquery); the count shown is
    min(matches, cap) and « more » says whether they were more."""
    from mairie import listing

    monkeypatch.setattr(listing, "SEARCH_COUNT_CAP", cap)
    now = timezone.now()
    with transaction.atomic():
        electeurs = [ElecteurFactory(commune=commune if ours else other_commune, nom=nom, prenoms=prenoms)
                     for nom, prenoms, ours in people]
        scrutin = ScrutinFactory()
        for a, b, ours, hours in pairs:
            mandant, mandataire = electeurs[a % len(electeurs)], electeurs[b % len(electeurs)]
            if mandant == mandataire:
                continue
            ProcurationFactory(validee_autorite=True, scrutin=scrutin, mandant=mandant, mandataire=mandataire,
                               commune=commune if ours else other_commune,
                               created_at=now - datetime.timedelta(hours=hours))
        # Besides the drawn queries: one person's full names (several words, all hers) and two
        # people's names mixed (words of different people: nobody, unless one bears both).
        full = [f"{e.nom} {e.prenoms}" for e in electeurs]
        mixed = [f"{a.nom} {b.prenoms}" for a, b in zip(electeurs, electeurs[1:])]
        for q in queries + full + mixed + [e.nom for e in electeurs] + [e.prenoms[:2] for e in electeurs]:
            if not listing.search_form(agent_mairie, {"q": q}).is_valid():
                continue
            _, expected = _both(agent_mairie, {"q": q})
            assert _pages(agent_mairie, {"q": q}, per_page) == (expected[:cap], min(len(expected), cap),
                                                                len(expected) > cap), q
        transaction.set_rollback(True)


@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(people=st.lists(st.tuples(_shared_name, _shared_name, st.booleans()), min_size=2, max_size=7),
       pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.booleans(), st.integers(0, 6)),
                      min_size=1, max_size=10),
       words=st.lists(st.sampled_from(["m", "mar", "martin", "l", "le", "lecoeur", "coeur", "z", "zz", "a", "a9"]),
                      min_size=1, max_size=3))
def test_one_word_count_from_the_keys_equals_the_joins_up_to_the_limit(agent_mairie, commune, other_commune,
                                                                       people, pairs, words):
    """One word typed (the broad search's count, procuration.search.count_named): procurations
    that bear it several times (in the mandant's and the mandataire's names, in several prénoms
    that begin with it), drafts, other statuses, another commune's: for every limit, the count is
    min(the oracle's matches, limit), each procuration once, the procuration whose reference the
    word also reads as (« martin ») included; the page's count query reads it."""
    from mairie import listing
    from procuration import search
    from procuration.reference import normalize_reference

    statuses = [Status.VALIDEE_AUTORITE, Status.BROUILLON, Status.VALIDEE_MAIRIE, Status.EN_ATTENTE,
                Status.REFUSEE_AUTORITE, Status.RESILIEE, Status.ECHUE]
    with transaction.atomic():
        electeurs = [ElecteurFactory(commune=commune if ours else other_commune, nom=nom, prenoms=prenoms)
                     for nom, prenoms, ours in people]
        scrutin = ScrutinFactory()
        for a, b, ours, s in pairs:
            mandant, mandataire = electeurs[a % len(electeurs)], electeurs[b % len(electeurs)]
            if mandant != mandataire:
                ProcurationFactory(en_attente=statuses[s] != Status.BROUILLON, status=statuses[s], scrutin=scrutin,
                                   mandant=mandant, mandataire=mandataire, commune=commune if ours else other_commune)
        # « martin » also reads as a reference: its procuration counts too, bearing the word or not.
        ProcurationFactory(validee_autorite=True, scrutin=scrutin, mandant=electeurs[0], mandataire=electeurs[1],
                           commune=commune, reference=normalize_reference("martin"))
        for word in words + ["martin"]:
            for status in ("", Status.VALIDEE_MAIRIE, Status.VALIDEE_AUTORITE):
                params = {"q": word, "status": status}
                form = listing.search_form(agent_mairie, params)
                assert form.is_valid()
                reference = listing._one_word(word)[1]
                assert (reference is not None) == (word == "martin")
                _, expected = _both(agent_mairie, params)
                for limit in range(1, len(expected) + 3):
                    assert search.count_named(commune.pk, word, listing._filtered(agent_mairie, form.cleaned_data),
                                              limit, reference) == min(len(expected), limit), (params, limit)
                with CaptureQueriesContext(connection) as ctx:
                    page, more = listing.search_page(agent_mairie, form, 1, 50)
                count_sql = next(q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"])
                assert 'FROM "procuration_searchkey"' in count_sql and "NOT EXISTS" in count_sql
                assert (page.paginator.count, more) == (min(len(expected), listing.SEARCH_COUNT_CAP),
                                                        len(expected) > listing.SEARCH_COUNT_CAP)
        transaction.set_rollback(True)
