"""The maire decides on an ILE within 5 days of its filing (L.18, ../shared/domain.md): the guichet
shows the days left on each waiting ILE and the overdue ones (listes.rules, the one home)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from listes import rules
from listes.models import Teledossier


def _ile(commune, usager, numero, *, ago, **kw):
    return Teledossier.objects.create(
        numero=numero, demarche="ile", commune=commune, usager=usager, email="u@example.fr", nom=f"NOM-{numero[-4:]}",
        prenoms="Marie", sexe="F", date_naissance=datetime.date(2000, 1, 1), lieu_naissance="Albi", adresse="1 rue",
        code_postal="81190", ville="Almayrac", created_at=timezone.now() - ago, **kw,
    )


def test_decision_du_maire_sous_cinq_jours_bornes():
    filed = datetime.datetime(2027, 3, 1, 10, 0, tzinfo=datetime.UTC)
    d = Teledossier(demarche="ile", etat="transmis", decision="", created_at=filed)
    at = lambda **kw: filed + datetime.timedelta(**kw)  # noqa: E731
    assert rules.ile_decision_delai(d, at(seconds=1)).days_left == 5
    assert rules.ile_decision_delai(d, at(days=4)).days_left == 1
    assert rules.ile_decision_delai(d, at(days=5, seconds=-1)) == (at(days=5), False, 1)
    assert rules.ile_decision_delai(d, at(days=5)) == (at(days=5), True, 0)
    # The same boundary as the query the dashboard and the alerts use.
    assert rules.ILE_DECISION_DELAY == datetime.timedelta(days=5)
    for waiting in (Teledossier(demarche="rco", etat="transmis", decision="", created_at=filed),
                    Teledossier(demarche="ile", etat="clos", decision="acceptee", created_at=filed)):
        assert rules.ile_decision_delai(waiting, at(days=9)) is None


def test_guichet_montre_les_jours_restants_et_les_inscriptions_en_retard(client, agent_listes, commune, other_commune,
                                                                      mandant_user):
    fresh = _ile(commune, mandant_user, "A-9-FRESH001", ago=datetime.timedelta(hours=1))
    almost = _ile(commune, mandant_user, "A-9-ALMOST01", ago=datetime.timedelta(days=4, hours=2))
    late = _ile(commune, mandant_user, "A-9-LATE0001", ago=datetime.timedelta(days=6))
    decided = _ile(commune, mandant_user, "A-9-DECIDED1", ago=datetime.timedelta(days=9), etat="clos",
                   decision="refusee", motif_refus="x")
    _ile(other_commune, mandant_user, "A-9-ELSEWHR1", ago=datetime.timedelta(days=9))
    client.force_login(agent_listes)
    html = client.get(reverse("listes:home"), {"etat": "tous"}).content.decode()
    row = lambda d: html.split(d.numero + "</a>")[1].split("</tr>")[0]  # noqa: E731
    assert "5 jours restants" in row(fresh) and "1 jour restant" in row(almost)
    assert "En retard" in row(late) and "En retard" not in row(almost)
    assert "Inscription refusée" in row(decided)
    assert "1 inscription attend la décision du maire depuis plus de 5 jours" in html
    overdue = client.get(reverse("listes:home"), {"demarche": "ile", "etat": "retard"}).content.decode()
    assert late.numero in overdue
    assert all(d.numero not in overdue for d in (fresh, almost, decided))
    assert "A-9-ELSEWHR1" not in overdue
    detail = client.get(reverse("listes:dossier", args=[late.numero])).content.decode()
    assert "En retard" in detail and "Décision du maire" in detail
    csv = client.get(reverse("listes:export_csv"), {"demarche": "ile", "etat": "retard"}).content.decode("utf-8-sig")
    assert late.numero in csv and fresh.numero not in csv


@pytest.mark.parametrize("ago, overdue", [(datetime.timedelta(days=5, seconds=-30), False),
                                          (datetime.timedelta(days=5, seconds=30), True)])
def test_inscriptions_en_retard_dans_les_alertes_de_la_commune_borne(mandant_user, commune, ago, overdue):
    d = _ile(commune, mandant_user, "A-9-BOUNDARY", ago=ago)
    assert rules.ile_decisions_overdue(Teledossier.objects.all()).filter(pk=d.pk).exists() is overdue
    assert rules.ile_decision_delai(d).overdue is overdue
