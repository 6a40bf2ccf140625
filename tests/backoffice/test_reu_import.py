"""Import of a commune's register extract: every line checked, all or nothing, a report in French."""

import datetime
import html

import pytest
from django.urls import reverse

from procuration import reu
from procuration.exceptions import DomainError
from procuration.models import Electeur, Liste
from tests.factories import BureauDeVoteFactory, ElecteurFactory

pytestmark = pytest.mark.django_db

HEADER = "nne;nom;nom_usage;prenoms;sexe;date_naissance;lieu_naissance;bureau;liste;adresse\n"


@pytest.fixture
def bureau(commune):
    return BureauDeVoteFactory(commune=commune, numero=1)


def test_valid_extract_creates_updates_and_radiates(commune, other_commune, bureau):
    kept = ElecteurFactory(commune=commune, nne="300000001", nom="ANCIEN")
    gone = ElecteurFactory(commune=commune, nne="300000002")
    moved = ElecteurFactory(commune=other_commune, nne="300000003")
    data = (HEADER
            + "300 000 001;Ancien;;Paul;M;03/02/1975;Toulouse;1;principale;1 rue Haute\n"
            + "300000003;  Roux ;Martin;Anne   Marie;f;12/05/1980;Albi;;complementaire;\n"
            + "\n"
            + "300000004;Faure;;Jeanne;F;23/11/1990;Grenoble;1;;\n").encode()
    report = reu.import_extract(commune, data)
    assert report.ok and (report.lines, report.created, report.updated, report.radiated) == (3, 1, 2, 1)
    kept.refresh_from_db()
    assert (kept.nom, kept.prenoms, kept.bureau, kept.adresse) == ("ANCIEN", "Paul", bureau, "1 rue Haute")
    moved.refresh_from_db()
    assert (moved.commune, moved.nom, moved.nom_usage, moved.prenoms, moved.sexe, moved.liste) == (
        commune, "ROUX", "MARTIN", "Anne Marie", "F", Liste.COMPLEMENTAIRE)
    gone.refresh_from_db()
    assert not gone.inscrit
    new = Electeur.objects.get(nne="300000004")
    assert (new.commune, new.date_naissance, new.inscrit) == (commune, datetime.date(1990, 11, 23), True)
    # The mairie's search finds imported and updated electors by their folded names.
    assert new.noms_recherche == new.search_key() != ""
    assert moved.noms_recherche == moved.search_key() and "ROUX" in moved.noms_recherche.upper()


def test_one_bad_line_and_nothing_is_imported(commune, bureau):
    before = ElecteurFactory(commune=commune, nne="300000001", nom="AVANT")
    data = (HEADER
            + "300000001;Après;;Paul;M;03/02/1975;;1;;\n"  # valid: would update
            + "12AB;Durand;;Léa;F;01/01/1990;;;;\n"  # line 3: bad NNE
            + "300000005;;;Léa;X;31/02/1990;;7;famille;\n"  # line 4: several problems
            + "300000001;Doublon;;Jean;M;01/01/1960;;;;\n"  # line 5: NNE already on line 2
            + "300000006;Futur;;Jean;M;01/01/2999;;;;\n"  # line 6: born in the future
            + "300000007;Trop;;Jean;M;01/01/1960;;;;;en trop\n").encode()  # line 7: extra column
    report = reu.import_extract(commune, data, today=datetime.date(2026, 12, 5))
    assert not report.ok
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert errors[3] == "NNE « 12AB » : Le numéro national d'électeur compte 8 ou 9 chiffres ; il figure sur la " \
                        "carte électorale."
    assert "Le nom de naissance manque." in errors[4]
    assert "Sexe « X » : F ou M attendu." in errors[4]
    assert "Date de naissance « 31/02/1990 » : format JJ/MM/AAAA attendu." in errors[4]
    assert "Bureau de vote « 7 » inconnu dans cette commune." in errors[4]
    assert "Liste « famille »" in errors[4]
    assert errors[5] == "NNE 300000001 déjà présent à la ligne 2."
    assert "dans le futur" in errors[6]
    assert "Trop de colonnes" in errors[7]
    before.refresh_from_db()
    assert before.nom == "AVANT"
    assert Electeur.objects.count() == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"nne;nom\n1;2\n", "il manque : prenoms, sexe, date_naissance"),
    (HEADER.encode() + "300000001;Müller;;Jean;M;01/01/1960;;;;\n".encode("latin-1"), "n'est pas encodé en UTF-8"),
    (HEADER.encode(), "aucun électeur"),
])
def test_unreadable_files(commune, data, message):
    with pytest.raises(DomainError) as e:
        reu.import_extract(commune, data)
    assert message in e.value.message and e.value.field == "fichier"


