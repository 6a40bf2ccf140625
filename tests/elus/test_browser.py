"""The élu's flow in Chromium on the real stack, keyboard only, axe-core on every page: login to
the mairie portal with TOTP, the crédit of the quarter, an absence refused past the crédit then
recorded, the employer notice downloaded (PDF), and the public simulator."""

import datetime
import re
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from elus.models import Absence, Mandat
from procuration.credit_heures import quarter_bounds
from tests.a11y.axe import assert_no_axe_violations
from tests.e2e.keyboard import choose, tab_to, text_is, type_date, type_into
from tests.e2e.test_keyboard import keyboard_staff_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def follow(page, target):
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_elu_records_an_absence_and_prints_the_notice(live_server, page, commune_admin, commune):
    commune.population = 12_000
    commune.save()
    Mandat.objects.create(user=commune_admin, fonction="adjoint", temps_travail=50, employeur="SARL Ségala")
    today = timezone.localdate()
    day = today + datetime.timedelta(days=1)
    if quarter_bounds(day) != quarter_bounds(today):
        day = today

    keyboard_staff_login(page, live_server, reverse("mairie:home"), commune_admin)
    follow(page, text_is("Mon crédit d'heures"))
    assert page.url.endswith(reverse("elus:espace"))
    # Adjoint of a commune of 12,000: 122 h 30 a quarter, half time: 61 h 15.
    assert page.locator("#credit").inner_text() == "61 h 15"
    assert_no_axe_violations(page, "espace élu")

    type_date(page, "#id_date", day)
    type_into(page, "#id_duree", "62 h")
    follow(page, text_is("Enregistrer l'absence"))
    error = page.locator("#id_duree").locator("xpath=ancestor::div[contains(@class,'fr-input-group')]").inner_text()
    assert "Cette absence dépasse votre crédit d'heures du trimestre : il vous reste 61 h 15 sur 61 h 15" in error
    assert not Absence.objects.exists()
    assert_no_axe_violations(page, "espace élu (erreur)")

    tab_to(page, "#id_duree")
    page.keyboard.press("Control+a")
    page.keyboard.type("3 h 30")
    follow(page, text_is("Enregistrer l'absence"))
    assert "enregistrée (3 h 30)" in page.content()
    # Closer than 3 days: the page says the employer must be told 3 days before.
    assert "au moins 3 jours avant l'absence" in page.locator('[role="status"]').inner_text()
    assert page.locator("#reste-trimestre").inner_text() == "57 h 45"
    assert_no_axe_violations(page, "espace élu (absence enregistrée)")

    tab_to(page, text_is(f"Avis du {day:%d/%m/%Y} (PDF)"))
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = download.value.path()
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout.decode()
    text = " ".join(text.split())
    assert "Durée de l'absence 3 h 30" in text and "Crédit restant ce trimestre 57 h 45" in text
    assert "SARL Ségala" in text


def test_public_simulator_with_the_keyboard(live_server, page):
    page.goto(live_server.url + reverse("elus:simulateur"))
    assert_no_axe_violations(page, "simulateur")
    choose(page, "#id_assemblee", "Conseil régional")
    choose(page, "#id_fonction", "Vice-président")
    type_into(page, "#id_majoration", "10")
    tab_to(page, "#id_temps_travail")
    page.keyboard.press("Control+a")
    page.keyboard.type("80")
    follow(page, text_is("Calculer le crédit d'heures"))
    # 140 h × 1,1 × 0,8 = 123 h 12.
    assert page.locator("#resultat h2").inner_text() == "Crédit d'heures : 123 h 12 par trimestre"
    assert_no_axe_violations(page, "simulateur (résultat)")
    choose(page, "#id_assemblee", "Conseil municipal")
    choose(page, "#id_fonction", "Maire")
    follow(page, text_is("Calculer le crédit d'heures"))
    assert "Indiquez la population de la commune" in page.locator("#id_population").locator(
        "xpath=ancestor::div[contains(@class,'fr-input-group')]").inner_text()
    assert page.locator("#resultat").count() == 0
    assert_no_axe_violations(page, "simulateur (erreur)")
    assert re.search(r"803 h 30", page.locator("#plafond").inner_text())
