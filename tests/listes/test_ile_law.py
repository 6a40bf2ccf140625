"""The law points of the ILE (../shared/domain.md « Inscription sur les listes électorales »):
nationality and lists, the NNE kept on a move, the ILE deadlines of the commune's scrutins."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from listes.models import Teledossier
from procuration import checks
from procuration.exceptions import DomainError
from procuration.models import AuditLog, Electeur, Liste, Procuration, ScrutinType
from tests.factories import ElecteurFactory, ScrutinFactory, UserFactory
from tests.listes.conftest import DECLARATIONS_UE, ile_post_data

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def citoyen_ue(db):
    """A national of another EU member state, born abroad (no COG commune of birth), on no list."""
    return UserFactory(username="ue", first_name="Giulia", last_name="ROSSI", gender="F",
                       birthdate=datetime.date(1988, 4, 2), birthplace="", birthcountry="99127",
                       email="giulia.rossi@example.it")


# ------------------------------------------------------------------ nationality


def test_nationalite_francaise_liste_principale_ue_listes_complementaires(client, file_ile, citoyen_ue, agent_listes,
                                                                          commune):
    d = file_ile(user=citoyen_ue, nationalite="UE", etat_membre="IT", complementaires=["municipales", "europeennes"],
                 **DECLARATIONS_UE)
    assert (d.nationalite, d.complementaire_municipales, d.complementaire_europeennes) == ("IT", True, True)
    client.force_login(agent_listes)
    assert "Italie" in client.get(reverse("listes:dossier", args=[d.numero])).content.decode()
    d.accepter(by=agent_listes, comment="Bienvenue")
    e = d.electeur
    assert e.liste == Liste.COMPLEMENTAIRE and e.nationalite == "IT"
    assert e.complementaire_municipales and e.complementaire_europeennes and e.commune == commune

    only_europeennes = UserFactory(username="ue2", first_name="Jan", last_name="DE VRIES", gender="M",
                                   birthdate=datetime.date(1970, 1, 1), birthplace="", birthcountry="99135")
    d2 = file_ile(user=only_europeennes, nationalite="UE", etat_membre="NL", complementaires=["europeennes"], **DECLARATIONS_UE)
    d2.accepter(by=agent_listes, comment="ok")
    assert (d2.electeur.liste, d2.electeur.complementaire_municipales, d2.electeur.complementaire_europeennes) == (
        Liste.COMPLEMENTAIRE, False, True)

    francais = UserFactory(username="fr", first_name="Paul", last_name="MARTIN", gender="M",
                           birthdate=datetime.date(1990, 2, 2), birthplace="81004", birthcountry="99100")
    d3 = file_ile(user=francais)
    d3.accepter(by=agent_listes, comment="ok")
    assert (d3.electeur.liste, d3.electeur.nationalite) == (Liste.PRINCIPALE, "FR")
    assert not (d3.electeur.complementaire_municipales or d3.electeur.complementaire_europeennes)


@pytest.mark.parametrize("extra, field_message", [
    ({"nationalite": "AUTRE"}, "Votre nationalité ne permet pas de vous inscrire"),
    ({"nationalite": "UE", "etat_membre": "", "complementaires": ["municipales"]},
     "Choisissez l&#x27;État membre"),
    ({"nationalite": "UE", "etat_membre": "US", "complementaires": ["municipales"]}, "Sélectionnez un choix valide"),
    ({"nationalite": "UE", "etat_membre": "DE"}, "Choisissez au moins une liste complémentaire"),
])
def test_nationalite_hors_union_europeenne_refusee(client, citoyen_ue, commune, scrutin, mailoutbox, extra,
                                                   field_message):
    client.force_login(citoyen_ue)
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune, **extra))
    assert response.status_code == 200 and field_message in response.content.decode()
    assert not Teledossier.objects.exists() and not mailoutbox


def test_citoyen_ue_sur_liste_complementaire_ne_peut_pas_etre_mandataire_presidentielle_legislatives(
        file_ile, citoyen_ue, agent_listes, commune, mandant_electeur):
    """Accepted on the listes complémentaires, the EU citizen is found as a mandataire, but the
    automatic check « liste_complementaire » refuses them for a présidentielle or législatives."""
    d = file_ile(user=citoyen_ue, nationalite="UE", etat_membre="IT", complementaires=["municipales", "europeennes"],
                 **DECLARATIONS_UE)
    d.accepter(by=agent_listes, comment="ok")
    ue = d.electeur

    def demande(type_):
        s = ScrutinFactory(type=type_)
        return Procuration(mandant=mandant_electeur, commune=commune, mandataire=ue, portee="scrutin", scrutin=s,
                           tour1=True, valid_from=s.date_tour1, valid_until=s.date_tour1)

    for type_ in (ScrutinType.PRESIDENTIELLE, ScrutinType.LEGISLATIVES):
        p = demande(type_)
        failing = {r.code: r.message for r in checks.evaluate(p) if not r.ok}
        assert set(failing) == {"liste_complementaire"}
        assert "ne peut être mandataire que pour les élections municipales et européennes" in failing["liste_complementaire"]
        with pytest.raises(DomainError) as excinfo:
            checks.raise_for_demande(p)
        assert excinfo.value.code == "liste_complementaire"
    for type_ in (ScrutinType.MUNICIPALES, ScrutinType.EUROPEENNES):
        assert all(r.ok for r in checks.evaluate(demande(type_)))


# ------------------------------------------------------------------ NNE kept on a move


def test_electeur_deja_inscrit_garde_son_nne_quand_il_demenage(client, mandant_user, mandant_electeur, commune,
                                                               other_commune, scrutin, django_capture_on_commit_callbacks):
    """Marie Dupont, on Almayrac's list (mandant_electeur), files an ILE at Loisieux: accepted, her
    registration moves (same NNE), the radiation from Almayrac is recorded and Almayrac's list no
    longer shows her; no second elector."""
    from listes.models import Teledossier

    nne = mandant_electeur.nne
    agent_loisieux = UserFactory(username="listes-loisieux", agent_listes=True, commune=other_commune)
    agent_almayrac = UserFactory(username="listes-almayrac", agent_listes=True, commune=commune)
    client.force_login(mandant_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:usager_ile_new"), ile_post_data(other_commune, ville="Loisieux"))
    assert response.status_code == 302
    d = Teledossier.objects.get()
    before = Electeur.objects.count()
    client.force_login(agent_almayrac)
    assert nne in client.get(reverse("listes:electeurs")).content.decode()

    client.force_login(agent_loisieux)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:transition", args=[d.numero, "accepter"]), {"accepter-comment": "Bienvenue"})
    d.refresh_from_db()
    assert d.electeur_id == mandant_electeur.pk and Electeur.objects.count() == before
    e = Electeur.objects.get(pk=mandant_electeur.pk)
    assert e.nne == nne and e.commune == other_commune and e.inscrit
    assert e.bureau is None or e.bureau.commune_id == other_commune.pk
    assert e.adresse.endswith("Loisieux")
    radiation = AuditLog.objects.get(action="registre.radiation")
    assert radiation.object_id == str(e.pk) and radiation.actor == agent_loisieux
    assert radiation.detail["commune"] == commune.code_insee
    assert radiation.detail["nouvelle_commune"] == other_commune.code_insee
    assert radiation.detail["teledossier"] == d.numero
    assert nne in client.get(reverse("listes:electeurs")).content.decode()
    client.force_login(agent_almayrac)
    assert nne not in client.get(reverse("listes:electeurs")).content.decode()


def test_mandant_who_moves_ends_the_procurations_given_in_the_former_commune(
    client, mandant_user, mandant_electeur, commune, other_commune, django_capture_on_commit_callbacks,
):
    """Radiated from Almayrac by her move, Marie Dupont cannot be represented in Almayrac's bureau any
    more: the procuration she gave there is void (radiation du mandant), she is told; the one she holds
    as mandataire stands (she is still on a list)."""
    from listes.models import Teledossier
    from procuration.models import OutboxEmail, Status
    from tests.factories import ProcurationFactory

    given = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, email_contact="marie@example.fr")
    held = ProcurationFactory(validee_mairie=True, mandataire=mandant_electeur,
                              mandant=ElecteurFactory(commune=commune))
    agent_loisieux = UserFactory(username="listes-loisieux", agent_listes=True, commune=other_commune)
    client.force_login(mandant_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:usager_ile_new"), ile_post_data(other_commune, ville="Loisieux"))
    d = Teledossier.objects.get()
    client.force_login(agent_loisieux)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:transition", args=[d.numero, "accepter"]), {"accepter-comment": "Bienvenue"})
    given.refresh_from_db()
    held.refresh_from_db()
    assert (given.status, given.annulation_motif) == (Status.ANNULEE, "radiation_mandant")
    assert held.status == Status.VALIDEE_MAIRIE
    assert "annulation" in OutboxEmail.objects.filter(procuration=given).values_list("kind", flat=True)


def test_homonymes_parfaits_dans_le_registre_l_inscription_n_est_pas_devinee(file_ile, mandant_user, mandant_electeur,
                                                                           agent_listes):
    ElecteurFactory(nom=mandant_electeur.nom, prenoms=mandant_electeur.prenoms,
                    date_naissance=mandant_electeur.date_naissance)
    d = file_ile()
    before = Electeur.objects.count()
    with pytest.raises(DomainError, match="Plusieurs électeurs"):
        d.accepter(by=agent_listes, comment="ok")
    d.refresh_from_db()
    assert d.etat == "transmis" and not d.decision and Electeur.objects.count() == before


# ------------------------------------------------------------------ deadlines of the commune's scrutins


def test_ile_deadlines_follow_the_scrutin_of_the_commune(client, mandant_user, commune, other_commune):
    """A partielle at Loisieux on 14 March 2027 closes online ILE there after Wednesday 3 February,
    not at Almayrac; a national scrutin closes both."""
    partielle = ScrutinFactory(type=ScrutinType.PARTIELLE, libelle="Partielle de Loisieux",
                               date_tour1=datetime.date(2027, 3, 14), date_tour2=datetime.date(2027, 3, 21))
    partielle.communes.add(other_commune)
    url = reverse("listes:usager_ile_new")
    with time_machine.travel(datetime.datetime(2027, 2, 4, 9, 0, tzinfo=PARIS), tick=False):
        client.force_login(mandant_user)
        response = client.post(url, ile_post_data(other_commune))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Les inscriptions en ligne dans la commune de Loisieux pour « Partielle de Loisieux »" in page
        assert "en mairie jusqu&#x27;au vendredi 5 février 2027" in page
        assert client.post(url, ile_post_data(commune)).status_code == 302
        d = Teledossier.objects.get()
        assert d.commune == commune and d.scrutin is None  # the partielle is not Almayrac's scrutin
    ScrutinFactory(type=ScrutinType.EUROPEENNES, libelle="Européennes",
                   date_tour1=datetime.date(2027, 3, 14), date_tour2=None)
    with time_machine.travel(datetime.datetime(2027, 2, 4, 9, 0, tzinfo=PARIS), tick=False):
        client.force_login(mandant_user)
        response = client.post(url, ile_post_data(commune))
        assert response.status_code == 200
        assert "commune d&#x27;Almayrac pour « Européennes »" in response.content.decode()
    assert Teledossier.objects.count() == 1


def test_liste_complementaire_montree_au_mandant_et_a_la_mairie(client, file_ile, citoyen_ue, agent_listes, commune,
                                                                mandant_user, mandant_electeur, agent_mairie):
    """The EU citizen registered by the ILE, chosen as mandataire for a présidentielle: the mandant
    is told at the mandataire step, the mairie sees the check in the dossier."""
    from tests.factories import ProcurationFactory

    d = file_ile(user=citoyen_ue, nationalite="UE", etat_membre="IT", complementaires=["municipales"],
                 **DECLARATIONS_UE)
    d.accepter(by=agent_listes, comment="ok")
    ue = d.electeur
    presidentielle = ScrutinFactory(type=ScrutinType.PRESIDENTIELLE, libelle="Présidentielle")
    client.force_login(mandant_user)
    client.post(reverse("mandant:demande_validite"), {"portee": "scrutin", "scrutin": presidentielle.pk, "tour1": "on",
                                                      "tour2": "on", "etablissement": "france"})
    response = client.post(reverse("mandant:demande_mandataire"), {
        "mode": "nne", "nne": ue.nne, "date_naissance_nne": ue.date_naissance.isoformat()})
    assert response.status_code == 200
    assert any("ne peut être mandataire que pour les élections municipales et européennes" in e for e in response.context["form"].errors["nne"])
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=mandant_electeur, mandataire=ue,
                           scrutin=presidentielle)
    client.force_login(agent_mairie)
    page = client.get(reverse("mairie:detail", args=[p.pk])).content.decode()
    assert "ne peut être mandataire que pour les élections municipales et européennes" in page
