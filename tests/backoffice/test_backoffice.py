"""The national back office: its door, communes, bureaux, scrutins and their scope, officers,
commune administrators, national figures."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration.models import AuditLog, BureauDeVote, Commune, OutboxEmail, Role, Scrutin, Status, User
from tests.factories import CommuneFactory, ProcurationFactory, UserFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_door(client, agent_mairie, policier):
    url = reverse("backoffice:communes")
    r = client.get(url)
    assert r.status_code == 302 and r["Location"] == f"{reverse('backoffice:login')}?next={url}"
    for user in (agent_mairie, policier):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_national_admin_without_totp_is_sent_to_enrol(client):
    admin = UserFactory(username="national-sans-totp", admin_national=True, totp=False)
    client.force_login(admin)
    r = client.get(reverse("backoffice:home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp"))


def test_after_login_lands_on_the_back_office(admin_client):
    r = admin_client.get(reverse("after_login"))
    assert r["Location"] == reverse("backoffice:home")


def test_figures_per_status_and_per_day(admin_client, commune):
    today = timezone.now()
    ProcurationFactory(en_attente=True, commune=commune, submitted_at=today)
    ProcurationFactory(en_attente=True, commune=commune, submitted_at=today)
    ProcurationFactory(validee_mairie=True, commune=commune, submitted_at=today - datetime.timedelta(days=2))
    ProcurationFactory(en_attente=True, commune=commune, submitted_at=today - datetime.timedelta(days=40))
    r = admin_client.get(reverse("backoffice:home"))
    ctx = r.context
    assert dict(ctx["statuses"]) == {Status.EN_ATTENTE.label: 3, Status.VALIDEE_MAIRIE.label: 1}
    per_day = dict(ctx["days"])
    assert per_day[timezone.localdate()] == 2
    assert per_day[timezone.localdate() - datetime.timedelta(days=2)] == 1
    assert ctx["submitted"] == 3  # the one 40 days ago is outside the 30 days
    page = r.content.decode()
    assert page.count('data-value="2"') == 1 and page.count('data-value="1"') == 1
    assert '<svg id="graphique-par-jour" role="img"' in page


def test_create_and_edit_a_commune(admin_client):
    r = admin_client.post(reverse("backoffice:commune_new"), {
        "code_insee": "81004", "nom": "Albi", "departement": "81", "population": "49000",
        "majoration_credit_heures": "15", "email_service": "",
    })
    commune = Commune.objects.get(code_insee="81004")
    assert r["Location"] == reverse("backoffice:commune", args=[commune.pk])
    assert (commune.population, commune.majoration_credit_heures) == (49000, 15)
    r = admin_client.post(reverse("backoffice:commune", args=[commune.pk]), {
        "code_insee": "81004", "nom": "Albi", "departement": "81", "population": "50000",
        "majoration_credit_heures": "31", "email_service": "",
    })
    assert r.status_code == 200
    assert "inférieure ou égale à 30" in text(r)
    commune.refresh_from_db()
    assert commune.population == 49000
    assert AuditLog.objects.filter(action="backoffice.commune_create").count() == 1


def test_bad_insee_code_refused(admin_client):
    r = admin_client.post(reverse("backoffice:commune_new"), {"code_insee": "8100", "nom": "X", "population": "1",
                                                               "majoration_credit_heures": "0"})
    assert "Le code INSEE compte 5 caractères" in text(r)
    assert not Commune.objects.filter(nom="X").exists()


def test_bureaux(admin_client, commune):
    url = reverse("backoffice:bureau_new", args=[commune.pk])
    assert admin_client.post(url, {"numero": "1", "nom": "Mairie", "adresse": ""}).status_code == 302
    r = admin_client.post(url, {"numero": "1", "nom": "École", "adresse": ""})
    assert "La commune a déjà un bureau de vote n° 1." in text(r)
    assert list(BureauDeVote.objects.filter(commune=commune).values_list("nom", flat=True)) == ["Mairie"]
    assert "Mairie" in text(admin_client.get(reverse("backoffice:commune", args=[commune.pk])))


def test_unknown_commune_404(admin_client):
    assert admin_client.get(reverse("backoffice:commune", args=[999999])).status_code == 404


def test_scrutin_with_scope(admin_client, commune, other_commune):
    r = admin_client.post(reverse("backoffice:scrutin_new"), {
        "type": "partielle", "libelle": "Municipale partielle d'Almayrac", "date_tour1": "2027-03-14",
        "date_tour2": "2027-03-21", "communes": [commune.pk],
    })
    assert r.status_code == 302
    s = Scrutin.objects.get(libelle="Municipale partielle d'Almayrac")
    assert list(s.communes.all()) == [commune] and not s.national
    r = admin_client.post(reverse("backoffice:scrutin", args=[s.pk]), {
        "type": "partielle", "libelle": s.libelle, "date_tour1": "2027-03-14", "date_tour2": "2027-03-14",
        "communes": [commune.pk, other_commune.pk],
    })
    assert "Le 2nd tour a lieu après le 1er tour." in text(r)
    assert s.communes.count() == 1
    admin_client.post(reverse("backoffice:scrutin", args=[s.pk]), {
        "type": "presidentielle", "libelle": "Présidentielle", "date_tour1": "2027-04-11", "date_tour2": "",
    })
    s.refresh_from_db()
    assert s.national and s.libelle == "Présidentielle"
    page = text(admin_client.get(reverse("backoffice:scrutins")))
    assert "Présidentielle" in page and "National" in page


def test_officer_habilitation(admin_client, policier):
    r = admin_client.post(reverse("backoffice:officier_new"), {
        "username": "apj.durand", "first_name": "Léa", "last_name": "Durand", "email": "lea.durand@interieur.example",
        "qualite": "APJ", "unite": "Brigade de Cordes", "matricule": "998877",
    })
    assert r.status_code == 302
    officer = User.objects.get(username="apj.durand")
    assert (officer.role, officer.qualite, officer.unite, officer.has_usable_password()) == (
        Role.POLICIER, "APJ", "Brigade de Cordes", False)
    # The officer alone chooses the password: a single-use activation link, through the outbox.
    assert OutboxEmail.objects.get(kind="staff_activation").to == "lea.durand@interieur.example"
    page = text(admin_client.get(reverse("backoffice:unites")))
    assert "Brigade de Cordes" in page and "DURAND Léa" in page and policier.unite in page
    r = admin_client.post(reverse("backoffice:officier_new"), {
        "username": "x", "first_name": "X", "last_name": "Y", "email": "lea.durand@interieur.example",
        "qualite": "", "unite": "", "matricule": "",
    })
    assert "Un compte utilise déjà cette adresse." in text(r)
    assert not User.objects.filter(username="x").exists()


def test_commune_admin_creation(admin_client, commune):
    r = admin_client.post(reverse("backoffice:commune_admin_new", args=[commune.pk]), {
        "role": Role.AGENT_LISTES, "username": "listes.chef", "first_name": "Nora", "last_name": "Simon",
        "email": "nora@almayrac.example",
    })
    assert r.status_code == 302
    u = User.objects.get(username="listes.chef")
    assert (u.role, u.commune, u.is_commune_admin) == (Role.AGENT_LISTES, commune, True)
    assert not u.has_usable_password()
    assert OutboxEmail.objects.get(kind="staff_activation").to == "nora@almayrac.example"
    # Any other role posted is ignored: only the two mairie spaces.
    admin_client.post(reverse("backoffice:commune_admin_new", args=[commune.pk]), {
        "role": Role.ADMIN_NATIONAL, "username": "pirate", "first_name": "P", "last_name": "Q", "email": "p@q.example",
    })
    assert User.objects.get(username="pirate").role == Role.AGENT_MAIRIE


def test_commune_admin_creation_says_whose_account_with_the_elision(admin_client, commune):
    from django.contrib.messages import get_messages

    r = admin_client.post(reverse("backoffice:commune_admin_new", args=[commune.pk]), {
        "role": Role.AGENT_MAIRIE, "username": "anne.roy", "first_name": "Anne", "last_name": "Roy",
        "email": "anne@almayrac.example",
    })
    told = [m.message for m in get_messages(r.wsgi_request)]
    assert told[0].startswith("Compte d'Anne ROY créé. Un lien d'activation est envoyé à anne@almayrac.example")


def test_communes_search(admin_client):
    CommuneFactory(nom="Saint-Malo", code_insee="35288")
    CommuneFactory(nom="Rennes", code_insee="35238")
    page = text(admin_client.get(reverse("backoffice:communes"), {"q": "malo"}))
    assert "Saint-Malo" in page and "Rennes" not in page


def test_declare_an_elu_of_the_commune_only(admin_client, commune, other_commune, agent_mairie, agent_mairie_b):
    from elus.models import Mandat

    url = reverse("backoffice:mandat_new", args=[commune.pk])
    r = admin_client.post(url, {"user": agent_mairie_b.pk, "fonction": "adjoint", "temps_travail": "100"})
    assert r.status_code == 200 and "Sélectionnez un choix valide" in text(r)  # another commune's account
    r = admin_client.post(url, {"user": agent_mairie.pk, "fonction": "adjoint", "temps_travail": "60"})
    assert r.status_code == 302
    assert Mandat.objects.get().user == agent_mairie
    assert "Adjoint au maire" in text(admin_client.get(reverse("backoffice:commune", args=[commune.pk])))
