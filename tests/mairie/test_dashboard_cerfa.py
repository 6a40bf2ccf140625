import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration import validity
from procuration.exceptions import DomainError
from procuration.models import Origine, Procuration, Status
from tests.cerfa import assert_mandataire_refused
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_dashboard_counts_by_status_and_scrutin_and_oldest_waiting(client, agent_mairie, commune, other_commune):
    s1 = ScrutinFactory(libelle="Européennes")
    s2 = ScrutinFactory(libelle="Municipales")
    oldest = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=s1, autorite_at=timezone.now() - datetime.timedelta(days=4),
                                mandant=ElecteurFactory(commune=commune, nom="ANCIEN"))
    ProcurationFactory(validee_autorite=True, commune=commune, scrutin=s2, mandant=ElecteurFactory(commune=commune))
    ProcurationFactory(validee_mairie=True, commune=commune, scrutin=s2, mandant=ElecteurFactory(commune=commune))
    ProcurationFactory(commune=commune, mandant=ElecteurFactory(commune=commune))  # brouillon: not the mairie's
    ProcurationFactory(validee_autorite=True, commune=other_commune, scrutin=s1, autorite_at=timezone.now() - datetime.timedelta(days=9),
                       mandant=ElecteurFactory(commune=other_commune))
    client.force_login(agent_mairie)
    page = text(client.get(reverse("mairie:home")))
    assert '<p class="fr-tile__detail" id="waiting-count">2</p>' in page
    assert f"{oldest.reference}</a> — ANCIEN" in page
    assert "<td>Validée par l'autorité</td><td>2</td>" in page
    assert "<td>Validée par la mairie</td><td>1</td>" in page
    assert "<th scope=\"row\">Total</th><td>3</td>" in page
    assert "<tr><td>Municipales</td><td>1</td><td>1</td><td>2</td></tr>" in page
    assert "<tr><td>Européennes</td><td>1</td><td>0</td><td>1</td></tr>" in page
    assert "Brouillon" not in page


