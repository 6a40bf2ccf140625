"""The national back office in Chromium on the real stack (live server, PostgreSQL), with the
keyboard only and axe-core on every page: login with TOTP, figures, a commune with its bureau,
the register import (rejected, then accepted), a commune administrator, a scrutin with its
scope, an officer."""

import datetime
import re

import pytest
from django.urls import reverse

from procuration.models import BureauDeVote, Commune, Electeur, Role, Scrutin, User
from tests.a11y.axe import assert_no_axe_violations
from tests.e2e.keyboard import choose, pick_file, tab_to, text_is, type_date, type_into
from tests.e2e.test_keyboard import keyboard_staff_login
from tests.factories import ProcurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "nne;nom;nom_usage;prenoms;sexe;date_naissance;lieu_naissance;bureau;liste;adresse\n"


def follow(page, target):
    """Tab to a link or button and press Enter; return once the next page is loaded."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def submit(page, label):
    follow(page, text_is(label))


def test_national_admin_back_office_with_the_keyboard(live_server, page, admin_national, commune, policier, tmp_path):
    ProcurationFactory(en_attente=True, commune=commune, submitted_at=datetime.datetime.now(datetime.UTC))
    keyboard_staff_login(page, live_server, reverse("backoffice:home"), admin_national)
    assert page.locator("h1").inner_text() == "Chiffres nationaux des procurations"
    assert page.locator("#graphique-par-jour rect").count() == 30
    assert "En attente de validation" in page.locator("#par-statut").inner_text()
    assert_no_axe_violations(page, "back office : chiffres")

    # A commune, with its population and the élus' majoration.
    follow(page, 'a[href="/backoffice/communes/"]')
    page.wait_for_url(re.compile(".*/backoffice/communes/$"))
    assert_no_axe_violations(page, "back office : communes")
    follow(page, text_is("Ajouter une commune"))
    page.wait_for_url(re.compile(".*/communes/nouvelle/$"))
    assert_no_axe_violations(page, "back office : nouvelle commune")
    type_into(page, "#id_code_insee", "81060")
    type_into(page, "#id_nom", "Cordes-sur-Ciel")
    type_into(page, "#id_departement", "81")
    type_into(page, "#id_population", "1000")
    type_into(page, "#id_majoration_credit_heures", "45")
    submit(page, "Créer la commune")
    assert "inférieure ou égale à 30" in page.locator("#id_majoration_credit_heures").locator("xpath=..").inner_text()
    assert_no_axe_violations(page, "back office : commune (erreurs)")
    tab_to(page, "#id_majoration_credit_heures")
    page.keyboard.press("Control+a")
    type_into(page, "#id_majoration_credit_heures", "20")
    submit(page, "Créer la commune")
    cordes = Commune.objects.get(code_insee="81060")
    assert page.url.endswith(f"/communes/{cordes.pk}/")
    assert (cordes.population, cordes.majoration_credit_heures) == (1000, 20)
    assert page.locator("h1").inner_text() == "Commune de Cordes-sur-Ciel (81060)"
    assert_no_axe_violations(page, "back office : commune")

    # A bureau de vote.
    follow(page, text_is("Ajouter un bureau de vote"))
    assert_no_axe_violations(page, "back office : bureau")
    type_into(page, "#id_numero", "1")
    type_into(page, "#id_nom", "Salle des fêtes")
    submit(page, "Ajouter le bureau")
    page.wait_for_url(re.compile(f".*/communes/{cordes.pk}/$"))
    assert BureauDeVote.objects.filter(commune=cordes, numero=1, nom="Salle des fêtes").exists()

    # The register extract: one bad line and nothing is imported; then the corrected file.
    bad = tmp_path / "reu-erreur.csv"
    bad.write_text(HEADER + "400000001;Valentin;;Rose;F;02/03/1988;Albi;1;;\n400000002;Blanc;;Jean;Z;02/03/1988;;1;;\n",
                   encoding="utf-8")
    follow(page, text_is("Importer l'extrait du répertoire électoral"))
    assert_no_axe_violations(page, "back office : import")
    pick_file(page, "#id_fichier", str(bad))
    submit(page, "Importer")
    assert "Aucun électeur importé : 1 ligne rejetée sur 2" in page.locator("#rapport").inner_text()
    rejected = page.locator("#lignes-rejetees tbody tr")
    assert rejected.count() == 1 and rejected.inner_text().startswith("3")
    assert "Sexe « Z » : F ou M attendu." in rejected.inner_text()
    assert not Electeur.objects.filter(commune=cordes).exists()
    assert_no_axe_violations(page, "back office : import (lignes rejetées)")
    good = tmp_path / "reu.csv"
    good.write_text(HEADER + "400000001;Valentin;;Rose;F;02/03/1988;Albi;1;;\n400000002;Blanc;;Jean;M;02/03/1988;;1;;\n",
                    encoding="utf-8")
    pick_file(page, "#id_fichier", str(good))
    submit(page, "Importer")
    page.wait_for_url(re.compile(f".*/communes/{cordes.pk}/$"))
    assert "Électeurs ajoutés : 2" in page.content()
    assert Electeur.objects.filter(commune=cordes, bureau__numero=1).count() == 2

    # Its administrator (procurations).
    follow(page, text_is("Créer un administrateur de la commune"))
    assert_no_axe_violations(page, "back office : administrateur")
    type_into(page, "#id_username", "maire.cordes")
    type_into(page, "#id_first_name", "Inès")
    type_into(page, "#id_last_name", "Morel")
    type_into(page, "#id_email", "ines.morel@cordes.example")
    submit(page, "Créer le compte")
    page.wait_for_url(re.compile(f".*/communes/{cordes.pk}/$"))
    assert "Inès MOREL" in page.locator("#administrateurs").inner_text()
    assert User.objects.get(username="maire.cordes").is_commune_admin

    # ... who is also its maire: an élu with a crédit d'heures.
    follow(page, text_is("Déclarer un élu"))
    assert_no_axe_violations(page, "back office : déclarer un élu")
    choose(page, "#id_user", "Inès MOREL")
    choose(page, "#id_fonction", "Maire")
    submit(page, "Déclarer l'élu")
    assert page.url.endswith(f"/communes/{cordes.pk}/")
    assert "Maire" in page.locator("#elus").inner_text()
    # 122 h 30 (fewer than 10,000 inhabitants) + 20 % majoration = 147 h.
    assert User.objects.get(username="maire.cordes").mandat.credit() == 147 * 60

    # A partial election in Cordes only.
    follow(page, 'a[href="/backoffice/scrutins/"]')
    follow(page, text_is("Ajouter un scrutin"))
    assert_no_axe_violations(page, "back office : nouveau scrutin")
    choose(page, "#id_type", "Élection partielle")
    type_into(page, "#id_libelle", "Municipale partielle de Cordes-sur-Ciel")
    type_date(page, "#id_date_tour1", datetime.date(2027, 3, 14))
    type_date(page, "#id_date_tour2", datetime.date(2027, 3, 21))
    choose(page, "#id_communes", "Cordes-sur-Ciel")
    submit(page, "Enregistrer le scrutin")
    page.wait_for_url(re.compile(".*/backoffice/scrutins/$"))
    scrutin = Scrutin.objects.get(libelle="Municipale partielle de Cordes-sur-Ciel")
    assert list(scrutin.communes.all()) == [cordes]
    assert "Cordes-sur-Ciel (81060)" in page.locator("#scrutins").inner_text()
    assert_no_axe_violations(page, "back office : scrutins")

    # An officer in a new unit.
    follow(page, 'a[href="/backoffice/unites/"]')
    assert_no_axe_violations(page, "back office : unités")
    follow(page, text_is("Habiliter un officier ou un agent"))
    assert_no_axe_violations(page, "back office : habilitation")
    for field, value in (("username", "opj.leroy"), ("first_name", "Marc"), ("last_name", "Leroy"),
                         ("email", "marc.leroy@interieur.example")):
        type_into(page, f"#id_{field}", value)
    choose(page, "#id_qualite", "Officier de police judiciaire")
    type_into(page, "#id_unite", "Brigade de Cordes-sur-Ciel")
    type_into(page, "#id_matricule", "5550001")
    submit(page, "Habiliter")
    page.wait_for_url(re.compile(".*/backoffice/unites/$"))
    table = page.locator('table[data-unite="Brigade de Cordes-sur-Ciel"]')
    assert "LEROY Marc" in table.inner_text() and "Officier de police judiciaire" in table.inner_text()
    assert policier.unite in page.content()
    assert User.objects.get(username="opj.leroy").role == Role.POLICIER


def test_other_roles_are_refused_in_the_browser(live_server, page, agent_mairie):
    page.goto(live_server.url + reverse("backoffice:home"))
    assert "/backoffice/connexion/" in page.url
    keyboard_staff_login(page, live_server, reverse("mairie:home"), agent_mairie)
    response = page.goto(live_server.url + reverse("backoffice:communes"))
    assert response.status == 403
