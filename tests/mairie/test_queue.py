import datetime
import html as htmllib

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration.models import Electeur, InvalidationMotif, Procuration, ProcurationEvent, Status
from tests.factories import BureauDeVoteFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return htmllib.unescape(response.content.decode())


def waiting(commune, **kwargs):
    kwargs.setdefault("mandant", ElecteurFactory(commune=commune))
    return ProcurationFactory(validee_autorite=True, commune=commune, **kwargs)


def test_queue_lists_only_waiting_procurations_of_the_commune_with_verdicts(client, agent_mairie, commune, other_commune):
    ok = waiting(commune)
    radie = waiting(commune, mandataire=ElecteurFactory(commune=commune, inscrit=False))
    done = ProcurationFactory(validee_mairie=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    elsewhere = waiting(other_commune)
    client.force_login(agent_mairie)
    html = page_text(client.get(reverse("mairie:queue")))
    assert ok.reference in html and radie.reference in html
    assert done.reference not in html and elsewhere.reference not in html
    assert "Tous les contrôles sont conformes" in html
    assert "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter." in html
    # Only the row whose checks all pass can be ticked for batch validation.
    assert f'id="sel-{ok.pk}"' in html and f'id="sel-{radie.pk}"' not in html


def test_queue_filters_by_scrutin_status_bureau_and_age(client, agent_mairie, commune):
    s1, s2 = ScrutinFactory(), ScrutinFactory()
    b2 = BureauDeVoteFactory(commune=commune, numero=2)
    a = waiting(commune, scrutin=s1)
    b = waiting(commune, scrutin=s2, mandant=ElecteurFactory(commune=commune, bureau=b2))
    old = waiting(commune, scrutin=s1, autorite_at=timezone.now() - datetime.timedelta(days=10))
    done = ProcurationFactory(validee_mairie=True, commune=commune, scrutin=s1, mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)

    def refs(**params):
        html = page_text(client.get(reverse("mairie:queue"), params))
        return {p.reference for p in (a, b, old, done) if p.reference in html}

    assert refs() == {a.reference, b.reference, old.reference}
    assert refs(scrutin=s1.pk) == {a.reference, old.reference}
    assert refs(bureau=b2.pk) == {b.reference}
    assert refs(age="7") == {old.reference}
    assert refs(status=Status.VALIDEE_MAIRIE) == {done.reference}


def test_detail_shows_checks_and_full_timeline(client, agent_mairie, commune, policier):
    p = ProcurationFactory(en_attente=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    ProcurationEvent.append(p, from_status=Status.BROUILLON, to_status=Status.EN_ATTENTE)
    p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
    client.force_login(agent_mairie)
    html = page_text(client.get(reverse("mairie:detail", args=[p.pk])))
    assert "Plafond du mandataire" in html and "Conforme" in html
    assert "Brouillon → En attente de validation" in html
    assert "En attente de validation → Validée par l'autorité, par Julie MARTIN" in html


def test_validate_and_invalidate_with_structured_reason(client, agent_mairie, commune, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    p1, p2 = waiting(commune, email_contact="un@example.fr"), waiting(commune, email_contact="deux@example.fr")
    client.force_login(agent_mairie)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mairie:validate", args=[p1.pk]))
        assert r.status_code == 302
        r = client.post(reverse("mairie:invalidate", args=[p2.pk]), {"motif": InvalidationMotif.AUTRE,
                                                                       "detail": "Le mandant a déménagé."})
        assert r.status_code == 302
    p1.refresh_from_db()
    p2.refresh_from_db()
    assert p1.status == Status.VALIDEE_MAIRIE and p1.mairie_by == agent_mairie
    assert p2.status == Status.INVALIDEE_MAIRIE and p2.motif_detail == "Le mandant a déménagé."
    by_to = {m.to[0]: m for m in mailoutbox}
    assert "enregistré votre procuration" in by_to["un@example.fr"].body
    assert "Précision : Le mandant a déménagé." in by_to["deux@example.fr"].body
    html = page_text(client.get(reverse("mairie:detail", args=[p2.pk])))
    assert "Autre motif : Le mandant a déménagé." in html


@pytest.mark.parametrize("data, error", [
    ({"motif": "autre", "detail": "  "}, "Précisez le motif de l'invalidation."),
    ({"motif": "inconnu"}, "Sélectionnez un choix valide"),
    ({}, "Ce champ est obligatoire."),
])
def test_invalidate_bad_input_changes_nothing(client, agent_mairie, commune, data, error):
    p = waiting(commune)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:invalidate", args=[p.pk]), data)
    assert r.status_code == 400
    assert error in page_text(r)
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE and not p.events.exists()


def test_validate_requires_confirmation_when_a_check_fails(client, agent_mairie, commune):
    p = waiting(commune, mandataire=ElecteurFactory(commune=commune, inscrit=False))
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:validate", args=[p.pk]))
    assert r.status_code == 400
    assert "La procuration n'a pas été validée : Un contrôle automatique n'est pas conforme (Mandataire inscrit)" in page_text(r)
    assert "forcer" in r.context["validation_form"].errors
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE
    r = client.post(reverse("mairie:validate", args=[p.pk]), {"forcer": "on"})
    assert r.status_code == 400
    assert r.context["validation_form"].errors["motif_forcage"] == [
        "Indiquez pourquoi vous validez malgré les contrôles non conformes."
    ]
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE
    client.post(reverse("mairie:validate", args=[p.pk]), {"forcer": "on", "motif_forcage": "Radiation annulée par le juge"})
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE
    assert p.events.get().reason == "Validation forcée malgré : Mandataire inscrit. Motif : Radiation annulée par le juge"


def test_the_plafond_cannot_be_forced_from_the_detail_page(client, agent_mairie, commune):
    mandataire = ElecteurFactory(commune=commune)
    first = waiting(commune, mandataire=mandataire, autorite_at=timezone.now() - datetime.timedelta(hours=1))
    p = waiting(commune, mandataire=mandataire, scrutin=first.scrutin)
    client.force_login(agent_mairie)
    detail = page_text(client.get(reverse("mairie:detail", args=[p.pk])))
    assert "ne peut pas être validée, même après vérification" in detail and "Valider la procuration" not in detail
    r = client.post(reverse("mairie:validate", args=[p.pk]), {"forcer": "on", "motif_forcage": "J'insiste"})
    assert r.status_code == 400
    assert "détient déjà une procuration établie en France" in page_text(r)
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE and not p.events.exists()


def test_validate_twice_or_after_invalidation_is_refused_in_french(client, agent_mairie, commune):
    p = waiting(commune)
    client.force_login(agent_mairie)
    client.post(reverse("mairie:invalidate", args=[p.pk]), {"motif": InvalidationMotif.PLAFOND_ATTEINT})
    r = client.post(reverse("mairie:validate", args=[p.pk]), follow=True)
    assert "Impossible de valider (mairie) une procuration dont le statut est « Invalidée par la mairie »." in page_text(r)
    p.refresh_from_db()
    assert p.status == Status.INVALIDEE_MAIRIE


def test_batch_validation_validates_only_rows_whose_checks_all_pass(client, agent_mairie, commune, other_commune):
    good = [waiting(commune) for _ in range(3)]
    bad = waiting(commune)
    foreign = waiting(other_commune)
    # The mandataire was struck off after the page was displayed: the server re-checks.
    Electeur.objects.filter(pk=bad.mandataire_id).update(inscrit=False)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:batch_validate"), {"ids": [p.pk for p in (*good, bad, foreign)]}, follow=True)
    html = page_text(r)
    assert "3 procurations validées." in html
    assert bad.reference in html
    statuses = dict(Procuration.objects.values_list("pk", "status"))
    assert all(statuses[p.pk] == Status.VALIDEE_MAIRIE for p in good)
    assert statuses[bad.pk] == Status.VALIDEE_AUTORITE
    assert statuses[foreign.pk] == Status.VALIDEE_AUTORITE


def test_batch_validation_without_selection_says_so(client, agent_mairie):
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:batch_validate"), {}, follow=True)
    assert "Cochez au moins une procuration à valider." in page_text(r)


def test_a_void_procuration_shows_annulee_and_its_motif_in_the_queue_search_and_dossier(
    client, agent_mairie, commune, django_capture_on_commit_callbacks
):
    """The mandataire's death (an event of the register) voids a procuration waiting for the mairie: it
    leaves the queue; filtered on « Annulée », in the search and on its page it shows why, in French."""
    import re

    from procuration.registry import RadiationMotif, radier_electeur

    def plain(response):  # the text a reader sees, tags dropped
        return re.sub(r"<[^>]+>", "", page_text(response))

    p = waiting(commune)
    radier_electeur(p.mandataire, RadiationMotif.DECES)
    client.force_login(agent_mairie)
    assert p.reference not in page_text(client.get(reverse("mairie:queue")))
    filtered = plain(client.get(reverse("mairie:queue"), {"status": Status.ANNULEE}))
    assert p.reference in filtered and "Annulée : Décès du mandataire" in filtered
    found = page_text(client.get(reverse("mairie:search"), {"q": p.reference}))
    assert "Annulée" in found and "Décès du mandataire" in found
    dossier = plain(client.get(reverse("mairie:detail", args=[p.pk])))
    assert "Statut : Annulée — nulle de plein droit : Décès du mandataire" in dossier
    assert "Validée par l'autorité → Annulée" in dossier
