"""In Chromium: the public pages from the footer, the contact form (errors, then a message that reaches
the mairie), the demande's conditional reveal (with and without JavaScript), the récépissé link;
axe-core finds nothing on any of them."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.a11y.axe import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOOTER = ["Plan du site", "Mentions légales", "Données personnelles", "Gestion des cookies", "Aide", "Nous contacter"]


def test_footer_leads_to_each_public_page_and_axe_finds_nothing(live_server, page):
    page.goto(live_server.url + "/")
    for label in FOOTER:
        page.locator("footer").get_by_role("link", name=label, exact=True).click()
        heading = page.locator("h1")
        assert heading.count() == 1 and heading.is_visible()
        assert_no_axe_violations(page, label)
        page.goto(live_server.url + "/")


def test_contact_form_errors_then_message_to_the_mairie(live_server, page, commune):
    from procuration.models import OutboxEmail

    page.goto(live_server.url + reverse("contact"))
    page.get_by_role("button", name="Envoyer le message").click()
    assert page.get_by_role("alert").first.inner_text().startswith("Le formulaire contient des erreurs")
    assert page.get_by_text("Indiquez vos nom et prénom.").is_visible()
    assert_no_axe_violations(page, "contact (erreurs)")
    assert not OutboxEmail.objects.exists()

    page.get_by_label("À qui écrivez-vous ?").select_option(label=str(commune))
    page.get_by_label("Vos nom et prénom").fill("Marie Dupont")
    page.get_by_label("Votre adresse électronique").fill("marie@example.fr")
    page.get_by_label("Objet").fill("Procuration perdue")
    page.get_by_label("Votre message").fill("Je ne retrouve pas ma référence.")
    page.get_by_role("button", name="Envoyer le message").click()
    assert page.get_by_text("Votre message a été transmis à la mairie d'Almayrac.").is_visible()
    assert_no_axe_violations(page, "contact (envoyé)")
    mail = OutboxEmail.objects.get()
    assert mail.to == commune.email_service and mail.kind == "contact_message"
    assert "Je ne retrouve pas ma référence." in mail.body_text


def _login(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])


def test_demande_shows_only_the_chosen_group_with_javascript(live_server, page, client, mandant_user):
    _login(page, live_server, client, mandant_user)
    page.goto(live_server.url + reverse("mandant:demande_validite"))
    scrutin, duree = page.locator("#bloc-scrutin"), page.locator("#bloc-duree")
    assert scrutin.is_visible() and not duree.is_visible()  # « pour un scrutin » is the initial choice
    page.locator('label[for="id_portee_1"]').click()  # DSFR's radio: the label takes the click
    assert page.locator("#id_portee_1").is_checked()
    assert duree.is_visible() and not scrutin.is_visible()
    assert page.locator("#id_valid_from").is_visible()
    assert_no_axe_violations(page, "demande (durée)")
    page.locator('label[for="id_portee_0"]').click()
    assert scrutin.is_visible() and not duree.is_visible()


def test_demande_shows_every_field_without_javascript(live_server, browser, client, mandant_user):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        _login(page, live_server, client, mandant_user)
        page.goto(live_server.url + reverse("mandant:demande_validite"))
        assert page.locator("#bloc-scrutin").is_visible() and page.locator("#bloc-duree").is_visible()
        assert page.locator("#id_valid_from").is_visible() and page.locator("#id_scrutin").is_visible()
    finally:
        context.close()


def test_recepisse_is_a_visible_labelled_link(live_server, page, client, mandant_user, mandant_electeur, policier):
    from tests.factories import ProcurationFactory

    p = ProcurationFactory(mandant=mandant_electeur, mandant_user=mandant_user, email_contact="marie@example.fr")
    p.soumettre(by=mandant_user)
    p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
    _login(page, live_server, client, mandant_user)
    page.goto(live_server.url + reverse("mandant:detail", args=[p.pk]))
    link = page.get_by_role("link", name="Télécharger le récépissé (PDF)", exact=True)
    assert link.is_visible() and link.inner_text().strip() == "Télécharger le récépissé (PDF)"
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert_no_axe_violations(page, "suivi d'une procuration")