def test_birth_cog_codes_for_franceconnect_matching(commune):
    header = HEADER.rstrip("\n") + ";code_lieu_naissance;code_pays_naissance\n"
    data = (header + "300000011;Né;;En France;F;01/01/1960;Albi;;;;81004;\n"
            + "300000012;Né;;Ailleurs;M;01/01/1960;Rome;;;;;99127\n").encode()
    assert reu.import_extract(commune, data).created == 2
    assert Electeur.objects.get(nne="300000011").code_pays_naissance == "99100"  # France by default
    assert (Electeur.objects.get(nne="300000012").code_lieu_naissance,
            Electeur.objects.get(nne="300000012").code_pays_naissance) == ("", "99127")
    bad = (header + "300000013;X;;Y;F;01/01/1960;;;;;8100;\n" + "300000014;X;;Y;F;01/01/1960;;;;;81004;99127\n"
           + "300000015;X;;Y;F;01/01/1960;;;;;;France\n").encode()
    report = reu.import_extract(commune, bad)
    assert [line for line, _ in report.errors] == [2, 3, 4]
    assert "Code COG du lieu de naissance « 8100 »" in report.errors[0][1]
    assert "va avec le pays 99100" in report.errors[1][1]
    assert "Code COG du pays de naissance « France »" in report.errors[2][1]
    assert Electeur.objects.count() == 2


def test_bom_and_comma_separator_accepted(commune):
    data = "\ufeff" + HEADER.replace(";", ",") + "300000009,Petit,,Luc,M,01/01/1960,,,,\n"
    assert reu.import_extract(commune, data.encode()).created == 1


def test_import_page_reports_rejected_lines_and_imports_nothing(client, admin_national, commune):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_national)
    url = reverse("backoffice:commune_import", args=[commune.pk])
    bad = SimpleUploadedFile("reu.csv", (HEADER + "300000010;Bon;;Jean;M;01/01/1960;;;;\n"
                                         + "abc;Mauvais;;Jean;M;01/01/1960;;;;\n").encode(), "text/csv")
    r = client.post(url, {"fichier": bad})
    page = r.content.decode()
    assert r.status_code == 200
    assert "Aucun électeur importé : 1 ligne rejetée sur 2" in page
    assert "<td>3</td>" in page
    assert not Electeur.objects.exists()
    good = SimpleUploadedFile("reu.csv", (HEADER + "300000010;Bon;;Jean;M;01/01/1960;;;;\n").encode(), "text/csv")
    r = client.post(url, {"fichier": good}, follow=True)
    assert "Extrait importé. Électeurs ajoutés : 1 ; mis à jour : 0 ; radiés (absents de l'extrait) : 0." in html.unescape(r.content.decode())
    assert Electeur.objects.get().nom == "BON"


