"""Issue 14, the wording, on the real stack (Chromium, PostgreSQL, Redis, a real Celery worker and SMTP
sink where an e-mail is read), keyboard only: each message is read where its user sees it.

- the plafond message names what the mandataire holds (mandant's demande, mairie's dossier);
- « établie en France » with its capital (mandant's récapitulatif and suivi);
- an NNE typed with non-ASCII digits is a format error on its field (mandant's demande, police CERFA);
- the commune after « de » with its élision (mairie dashboard, counter message, e-mail to the mandant).
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.a11y.axe import assert_no_axe_violations
from tests.e2e._helpers import body, messages_to, subject, wait_for_mail
from tests.e2e.keyboard import activate, type_into
from tests.e2e.test_keyboard import (
    keyboard_counter_validation,
    keyboard_demande_validite,
    keyboard_franceconnect_login,
    keyboard_mandataire_by_nne,
    keyboard_staff_login,
)
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAFOND_FRANCE = "Le mandataire détient déjà une procuration établie en France sur cette période"
NNE_FORMAT = "Le numéro national d'électeur compte 8 ou 9 chiffres ; il figure sur la carte électorale."
ARABIC_INDIC = "١٢٣٤٥٦٧٨٩"  # 123456789 in Arabic-Indic digits
FULLWIDTH = "１２３４５６７８９"  # 123456789 in fullwidth digits


def _demande_up_to_the_mandataire(page, live_server, oidc_provider, scrutin):
    """Marie logs in with FranceConnect and fills step 1 (the scrutin, both tours, in France)."""
    keyboard_franceconnect_login(page, live_server, oidc_provider, "fc-marie")
    keyboard_demande_validite(page, scrutin)


def _submit_mandataire(page):
    activate(page, "#form-mandataire button[type=submit]")
    page.wait_for_load_state()


# ------------------------------------------------------------------ the plafond names what is held


def test_plafond_message_in_the_mandant_demande(live_server, page, oidc_provider, mandant_electeur, mandataire,
                                                scrutin):
    ProcurationFactory(validee_autorite=True, mandataire=mandataire, scrutin=scrutin)
    _demande_up_to_the_mandataire(page, live_server, oidc_provider, scrutin)
    keyboard_mandataire_by_nne(page, mandataire.nne, mandataire.date_naissance)
    # The live check says it while typing...
    live = page.locator("#live-checks-error")
    live.wait_for(timeout=10_000)
    assert PLAFOND_FRANCE in live.inner_text()
    # ... and the submitted step on the NNE field.
    _submit_mandataire(page)
    assert page.url.endswith(reverse("mandant:demande_mandataire"))
    error = page.locator("#id_nne-desc-error")
    assert PLAFOND_FRANCE in error.inner_text()
    assert "il ne peut en recevoir une seconde que si elle est établie à l'étranger" in error.inner_text()
    assert_no_axe_violations(page, "demande: mandataire (plafond)")


def test_plafond_message_on_the_mairie_dossier(live_server, page, agent_mairie, commune):
    mandataire = ElecteurFactory(commune=commune)
    first = ProcurationFactory(validee_autorite=True, commune=commune, mandataire=mandataire,
                               mandant=ElecteurFactory(commune=commune),
                               autorite_at=timezone.now() - datetime.timedelta(hours=1))
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandataire=mandataire, scrutin=first.scrutin,
                           mandant=ElecteurFactory(commune=commune))
    keyboard_staff_login(page, live_server, reverse("mairie:detail", args=[p.pk]), agent_mairie)
    plafond_row = page.locator("#checks tbody tr", has_text="Non conforme")
    assert plafond_row.count() == 1
    assert PLAFOND_FRANCE in plafond_row.inner_text()
    assert "ne peut pas être validée, même après vérification" in page.locator("#validate-form").inner_text()
    assert_no_axe_violations(page, "mairie: dossier (plafond)")


# ------------------------------------------------------------------ « établie en France », capital F


def test_recapitulatif_and_suivi_say_established_in_france(live_server, page, oidc_provider, mandant_electeur,
                                                           mandataire, scrutin):
    _demande_up_to_the_mandataire(page, live_server, oidc_provider, scrutin)
    keyboard_mandataire_by_nne(page, mandataire.nne, mandataire.date_naissance)
    page.locator("#live-checks-ok").wait_for(timeout=10_000)
    _submit_mandataire(page)
    page.wait_for_url(re.compile(r".*/demande/recapitulatif/$"))
    assert page.locator("#recap-validite").inner_text().endswith("— procuration établie en France")
    assert_no_axe_violations(page, "demande: récapitulatif")

    activate(page, "#id_attestation", key="Space")
    activate(page, "#form-recap button[type=submit]")
    page.wait_for_url(re.compile(r".*/procurations/\d+/confirmation/$"))
    activate(page, lambda el: "Suivre cette procuration" in el["text"])
    page.wait_for_url(re.compile(r".*/procurations/\d+/$"))
    validite = page.locator("dt", has_text="Validité").locator("xpath=following-sibling::dd[1]")
    assert validite.inner_text().endswith("— établie en France")
    assert_no_axe_violations(page, "suivi d'une procuration")


# ------------------------------------------------------------------ NNE typed with non-ASCII digits


def test_non_ascii_nne_is_a_format_error_in_the_mandant_demande(live_server, page, oidc_provider, mandant_electeur,
                                                                mandataire, scrutin):
    assert mandataire.nne == "123456789"  # what the Arabic-Indic digits read as: a lookup would find him
    _demande_up_to_the_mandataire(page, live_server, oidc_provider, scrutin)
    keyboard_mandataire_by_nne(page, ARABIC_INDIC, mandataire.date_naissance)
    assert page.locator("#id_nne").input_value() == ARABIC_INDIC
    live = page.locator("#live-checks-error")
    live.wait_for(timeout=10_000)
    assert NNE_FORMAT in live.inner_text()
    _submit_mandataire(page)
    assert page.url.endswith(reverse("mandant:demande_mandataire"))
    assert NNE_FORMAT in page.locator("#id_nne-desc-error").inner_text()
    assert "ne correspond" not in page.locator("main").inner_text()
    assert_no_axe_violations(page, "demande: mandataire (NNE en chiffres non ASCII)")


def test_non_ascii_nne_is_a_format_error_on_the_police_cerfa(live_server, page, policier):
    ElecteurFactory(nne="123456789")
    keyboard_staff_login(page, live_server, reverse("police:cerfa"), policier)
    type_into(page, "#id_mandataire_nne", FULLWIDTH)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form, as Enter in a text field does
    assert NNE_FORMAT in page.locator("#id_mandataire_nne-desc-error").inner_text()
    assert "ne correspond" not in page.locator("main").inner_text()
    assert page.locator("#id_mandataire_nne").input_value() == FULLWIDTH  # kept for the officer to correct
    assert_no_axe_violations(page, "police: CERFA (NNE en chiffres non ASCII)")


# ------------------------------------------------------------------ « d'Almayrac »


def test_commune_with_its_elision_on_the_counter_the_dashboard_and_the_mail(
    live_server, page, browser, policier, agent_mairie, commune, mandant_electeur, celery_worker, smtp_sink,
):
    from tests.e2e._helpers import new_page

    p = ProcurationFactory(en_attente=True, commune=commune, mandant=mandant_electeur,
                           email_contact="marie@example.fr")
    keyboard_staff_login(page, live_server, reverse("police:home"), policier)
    keyboard_counter_validation(page, p.reference)
    page.wait_for_url(re.compile(r".*/police/actes/\d+/$"))
    assert (f"Procuration {p.reference} validée. Elle est transmise à la mairie d'Almayrac "
            "et le mandant est informé par courriel.") in page.locator("[role=status]").inner_text()
    assert_no_axe_violations(page, "police: acte validé")

    mail = next(m for m in wait_for_mail(smtp_sink, 1) if m in messages_to(smtp_sink, "marie@example.fr"))
    assert subject(mail) == f"Procuration {p.reference} : identité vérifiée"
    assert "Elle est transmise à la mairie d'Almayrac, qui la vérifie" in body(mail)

    agent = new_page(browser, live_server)
    keyboard_staff_login(agent, live_server, reverse("mairie:home"), agent_mairie)
    assert agent.locator("h1").inner_text() == "Procurations d'Almayrac"
    assert_no_axe_violations(agent, "mairie: tableau de bord")
    agent.context.close()
