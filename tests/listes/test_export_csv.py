"""The guichet de suivi exports its filtered list in CSV: the commune's télédossiers only, cells neutralised."""

import csv
import datetime
import io

from django.urls import reverse

from listes.models import Teledossier

EXPORT = reverse("listes:export_csv")


def _deposer(usager, commune, nom, demarche="ile", **kw):
    return Teledossier.deposer(usager=usager, pieces=[], demarche=demarche, commune=commune, nom=nom, prenoms="X",
                               sexe="F", date_naissance=datetime.date(1990, 1, 1), lieu_naissance="Albi",
                               adresse="1 rue", code_postal="81000", ville="Albi", motif_rattachement="domicile", **kw)


def _rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="teledossiers-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_export_is_the_filtered_list_of_the_commune(client, agent_listes, mandant_user, commune, other_commune):
    dupont = _deposer(mandant_user, commune, "Dupont")
    formula = _deposer(mandant_user, commune, "Martin", telephone="=1+2")
    closed = _deposer(mandant_user, commune, "Durand")
    closed.accepter(by=agent_listes, comment="Bienvenue")
    foreign = _deposer(mandant_user, other_commune, "Dupont")
    client.force_login(agent_listes)

    rows = _rows(client.get(EXPORT))  # the default list: ILE to handle
    assert rows[0][:3] == ["Numéro", "Démarche", "État"]
    assert {r[0] for r in rows[1:]} == {dupont.numero, formula.numero}
    assert next(r for r in rows if r[0] == formula.numero)[15] == "'=1+2"  # neutralised, never a formula
    rows = _rows(client.get(EXPORT, {"q": "dupont", "etat": "tous"}))
    assert [r[0] for r in rows[1:]] == [dupont.numero]  # never the other commune's Dupont
    assert foreign.numero not in client.get(EXPORT, {"etat": "tous"}).content.decode()
    rows = _rows(client.get(EXPORT, {"etat": "clos"}))
    assert [r[0] for r in rows[1:]] == [closed.numero] and rows[1][3] == "Inscription acceptée"
    assert _rows(client.get(EXPORT, {"demarche": "rco"}))[1:] == []
    # The list links to the export of what it shows.
    html = client.get(reverse("listes:home"), {"q": "dupont"}).content.decode()
    assert f'href="{EXPORT}?q=dupont&amp;demarche=ile"' in html
