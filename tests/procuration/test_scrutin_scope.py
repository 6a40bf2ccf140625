"""A scrutin's scope (national, or the communes of an élection partielle): one helper,
Scrutin.objects.concernant(commune), and the rule « a procuration is for a scrutin of the mandant's
commune » in validity.periode, used by the online demande, both CERFA forms and soumettre."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from procuration.exceptions import DomainError
from procuration.models import Procuration, Scrutin, ScrutinType
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory


@pytest.fixture
def scrutins(commune, other_commune):
    national = ScrutinFactory(type=ScrutinType.EUROPEENNES, libelle="Européennes")
    ici = ScrutinFactory(type=ScrutinType.PARTIELLE, libelle="Partielle d'Almayrac")
    ici.communes.add(commune)
    ailleurs = ScrutinFactory(type=ScrutinType.PARTIELLE, libelle="Partielle de Loisieux")
    ailleurs.communes.add(other_commune)
    both = ScrutinFactory(type=ScrutinType.PARTIELLE, libelle="Partielle des deux communes")
    both.communes.add(commune, other_commune)
    return national, ici, ailleurs, both


def test_scrutin_concernant_une_commune_national_ou_partielle_de_la_commune(commune, other_commune, scrutins):
    national, ici, ailleurs, both = scrutins
    assert set(Scrutin.objects.concernant(commune)) == {national, ici, both}
    assert set(Scrutin.objects.concernant(other_commune.pk)) == {national, ailleurs, both}
    assert Scrutin.objects.concernant(commune).count() == 3  # no duplicate rows from the scope's join
    assert ici.concerne(commune) and not ailleurs.concerne(commune) and national.concerne(other_commune)


def test_partielle_d_une_autre_commune_n_est_pas_proposee_au_mandant(client, mandant_user, scrutins):
    national, ici, ailleurs, both = scrutins
    client.force_login(mandant_user)
    page = client.get(reverse("mandant:demande_validite")).content.decode()
    assert "Européennes" in page and escape("Partielle d'Almayrac") in page and "Partielle des deux" in page
    assert "Partielle de Loisieux" not in page
    response = client.post(reverse("mandant:demande_validite"), {
        "portee": "scrutin", "scrutin": ailleurs.pk, "tour1": "on", "etablissement": "france"})
    assert response.status_code == 200
    message = "« Partielle de Loisieux » n'a pas lieu dans la commune d'Almayrac"
    assert any(message in e for e in response.context["form"].errors["scrutin"])
    assert "mandant_demande" not in client.session or not client.session["mandant_demande"].get("scrutin")


def test_soumettre_refuse_un_scrutin_hors_de_la_commune_du_mandant(commune, scrutins):
    national, ici, ailleurs, both = scrutins
    p = ProcurationFactory(commune=commune, mandant=ElecteurFactory(commune=commune),
                           scrutin=ailleurs, tour1=True, tour2=False, valid_from=ailleurs.date_tour1,
                           valid_until=ailleurs.date_tour1)
    with pytest.raises(DomainError) as excinfo:
        p.soumettre()
    assert excinfo.value.field == "scrutin" and excinfo.value.code == "scrutin_hors_commune"
    p.refresh_from_db()
    assert p.status == "brouillon" and not p.reference


def _cerfa(mandant, mandataire, scrutin, **extra):
    return {
        "modele": "14952*03", "mandant_nne": mandant.nne, "mandant_nom": mandant.nom, "mandant_prenoms": mandant.prenoms,
        "mandant_sexe": mandant.sexe, "mandant_date_naissance": mandant.date_naissance.isoformat(),
        "mandant_lieu_naissance": "Albi", "mandant_commune": mandant.commune.code_insee,
        "mandataire_nne": mandataire.nne, "mandataire_date_naissance": mandataire.date_naissance.isoformat(),
        "portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "etablissement": "france",
        "piece_type": "cni", "piece_numero_fin": "9876",
        "autorite": "MARTIN Julie, OPJ, commissariat d'Albi", "date_etablissement": timezone.localdate().isoformat(),
        **extra,
    }


def test_cerfa_suit_la_portee_du_scrutin(client, policier, agent_mairie, commune, other_commune, scrutins):
    national, ici, ailleurs, both = scrutins
    mandant = ElecteurFactory(commune=commune, date_naissance=datetime.date(1980, 5, 12))
    mandataire = ElecteurFactory(commune=other_commune, date_naissance=datetime.date(1990, 11, 23))
    # Police counter: every upcoming scrutin is offered (the mandant is not known yet); the domain
    # refuses one outside the mandant's commune, on the scrutin field, and nothing is saved.
    client.force_login(policier)
    response = client.post(reverse("police:cerfa"), _cerfa(mandant, mandataire, ailleurs))
    assert response.status_code == 200
    assert any("n'a pas lieu dans la commune d'Almayrac" in e for e in response.context["form"].errors["scrutin"])
    assert not Procuration.objects.exists()
    # The mairie keys in its own electors' forms: another commune's partielle is not offered.
    client.force_login(agent_mairie)
    page = client.get(reverse("mairie:cerfa")).content.decode()
    assert "Partielle de Loisieux" not in page and escape("Partielle d'Almayrac") in page and "Européennes" in page
    response = client.post(reverse("mairie:cerfa"), _cerfa(mandant, mandataire, ailleurs))
    assert response.status_code == 200 and "scrutin" in response.context["form"].errors
    assert not Procuration.objects.exists()
    response = client.post(reverse("mairie:cerfa"), _cerfa(mandant, mandataire, ici))
    assert response.status_code == 302
    assert Procuration.objects.get().scrutin == ici
