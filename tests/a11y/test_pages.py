"""axe-core (WCAG 2.1 A/AA + best practices) on the pages reachable without going through a flow,
and a control showing the helper does fail on real defects. The pages of the flows themselves are
checked step by step in tests/e2e/."""

import pytest
from django.urls import reverse

from tests.a11y.axe import AXE_VERSION_EXPECTED, assert_no_axe_violations, axe_violations

pytestmark = pytest.mark.browser


def test_axe_is_the_pinned_version_and_catches_real_defects(live_server, page):
    page.goto(live_server.url + "/")
    assert_no_axe_violations(page)
    assert page.evaluate("axe.version") == AXE_VERSION_EXPECTED
    # Plant three classic defects: an image without text, a field without label, a low contrast text.
    page.evaluate("""() => {
      const main = document.querySelector('main') || document.body;
      main.insertAdjacentHTML('beforeend',
        '<img src="/static/nothing.png"><input type="text" id="orphan">' +
        '<p style="color:#bbb;background:#fff">Texte peu contrasté</p>');
    }""")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label", "color-contrast"} <= ids
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_no_axe_violations(page, "page piégée")
    message = str(failure.value)
    assert "image-alt" in message and "#orphan" in message and "page piégée" in message


@pytest.mark.parametrize("path", [
    "/",
    "/accessibilite/",
    "/mandant/connexion/",
    "/police/connexion/",
    "/mairie/connexion/",
    "/listes/connexion/",
    "/page-qui-n-existe-pas/",
])
def test_public_pages_have_no_axe_violations(live_server, page, path):
    page.goto(live_server.url + path)
    assert page.locator("h1").count() == 1
    assert_no_axe_violations(page, path)


@pytest.mark.django_db
def test_forbidden_page_has_no_axe_violations(live_server, page, client, mandant_user):
    """A mandant on the police portal: the 403 page."""
    from django.conf import settings

    client.force_login(mandant_user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    response = page.goto(live_server.url + reverse("police:home"))
    assert response.status == 403
    assert_no_axe_violations(page, "403")


@pytest.mark.django_db
def test_accessibility_statement_is_a_complete_rgaa_declaration(client):
    import html
    import re
    from pathlib import Path

    from django.conf import settings

    response = client.get(reverse("accessibilite"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    for heading in ("État de conformité", "Contenus non accessibles", "Établissement de cette déclaration",
                    "Retour d'information et contact", "Voies de recours"):
        assert f">{heading}" in page, heading
    # Honest: partially compliant, no audit claimed, no compliance rate published.
    assert '<strong id="statut-conformite">partiellement conforme</strong>' in page
    assert "Aucun audit de conformité complet" in page
    assert 'datetime="2026-11-26"' in page and 'datetime="2026-12-05"' in page
    # The tool named is the version the tests actually run (scripts/axe.sh), in its own item.
    pinned = re.search(r"^AXE_VERSION=(\S+)$", (Path(settings.BASE_DIR) / "scripts/axe.sh").read_text(), re.M)[1]
    assert pinned == AXE_VERSION_EXPECTED
    assert (f'<li id="outil-axe">axe-core {pinned} (Deque Systems), règles WCAG 2.1 A et AA et bonnes pratiques</li>'
            in page)
    # The known non-conformities are the real ones: PDFs tagged (not « non balisés »), the tolerated vnu error listed.
    assert "ne sont pas balisés" not in page and "sont balisés (PDF/UA-1" in page
    assert "aria-labelledby</code> sur un élément sans rôle" in page
    assert "Chromium" in page and "Clavier seul" in page
    assert "Défenseur des droits" in page
    # Every page links to it from the footer, with the same status.
    home = html.unescape(client.get("/").content.decode())
    assert f'href="{reverse("accessibilite")}">Accessibilité : partiellement conforme</a>' in home


@pytest.mark.django_db
def test_activation_pages_have_no_axe_violations(live_server, page, agent_mairie):
    """The staff activation link: the form, its errors, and the page of a used or forged link."""
    from procuration.activation import activation_url

    path = activation_url(agent_mairie).split("://", 1)[1].split("/", 1)[1]
    page.goto(f"{live_server.url}/{path}")
    assert page.locator("h1").count() == 1 and page.locator("#id_password1").count() == 1
    assert_no_axe_violations(page, "activation")
    page.fill("#id_password1", "court")
    page.fill("#id_password2", "autre")
    page.click("button[type=submit]")
    assert page.locator(".fr-error-text").count() >= 1
    assert_no_axe_violations(page, "activation (erreurs)")
    page.goto(f"{live_server.url}/activation/MQ/abc-def/")
    assert "n'est plus valable" in page.locator("main").inner_text()
    assert_no_axe_violations(page, "activation (lien invalide)")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "title"), [("mfa_index", "Double authentification"),
                                             ("account_change_password", "Changer de mot de passe")])
def test_staff_account_pages_have_no_axe_violations(live_server, page, client, policier, name, title):
    """allauth's staff pages in our DSFR templates: the double authentication overview
    (/comptes/2fa/) and the password change."""
    from django.conf import settings

    client.force_login(policier)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    response = page.goto(live_server.url + reverse(name))
    assert response.status == 200
    assert page.locator("h1").inner_text() == title
    assert_no_axe_violations(page, name)


@pytest.mark.django_db
def test_mandataire_espace_has_no_axe_violations(live_server, page, client, mandant_user, mandant_electeur):
    """« Procurations qui me sont confiées » and one of them, with a procuration in force and one ended."""
    from django.conf import settings
    from django.utils import timezone

    from procuration.models import Status
    from tests.factories import ElecteurFactory, ProcurationFactory

    p = ProcurationFactory(validee_mairie=True, mandataire=mandant_electeur,
                           mandant=ElecteurFactory(commune=mandant_electeur.commune, nom="FAURE"))
    ProcurationFactory(validee_mairie=True, status=Status.RESILIEE, ended_at=timezone.now(), mandataire=mandant_electeur,
                       mandant=ElecteurFactory(commune=mandant_electeur.commune, nom="BLANC"))
    client.force_login(mandant_user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    for url in (reverse("mandant:confiees"), reverse("mandant:confiee", args=[p.pk])):
        response = page.goto(live_server.url + url)
        assert response.status == 200 and page.locator("h1").count() == 1
        assert_no_axe_violations(page, url)