def test_dashboard_reads_the_communes_procurations_in_one_pass(client, agent_mairie, commune):
    """The figures per status are the sums of those per scrutin: one aggregate over the commune's
    rows (its cost grows with them: docs/performance.md), not two; a durée limitée (no scrutin)
    and a demande expired but not yet recorded are counted where they belong."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    s1 = ScrutinFactory(libelle="Législatives", date_tour1=timezone.localdate() + datetime.timedelta(days=60))
    ProcurationFactory(validee_mairie=True, commune=commune, scrutin=s1, mandant=ElecteurFactory(commune=commune))
    ProcurationFactory(en_attente=True, commune=commune, scrutin=s1, mandant=ElecteurFactory(commune=commune),
                       submitted_at=timezone.now() - datetime.timedelta(days=100))  # expirée at read time
    today = timezone.localdate()
    ProcurationFactory(validee_autorite=True, commune=commune, scrutin=None, portee=Procuration.Portee.DUREE,
                       valid_from=today, valid_until=today + datetime.timedelta(days=300),
                       mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)
    with CaptureQueriesContext(connection) as ctx:
        page = text(client.get(reverse("mairie:home")))
    aggregates = [q["sql"] for q in ctx.captured_queries
                  if 'FROM "procuration_procuration"' in q["sql"] and "GROUP BY" in q["sql"]]
    assert len(aggregates) == 1, aggregates
    assert "<td>Expirée</td><td>1</td>" in page and "<th scope=\"row\">Total</th><td>3</td>" in page
    assert ("<tr><td>Procurations pour une durée limitée</td><td>1</td><td>0</td><td>0</td><td>1</td></tr>"
            in page)
    assert "<tr><td>Législatives</td><td>0</td><td>1</td><td>1</td><td>2</td></tr>" in page


def test_dashboard_when_nothing_waits(client, agent_mairie):
    client.force_login(agent_mairie)
    assert "Aucune procuration n'attend la mairie." in text(client.get(reverse("mairie:home")))


def _cerfa_data(mandant, mandataire, scrutin, **extra):
    return {
        "modele": "14952*03", "mandant_nne": mandant.nne, "mandant_nom": mandant.nom, "mandant_prenoms": mandant.prenoms,
        "mandant_sexe": mandant.sexe, "mandant_date_naissance": mandant.date_naissance.isoformat(),
        "mandant_lieu_naissance": "Albi", "mandant_commune": mandant.commune.code_insee,
        "email_contact": "papier@example.fr",
        "mandataire_nne": mandataire.nne, "mandataire_date_naissance": mandataire.date_naissance.isoformat(),
        "portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "tour2": "on", "etablissement": "france",
        "autorite": "MARTIN Julie, OPJ, commissariat d'Albi", "date_etablissement": timezone.localdate().isoformat(),
        **extra,
    }


def test_mairie_keys_in_a_paper_cerfa_then_validates_it(client, agent_mairie, commune, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    scrutin = ScrutinFactory()
    client.force_login(agent_mairie)
    assert client.get(reverse("mairie:cerfa")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, scrutin))
    p = Procuration.objects.get(mandant=mandant)
    assert r["Location"] == reverse("mairie:detail", args=[p.pk])
    assert (p.status, p.origine, p.email_contact) == (Status.VALIDEE_AUTORITE, Origine.CERFA_PAPIER, "papier@example.fr")
    assert p.autorite_label.startswith("MARTIN Julie, OPJ, commissariat d'Albi, le ")
    assert mailoutbox == []  # no "validée par l'autorité" e-mail for a paper form
    detail = text(client.get(reverse("mairie:detail", args=[p.pk])))
    assert "Saisie d'un formulaire CERFA n°14952*03" in detail and "Formulaire CERFA papier" in detail
    assert p.reference in text(client.get(reverse("mairie:queue")))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mairie:validate", args=[p.pk]))
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE
    assert [m.to for m in mailoutbox] == [["papier@example.fr"]]


def test_paper_cerfa_of_another_commune_is_refused(client, agent_mairie, other_commune):
    mandant, mandataire = ElecteurFactory(commune=other_commune), ElecteurFactory(commune=other_commune)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, ScrutinFactory()))
    assert r.status_code == 200
    assert "La mairie ne saisit que les procurations des électeurs de sa commune." in text(r)
    assert not Procuration.objects.exists()


def test_paper_cerfa_bad_input_keeps_nothing(client, agent_mairie, commune):
    mandant = ElecteurFactory(commune=commune)
    client.force_login(agent_mairie)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    scrutin = ScrutinFactory()
    other = ElecteurFactory(commune=commune)
    r = client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, other, scrutin, date_etablissement=tomorrow))
    assert "La date d'établissement ne peut pas être dans le futur." in text(r)
    assert not Procuration.objects.exists()


@pytest.mark.parametrize("unable, message", [
    (None, "Le mandataire doit être une autre personne que le mandant."),
    ({"deces": True}, "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter."),
    ({"droits_civiques": False}, "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter."),
], ids=["same-person", "deces", "droits-civiques"])
def test_paper_cerfa_mandataire_refused_on_the_mandataire_field(client, agent_mairie, commune, unable, message):
    """Who may be the mandataire (the same person; one who cannot vote), named by NNE or by état civil."""
    mandant = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie")
    mandataire = mandant if unable is None else ElecteurFactory(commune=commune, nom="ROUX", prenoms="Léa", **unable)
    client.force_login(agent_mairie)
    data = _cerfa_data(mandant, mandataire, ScrutinFactory())
    assert_mandataire_refused(client.post(reverse("mairie:cerfa"), data), "mandataire_nne", message)
    data.update({"mandataire_nne": "", "mandataire_nom": mandataire.nom, "mandataire_prenoms": mandataire.prenoms,
                 "mandataire_sexe": mandataire.sexe, "mandataire_commune": commune.code_insee})
    assert_mandataire_refused(client.post(reverse("mairie:cerfa"), data), "mandataire_nom", message)


def test_paper_cerfa_is_established_by_the_domain_with_every_step_logged(client, agent_mairie, commune):
    """Procuration.etablir: the authority named on the paper goes through the transition (no raw
    update), the e-mail address is kept, and both steps are in the timeline."""
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, ScrutinFactory()))
    p = Procuration.objects.get(mandant=mandant)
    assert r["Location"] == reverse("mairie:detail", args=[p.pk])
    label = f"MARTIN Julie, OPJ, commissariat d'Albi, le {timezone.localdate():%d/%m/%Y} (formulaire papier)"
    assert (p.autorite_label, p.autorite_by, p.email_contact) == (label, agent_mairie, "papier@example.fr")
    assert [(e.from_status, e.to_status, e.actor, e.reason) for e in p.events.all()] == [
        (Status.BROUILLON, Status.EN_ATTENTE, agent_mairie, "Saisie d'un formulaire CERFA n°14952*03"),
        (Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, agent_mairie,
         f"Formulaire papier établi par {label}, saisi par la mairie"),
    ]
    assert not p.emails.exists()  # neither the reference nor « validée par l'autorité »: the mandant asked nothing online


def test_paper_cerfa_at_a_commune_with_auto_validation_is_validated_at_once(client, agent_mairie, commune):
    commune.auto_validation = True
    commune.save()
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    client.force_login(agent_mairie)
    client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, ScrutinFactory()))
    p = Procuration.objects.get(mandant=mandant)
    assert p.status == Status.VALIDEE_MAIRIE
    assert list(p.emails.values_list("kind", "to")) == [("mairie_decision", "papier@example.fr")]


def test_paper_cerfa_validity_error_is_the_domains_on_its_field(client, agent_mairie, commune):
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    start = timezone.localdate() + datetime.timedelta(days=2)
    end = validity.add_years(start, 3) + datetime.timedelta(days=1)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:cerfa"), _cerfa_data(
        mandant, mandataire, ScrutinFactory(), portee="duree", valid_from=start.isoformat(), valid_until=end.isoformat(),
        etablissement="etranger",
    ))
    with pytest.raises(DomainError) as excinfo:
        validity.periode(portee="duree", valid_from=start, valid_until=end, etablissement="etranger")
    assert r.context["form"].errors["valid_until"] == [excinfo.value.message]
    assert not Procuration.objects.exists()


def _teledossier(commune, usager, numero, *, days_ago, demarche="ile", **kw):
    from listes.models import Teledossier

    return Teledossier.objects.create(
        numero=numero, demarche=demarche, commune=commune, usager=usager, email="u@example.fr", nom="DUPONT",
        prenoms="Marie", sexe="F", date_naissance=datetime.date(2000, 1, 1), lieu_naissance="Albi",
        adresse="1 rue", code_postal="81190", ville="Almayrac",
        created_at=timezone.now() - datetime.timedelta(days=days_ago), **kw,
    )


def test_dashboard_tiles_count_what_needs_action(client, agent_mairie, commune, other_commune, mandant_user):
    """Tiles: waiting, waiting for a tour within 7 days (alerts), ILE not decided 5 days after filing."""
    soon = ScrutinFactory(libelle="Partielle", date_tour1=timezone.localdate() + datetime.timedelta(days=3),
                          date_tour2=None)
    later = ScrutinFactory(libelle="Régionales")
    ProcurationFactory(validee_autorite=True, commune=commune, scrutin=soon, tour1=True, tour2=False,
                       mandant=ElecteurFactory(commune=commune))
    ProcurationFactory(validee_autorite=True, commune=commune, scrutin=later, mandant=ElecteurFactory(commune=commune))
    ProcurationFactory(validee_autorite=True, commune=other_commune, scrutin=soon, tour1=True, tour2=False,
                       mandant=ElecteurFactory(commune=other_commune))
    _teledossier(commune, mandant_user, "A-1-OVERDUE1", days_ago=6)  # overdue
    _teledossier(commune, mandant_user, "A-1-RECENT01", days_ago=4)  # still in time
    _teledossier(commune, mandant_user, "A-1-DECIDED1", days_ago=9, decision="acceptee",
                 electeur=ElecteurFactory(commune=commune))
    _teledossier(commune, mandant_user, "A-1-RCOOLD01", days_ago=9, demarche="rco")  # not an inscription
    _teledossier(other_commune, mandant_user, "A-1-FOREIGN1", days_ago=9)
    client.force_login(agent_mairie)
    page = text(client.get(reverse("mairie:home")))
    assert "<h1>Procurations d'Almayrac</h1>" in page
    assert '<p class="fr-tile__detail" id="waiting-count">2</p>' in page
    assert '<p class="fr-tile__detail" id="urgent-count">1</p>' in page
    assert '<p class="fr-tile__detail" id="ile-overdue-count">1</p>' in page


def test_dashboard_title_without_elision_before_a_consonant(client, other_commune):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="agent-l", agent_mairie=True, commune=other_commune))
    assert "<h1>Procurations de Loisieux</h1>" in text(client.get(reverse("mairie:home")))


def test_mandataire_is_emailed_when_the_mairie_keys_in_a_paper_cerfa(client, agent_mairie, commune, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    """Mandataire notice: the paper form's optional address of the mandataire is told it is established."""
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    client.force_login(agent_mairie)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mairie:cerfa"), _cerfa_data(mandant, mandataire, ScrutinFactory(),
                                                         email_mandataire="mandataire@example.fr"))
    p = Procuration.objects.get(mandant=mandant)
    assert p.email_mandataire == "mandataire@example.fr"
    assert [(m.to, m.subject) for m in mailoutbox] == [(["mandataire@example.fr"], "Une procuration vous est confiée")]
    assert "mairie d'Almayrac" in mailoutbox[0].body
