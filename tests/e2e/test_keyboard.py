"""The three flows of test_flows.py completed with the keyboard only (Tab, Shift+Tab, Enter, Space,
arrow keys, typing): no click, no fill. Outcomes are checked on screen (and in the database);
e-mails are covered by test_flows.py."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from listes.models import Decision, Teledossier
from procuration.models import Procuration, Status, User
from tests.e2e._helpers import PASSWORD, new_page, totp_code
from tests.e2e.keyboard import activate, choose, focused, pick_file, tab_to, text_is, type_date, type_into
from tests.factories import ProcurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def keyboard_franceconnect_login(page, live_server, provider_url, sub, start=None):
    start = start or reverse("mandant:home")
    page.goto(live_server.url + start)
    assert "/mandant/connexion/" in page.url
    activate(page, "#franceconnect-login")
    page.wait_for_url(re.compile(re.escape(provider_url) + "/.*"))
    activate(page, text_is(sub))  # the local provider's page: one button per predefined identity
    page.wait_for_url(live_server.url + start)


def keyboard_staff_login(page, live_server, path, user):
    page.goto(live_server.url + path)
    type_into(page, "#id_login", user.username)
    type_into(page, "#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/authenticate/.*|.*/mfa/.*"))
    assert page.locator("h1").inner_text() == "Double authentification"
    type_into(page, "#id_code", totp_code(user.totp_secret))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(".*" + re.escape(path) + "$"))


def keyboard_demande_validite(page, scrutin):
    """From « Mes procurations »: a new demande for both tours of `scrutin` (established in France, the
    initial choice), up to the mandataire step."""
    activate(page, "#nouvelle-demande")
    page.wait_for_url(re.compile(r".*/demande/validite/$"))
    choose(page, "#id_scrutin", str(scrutin))
    activate(page, "#id_tour1", key="Space")
    activate(page, "#id_tour2", key="Space")
    assert page.locator("#id_tour1").is_checked() and page.locator("#id_tour2").is_checked()
    activate(page, "#form-validite button[type=submit]")
    page.wait_for_url(re.compile(r".*/demande/mandataire/$"))


def keyboard_mandataire_by_nne(page, nne: str, date_naissance):
    """The mandataire step: the NNE and the date of birth typed (the live check then runs)."""
    type_into(page, "#id_nne", nne)
    type_date(page, "#id_date_naissance_nne", date_naissance)


def keyboard_counter_validation(officer, reference: str):
    """At the counter: the reference typed, the passport checked, the procuration validated."""
    type_into(officer, "#id_reference", reference)
    officer.keyboard.press("Enter")
    officer.wait_for_url(re.compile(r".*/police/procuration/[^/]+/$"))
    choose(officer, "#form-valider select", "Passeport")
    type_into(officer, "#form-valider input[type=text]", "45ab")
    activate(officer, "#form-valider button[type=submit]")


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Contenu"
    page.keyboard.press("Enter")
    # The next Tab lands inside the main content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_procuration_with_the_keyboard_only(
    live_server, page, browser, oidc_provider, mandant_electeur, mandataire, scrutin, policier, agent_mairie,
):
    keyboard_franceconnect_login(page, live_server, oidc_provider, "fc-marie")
    keyboard_demande_validite(page, scrutin)
    keyboard_mandataire_by_nne(page, mandataire.nne, mandataire.date_naissance)
    page.locator("#live-checks-ok").wait_for(timeout=10_000)
    activate(page, "#form-mandataire button[type=submit]")

    page.wait_for_url(re.compile(r".*/demande/recapitulatif/$"))
    activate(page, "#id_attestation", key="Space")
    assert page.locator("#id_attestation").is_checked()
    activate(page, "#form-recap button[type=submit]")
    page.wait_for_url(re.compile(r".*/procurations/\d+/confirmation/$"))
    reference = page.locator("#reference").inner_text().strip()
    assert Procuration.objects.get(reference=reference).status == Status.EN_ATTENTE

    officer = new_page(browser, live_server)
    keyboard_staff_login(officer, live_server, reverse("police:home"), policier)
    keyboard_counter_validation(officer, reference.lower())
    officer.locator("[role=status]").wait_for()
    assert f"Procuration {reference} validée" in officer.locator("[role=status]").inner_text()

    agent = new_page(browser, live_server)
    keyboard_staff_login(agent, live_server, reverse("mairie:queue"), agent_mairie)
    activate(agent, text_is(reference))
    agent.wait_for_url(re.compile(r".*/mairie/procurations/\d+/$"))
    activate(agent, "#validate-form button[type=submit]")
    # The POST redirects to the same URL: waiting for the URL would return at once, before the answer.
    expect(agent.locator("#status")).to_have_text("Validée par la mairie", timeout=15_000)

    # Back to the mandant, still on the confirmation page: follow the procuration.
    activate(page, text_is("Suivre cette procuration"))
    page.wait_for_url(re.compile(r".*/procurations/\d+/$"))
    assert "Validée par la mairie" in page.locator("#status").text_content()
    activate(page, text_is("Mes procurations"))
    page.wait_for_url(live_server.url + reverse("mandant:home"))
    assert "Validée par la mairie" in page.locator("#procurations-donnees tr", has_text=reference).text_content()
    officer.context.close()
    agent.context.close()


def test_resiliation_with_the_keyboard_only(
    live_server, page, oidc_provider, commune, mandant_electeur, mandataire, scrutin,
):
    keyboard_franceconnect_login(page, live_server, oidc_provider, "fc-marie")
    p = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, mandataire=mandataire, commune=commune,
                           scrutin=scrutin, mandant_user=User.objects.get(socialaccount__uid="fc-marie"))
    page.reload()
    activate(page, text_is(f"la procuration {p.reference}"))
    page.wait_for_url(re.compile(rf".*/procurations/{p.pk}/$"))
    activate(page, "#resilier")
    page.wait_for_url(re.compile(rf".*/procurations/{p.pk}/resilier/$"))
    activate(page, "#confirmer-resiliation", key="Space")
    page.wait_for_url(re.compile(rf".*/procurations/{p.pk}/$"))
    # L.75: FranceConnect does not check the identity: a request, waiting for the counter.
    assert p.reference in page.locator("#resiliation-demandee").text_content()
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE and p.resiliation_en_attente


def test_ile_with_the_keyboard_only(
    live_server, page, browser, oidc_provider, commune, scrutin, agent_listes, tmp_path,
):
    from tests.listes.conftest import pdf_bytes, png_bytes

    identite = tmp_path / "carte-identite.pdf"
    identite.write_bytes(pdf_bytes("Carte nationale d'identité"))
    domicile = tmp_path / "facture.png"
    domicile.write_bytes(png_bytes())

    keyboard_franceconnect_login(page, live_server, oidc_provider, "fc-inconnu", start=reverse("listes:usager_home"))
    activate(page, text_is("S'inscrire sur les listes électorales"))
    page.wait_for_url(re.compile(r".*/usager/inscription/$"))
    choose(page, "#id_commune", commune.nom)
    tab_to(page, "input[name=motif_rattachement]")
    page.keyboard.press("Space")
    assert page.locator("#id_motif_rattachement_0").is_checked()
    type_into(page, "#id_lieu_naissance", "Paris")
    type_into(page, "#id_adresse", "3 rue des Lilas")
    type_into(page, "#id_code_postal", "81190")
    type_into(page, "#id_ville", "Almayrac")
    pick_file(page, "#id_piece_identite", str(identite))
    pick_file(page, "#id_piece_attache", str(domicile))
    activate(page, text_is("Transmettre ma demande"))
    page.wait_for_url(re.compile(r".*/usager/dossiers/A-9-[^/]+/$"))
    numero = page.locator("h1").inner_text().removeprefix("Télédossier ")
    assert page.locator("#etat").inner_text() == "Dossier transmis au service traitant"

    agent = new_page(browser, live_server)
    keyboard_staff_login(agent, live_server, reverse("listes:home"), agent_listes)
    activate(agent, text_is(numero))
    agent.wait_for_url(re.compile(r".*/listes/dossiers/A-9-[^/]+/$"))
    type_into(agent, "#id_recevoir-comment", "Votre dossier est en cours d'examen.")
    activate(agent, text_is("Dossier reçu"))
    agent.locator("[role=status]").wait_for()
    assert "Dossier reçu par le service traitant" in agent.locator("[role=status]").inner_text()
    type_into(agent, "#id_accepter-comment", "Votre inscription est enregistrée.")
    activate(agent, text_is("Accepter l'inscription"))
    # A locator, not wait_for_function: its string predicate is eval'd in the page, and the page's CSP
    # (script-src 'self', no 'unsafe-eval') refused it in one run from a fresh clone.
    agent.locator("[role=status]", has_text="Inscription acceptée").wait_for()
    d = Teledossier.objects.get(numero=numero)
    assert d.decision == Decision.ACCEPTEE

    activate(agent, text_is("Liste électorale"))
    agent.wait_for_url(re.compile(r".*/listes/electeurs/$"))
    type_into(agent, "input[type=search], input[name=q]", "Nemo")
    agent.keyboard.press("Enter")
    agent.wait_for_url(re.compile(r".*/listes/electeurs/\?.*"))
    assert any(d.electeur.nne in row for row in agent.locator("tbody tr").all_inner_texts())

    page.reload()
    assert page.locator("#etat").inner_text() == "Dossier clos"
    assert "Votre inscription est enregistrée." in page.locator("#comments").inner_text()
    agent.context.close()
