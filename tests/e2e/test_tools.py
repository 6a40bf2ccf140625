"""Issue 14, first half, on the real stack (Chromium, PostgreSQL, Redis, a real Celery worker), keyboard only:
the mairie searches, exports the results in CSV (progress, then download), prints a dossier and the
queue; the guichet de suivi exports its list."""

import csv
import io
import re

import pytest
from django.urls import reverse

from mairie.models import ExportJob
from tests.a11y.axe import assert_no_axe_violations
from tests.e2e.keyboard import activate, text_is, type_into
from tests.e2e.test_keyboard import keyboard_staff_login
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mairie_searches_exports_and_prints_with_the_keyboard(live_server, page, agent_mairie, commune,
                                                               other_commune, celery_worker):
    eloise = ProcurationFactory(validee_mairie=True, commune=commune,
                                mandant=ElecteurFactory(commune=commune, nom="Lecœur", prenoms="Éloïse"))
    waiting = ProcurationFactory(validee_autorite=True, commune=commune,
                                 mandataire=ElecteurFactory(commune=commune, nom="LECOEUR", prenoms="Jean"))
    foreign = ProcurationFactory(validee_mairie=True, mandant=ElecteurFactory(commune=other_commune, nom="Lecoeur"))

    keyboard_staff_login(page, live_server, reverse("mairie:home"), agent_mairie)
    assert page.locator("h1").inner_text() == "Procurations d'Almayrac"
    assert page.locator("#waiting-count").inner_text() == "1"
    assert_no_axe_violations(page, "tableau de bord")

    activate(page, text_is("Rechercher"))  # the menu entry
    page.wait_for_url(re.compile(r".*/mairie/recherche/$"))
    type_into(page, "#id_q", "ELOISE lecoeur")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result-count")
    assert page.locator("#results tbody tr").count() == 1
    assert page.locator(f'tr[data-reference="{eloise.reference}"]').is_visible()
    assert_no_axe_violations(page, "recherche")

    # A broader search, then its CSV: built by the worker, the page shows the progress then the link.
    page.goto(live_server.url + reverse("mairie:search") + "?q=lecoeur")
    assert page.locator("#results tbody tr").count() == 2
    activate(page, text_is("Exporter ces résultats en CSV"))
    page.wait_for_url(re.compile(r".*/mairie/registre/exports/\d+/$"))
    assert page.locator("h1").inner_text() == "Export CSV : résultats de recherche"
    assert page.locator("#job-progress").count() == 1
    page.wait_for_selector("#download", timeout=60_000)  # the page refreshes itself until the file is ready
    assert_no_axe_violations(page, "export terminé")
    with page.expect_download() as download:
        activate(page, "#download")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert {r[0] for r in rows[1:]} == {eloise.reference, waiting.reference}
    assert foreign.reference not in {r[0] for r in rows}
    assert ExportJob.objects.get().state == ExportJob.State.DONE

    # Printing a dossier: the reference and the identities, no header, navigation nor decision forms.
    page.goto(live_server.url + reverse("mairie:detail", args=[waiting.pk]))
    page.emulate_media(media="print")
    assert page.locator("header.fr-header").is_hidden() and page.locator("footer.fr-footer").is_hidden()
    assert page.locator("#decisions").is_hidden()
    assert waiting.reference in page.locator("h1").inner_text() and page.locator("h1").is_visible()
    assert page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor") in ("rgb(255, 255, 255)",)
    assert page.pdf()[:4] == b"%PDF"
    # The queue too: the table stays, filters and buttons go.
    page.goto(live_server.url + reverse("mairie:queue"))
    assert page.locator("#filters").is_hidden() and page.locator("#fr-navigation").is_hidden()
    assert page.locator(f'tr[data-reference="{waiting.reference}"]').is_visible()
    page.emulate_media(media="screen")
    assert page.locator("#filters").is_visible()


def test_listes_agent_exports_the_list_with_the_keyboard(live_server, page, agent_listes, commune, mandant_user):
    import datetime

    from listes.models import Teledossier

    d = Teledossier.deposer(usager=mandant_user, pieces=[], demarche="ile", commune=commune, nom="Dupont",
                            prenoms="Marie", sexe="F", date_naissance=datetime.date(1990, 1, 1),
                            lieu_naissance="Albi", adresse="1 rue", code_postal="81000", ville="Albi",
                            motif_rattachement="domicile")
    keyboard_staff_login(page, live_server, reverse("listes:home"), agent_listes)
    assert_no_axe_violations(page, "guichet de suivi")
    with page.expect_download() as download:
        activate(page, "#export-csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert d.numero in text and "DUPONT" in text