def test_import_page_counts_the_deaths_and_the_procurations_they_void(client, admin_national, commune,
                                                                      django_capture_on_commit_callbacks):
    """A row with « radiation » = décès: the elector is radiated and the procuration they hold as
    mandataire is void (procuration.registry.radier_electeur); the page says how many."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from procuration.models import OutboxEmail, Status
    from tests.factories import ProcurationFactory

    mandataire = ElecteurFactory(commune=commune, nne="300000011", nom="MORT", prenoms="Paul")
    p = ProcurationFactory(validee_mairie=True, mandataire=mandataire,
                           mandant=ElecteurFactory(commune=commune, nne="300000012", nom="VIVANT", prenoms="Anne"))
    client.force_login(admin_national)
    data = ("nne;nom;prenoms;sexe;date_naissance;radiation\n300000011;Mort;Paul;M;15/01/1980;Décès\n"
            "300000012;Vivant;Anne;F;15/01/1980;\n")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("backoffice:commune_import", args=[commune.pk]),
                        {"fichier": SimpleUploadedFile("reu.csv", data.encode(), "text/csv")}, follow=True)
    assert "Décès et radiations : 1 ; procurations annulées : 1 (les mandants sont prévenus)." in html.unescape(
        r.content.decode())
    p.refresh_from_db()
    assert (p.status, p.annulation_motif) == (Status.ANNULEE, "deces_mandataire")
    assert set(OutboxEmail.objects.filter(procuration=p).values_list("kind", flat=True)) == {
        "annulation", "annulation_mairie"}


# ------------------------------------------------------------------ nationality and which liste complémentaire

LISTES_HEADER = "nne;nom;prenoms;sexe;date_naissance;liste;nationalite\n"


def _import(commune, *lines):
    return reu.import_extract(commune, (LISTES_HEADER + "".join(f"{line}\n" for line in lines)).encode())


def _listes(nne):
    e = Electeur.objects.get(nne=nne)
    return e.liste, e.nationalite, e.complementaire_municipales, e.complementaire_europeennes


def test_the_extract_says_which_liste_complementaire_and_the_nationality(commune):
    """The REU's codes LCM, LCE and both: the elector's flags (procuration.models.territory.
    liste_complementaire_fermee reads them); a principale or consulaire line is French."""
    report = _import(commune, "300000021;Rossi;Luca;M;01/01/1980;lcm;it",
                     "300000022;Schmidt;Anna;F;01/01/1980;LCE;DE",
                     "300000023;Silva;Rui;M;01/01/1980;lcm+lce;PT",
                     "300000024;Janssen;Eva;F;01/01/1980;Complémentaire européenne;",
                     "300000025;Martin;Paul;M;01/01/1980;principale;",
                     "300000026;Durand;Léa;F;01/01/1980;lec;FR")
    assert report.ok, report.errors
    assert _listes("300000021") == (Liste.COMPLEMENTAIRE, "IT", True, False)
    assert _listes("300000022") == (Liste.COMPLEMENTAIRE, "DE", False, True)
    assert _listes("300000023") == (Liste.COMPLEMENTAIRE, "PT", True, True)
    assert _listes("300000024") == (Liste.COMPLEMENTAIRE, "", False, True)
    assert _listes("300000025") == (Liste.PRINCIPALE, "FR", False, False)
    assert _listes("300000026") == (Liste.CONSULAIRE, "FR", False, False)


def test_an_imported_elector_on_the_liste_europeenne_only_is_not_mandataire_for_the_municipales(commune):
    """What the import says reaches the rule: without it an imported EU citizen is open to both the
    municipales and the européennes (the register did not say), with it only to their own list's."""
    from procuration.models import ScrutinType
    from tests.factories import ProcurationFactory, ScrutinFactory

    assert _import(commune, "300000031;Schmidt;Anna;F;01/01/1980;lce;DE").ok
    ue = Electeur.objects.get(nne="300000031")
    municipales = ProcurationFactory(mandant=ElecteurFactory(commune=commune), mandataire=ue,
                                     scrutin=ScrutinFactory(type=ScrutinType.MUNICIPALES))
    with pytest.raises(DomainError) as e:
        municipales.soumettre()
    assert e.value.code == "liste_complementaire"
    assert ProcurationFactory(mandant=ElecteurFactory(commune=commune), mandataire=ue,
                              scrutin=ScrutinFactory(type=ScrutinType.EUROPEENNES)).soumettre()


def test_what_the_extract_does_not_say_is_kept_what_it_says_replaces(commune):
    """« complementaire » without saying which, and no nationality: the flags and the nationality an
    accepted ILE recorded stay; « lce » replaces them; a principale line clears them."""
    ElecteurFactory(commune=commune, nne="300000041", liste=Liste.COMPLEMENTAIRE, nationalite="IT",
                    complementaire_municipales=True, complementaire_europeennes=False)
    assert _import(commune, "300000041;Rossi;Luca;M;01/01/1980;complementaire;").ok
    assert _listes("300000041") == (Liste.COMPLEMENTAIRE, "IT", True, False)
    assert _import(commune, "300000041;Rossi;Luca;M;01/01/1980;lce;").ok
    assert _listes("300000041") == (Liste.COMPLEMENTAIRE, "IT", False, True)
    assert _import(commune, "300000041;Rossi;Luca;M;01/01/1980;principale;fr").ok  # naturalised
    assert _listes("300000041") == (Liste.PRINCIPALE, "FR", False, False)


def test_a_nationality_and_a_list_that_do_not_go_together_are_rejected_and_nothing_is_written(commune):
    report = _import(commune, "300000051;Bon;Jean;M;01/01/1980;principale;FR",
                     "300000052;Schmidt;Anna;F;01/01/1980;principale;DE",
                     "300000053;Martin;Paul;M;01/01/1980;lcm;FR",
                     "300000054;Smith;John;M;01/01/1980;lce;US",
                     "300000055;Rossi;Luca;M;01/01/1980;lcm;ITA",
                     "300000056;Rossi;Luca;M;01/01/1980;lcx;IT")
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert errors[3] == ("Nationalité « DE » et la liste principale : un électeur de cette nationalité est inscrit "
                         "sur une liste complémentaire.")
    assert errors[4] == ("Nationalité « FR » et une liste complémentaire : un électeur de cette nationalité est "
                         "inscrit sur la liste principale ou la liste consulaire.")
    assert errors[5].startswith("Nationalité « US » : FR ou le code à deux lettres d'un État membre de l'Union "
                                "européenne attendu")
    assert errors[6].startswith("Nationalité « ITA »")
    assert errors[7].startswith("Liste « lcx » : principale, lcm (complémentaire municipale), lce")
    assert not Electeur.objects.exists()
