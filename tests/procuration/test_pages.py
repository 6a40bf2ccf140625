"""The public pages (help, contact, legal notices, personal data, cookies, site map) and the contact
form: its messages reach the chosen mairie or the national support through the outbox; bad input
and too many messages send nothing."""

from html import unescape

import pytest
from django.urls import reverse

from procuration.models import OutboxEmail

pytestmark = pytest.mark.django_db

PAGES = {
    "aide": "Aide : questions fréquentes",
    "contact": "Nous contacter",
    "mentions_legales": "Mentions légales",
    "donnees_personnelles": "Données personnelles",
    "cookies": "Gestion des cookies",
    "plan_du_site": "Plan du site",
}
FOOTER = ["plan_du_site", "accessibilite", "mentions_legales", "donnees_personnelles", "cookies", "aide", "contact"]


def text(response) -> str:
    return unescape(response.content.decode())


@pytest.mark.parametrize("url", ["/", "/mandant/connexion/", "/mairie/connexion/", "/page-qui-n-existe-pas/"])
def test_every_page_links_the_legal_pages_from_the_dsfr_footer(client, url):
    html = text(client.get(url))
    bottom = html[html.index('<ul class="fr-footer__bottom-list">'):]
    bottom = bottom[:bottom.index("</ul>")]
    for name in FOOTER:
        assert f'class="fr-footer__bottom-link" href="{reverse(name)}"' in bottom, name


@pytest.mark.parametrize(("name", "h1"), PAGES.items())
def test_public_page_answers_to_anyone(client, name, h1):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert f"<h1>{h1}</h1>" in text(response)


def test_help_answers_the_new_users_questions(client):
    html = text(client.get(reverse("aide")))
    for question in ("Qu'est-ce que la référence de ma demande ?", "Où dois-je aller ensuite ?", "Que dois-je apporter ?",
                     "Combien de temps cela prend-il ?", "J'ai perdu ma référence", "Ma demande a expiré"):
        assert question in html, question
    assert f'<a href="{reverse("mandant:home")}">Mes procurations</a>' in html


def test_personal_data_page_gives_the_products_retention_periods(client, settings):
    settings.PROCURATION_RETENTION_DAYS = 400
    settings.PROCURATION_PURGE_EXPIRED_AFTER_DAYS = 9
    html = text(client.get(reverse("donnees_personnelles")))
    assert ("Elle expire 2 mois calendaires après la demande ; ses données sont détruites à l'expiration, dès que le "
            "courriel qui vous en informe est parti." in html)
    assert "Détruite 9 jours après le refus." in html
    assert "Conservée jusqu'à 1 an (400 jours) après la fin de sa validité" in html
    for right in ("droit d'accès", "CNIL", reverse("contact")):
        assert right in html


def test_cookies_page_says_no_tracking_and_names_the_two_cookies(client, settings):
    html = text(client.get(reverse("cookies")))
    assert "ne dépose aucun cookie de mesure d'audience, de publicité ni de suivi" in html
    assert f"<code>{settings.SESSION_COOKIE_NAME}</code>" in html and f"<code>{settings.CSRF_COOKIE_NAME}</code>" in html
    # What a visit really sets: the CSRF cookie of the contact form, nothing else.
    client.get(reverse("contact"))
    assert set(client.cookies) <= {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}


def contact_data(**extra):
    return {"nom": "Marie Dupont", "email": "marie@example.fr", "sujet": "Ma procuration",
            "message": "Bonjour,\noù en est ma procuration ?", "reference": "", **extra}


def test_contact_message_reaches_the_chosen_mairie(client, commune, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contact"), contact_data(commune=commune.pk, reference="k7m-2qx"))
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [commune.email_service]
    assert mail.subject == "Formulaire de contact — mairie d'Almayrac : Ma procuration"
    assert "De : Marie Dupont <marie@example.fr>" in mail.body and "où en est ma procuration ?" in mail.body
    assert "Référence de procuration indiquée : K7M2QX" in mail.body
    assert OutboxEmail.objects.get().state == OutboxEmail.State.SENT
    assert "Votre message a été transmis à la mairie d'Almayrac." in text(client.get(response["Location"]))


def test_contact_message_without_commune_reaches_the_national_support(client, settings, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    settings.SUPPORT_EMAIL = "support-test@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("contact"), contact_data(commune="")).status_code == 302
    assert [m.to for m in mailoutbox] == [["support-test@example.org"]]
    assert mailoutbox[0].subject == "Formulaire de contact : Ma procuration"


def test_contact_to_a_commune_without_service_address_goes_to_support(client, settings, commune, mailoutbox,
                                                                       django_capture_on_commit_callbacks):
    settings.SUPPORT_EMAIL = "support-test@example.org"
    commune.email_service = ""
    commune.save(update_fields=["email_service"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contact"), contact_data(commune=commune.pk))
    assert [m.to for m in mailoutbox] == [["support-test@example.org"]]
    assert "adressé à la mairie d'Almayrac" in mailoutbox[0].body


@pytest.mark.parametrize(("data", "field", "message"), [
    (contact_data(nom=""), "nom", "Indiquez vos nom et prénom."),
    (contact_data(email="marie@"), "email", "Cette adresse électronique n'est pas valide. Format attendu : nom@domaine.fr"),
    (contact_data(message=""), "message", "Écrivez votre message."),
    (contact_data(message="x" * 3001), "message", "Votre message est trop long : 3 000 caractères au plus."),
    (contact_data(commune="999999"), "commune", "Cette commune n'existe pas : choisissez-la dans la liste."),
    (contact_data(reference="AB"), "reference", "La référence d'enregistrement compte 6 caractères ; vous en avez saisi 2."),
])
def test_contact_bad_input_sends_nothing(client, mailoutbox, django_capture_on_commit_callbacks, data, field, message):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contact"), data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert message in text(response)
    assert not mailoutbox and not OutboxEmail.objects.exists()


def test_contact_form_is_rate_limited_per_address(client, settings, commune, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    settings.CONTACT_LIMIT = 2
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [client.post(reverse("contact"), contact_data(commune=commune.pk)).status_code for _ in range(3)]
        refused = client.post(reverse("contact"), contact_data(commune=commune.pk))
    assert statuses == [302, 302, 429]
    assert "Vous avez envoyé trop de messages en peu de temps." in text(refused)
    assert len(mailoutbox) == 2 and OutboxEmail.objects.count() == 2
