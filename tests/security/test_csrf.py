"""CSRF on every POST: every URL of the matrix, POSTed by a role that may use it, with a client
that enforces CSRF checks and no token, answers 403 and changes nothing. The same POST with the
token goes through (positive control on the state-changing actions)."""

import pytest
from django.urls import reverse

from tests.security.conftest import ANON, ROLES
from tests.security.test_matrix import PORTAL_ROLES, ROUTES, url_for


def acting_role(name: str) -> str:
    """A role that may use the URL: through the door, owner of the object, admin when needed."""
    r = ROUTES[name]
    if not r.door:
        return ANON
    return next(
        role for role in ROLES
        if role in PORTAL_ROLES[r.door] and role not in r.foreign and (r.only is None or role in r.only)
    )


def snapshot():
    from listes.models import Document, ListesCommuneConfig, Piece, Teledossier
    from mairie.models import AlertPreference, ExportJob
    from procuration.models import AuditLog, Commune, OutboxEmail, Procuration, User

    return {
        "procurations": sorted(Procuration.objects.values_list("pk", "status")),
        "teledossiers": sorted(Teledossier.objects.values_list("pk", "etat")),
        "documents": Document.objects.count(),
        "pieces": Piece.objects.count(),
        "users": sorted(User.objects.values_list("pk", "is_active", "password", "email")),
        "exports": ExportJob.objects.count(),
        "audit": AuditLog.objects.count(),
        "outbox": OutboxEmail.objects.count(),
        "communes": sorted(Commune.objects.values_list("pk", "auto_validation")),
        "alerts": sorted(AlertPreference.objects.values_list("pk", "nouvelles_arrivees", "rappels_scrutin")),
        "config": sorted(ListesCommuneConfig.objects.values_list("pk", "signataire")),
    }


def post_data(world) -> dict:
    """Data that the views would act on (extra keys are ignored by their forms)."""
    from procuration.models import Procuration

    return {
        "reference": Procuration.objects.get(pk=world.pk["en_attente"]).reference,
        "ids": [world.pk["validee_autorite"]], "forcer": "on", "motif": "autre", "detail": "Contrôle CSRF",
        "recevoir-comment": "Dossier reçu", "active": "0", "auto_validation": "on", "nouvelles_arrivees": "",
        "rappels_scrutin": "", "username": "csrf.intrus", "first_name": "Intrus", "last_name": "CSRF",
        "email": "intrus@example.fr", "password": "Un-mot-de-passe-solide-2026", "signataire": "Intrus",
        "qualite_signataire": "Intrus", "title": "Faux", "scrutin": world.pk["scrutin"], "tour": "1",
        "format": "csv", "login": "opj", "email_contact": "x@example.fr", "attestation": "on",
        "password1": "Un-mot-de-passe-solide-2026", "password2": "Un-mot-de-passe-solide-2026",
        "motif_forcage": "Contrôle CSRF",  # forcing the checks needs a reason (mairie.forms.ValidationForm)
    }


# The API (api/) authenticates by key in a header, never by cookie: no CSRF token there, and a
# session (the only thing a forged cross-site request could carry) opens nothing (401, below).
API = sorted(n for n in ROUTES if n.startswith("api:"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(set(ROUTES) - set(API)))
def test_post_without_csrf_token_is_refused_and_changes_nothing(world, name):
    role = acting_role(name)
    url = url_for(name, world)
    client = world.client(role, enforce_csrf_checks=True)
    before = snapshot()
    response = client.post(url, post_data(world))
    assert response.status_code == 403, f"POST {url} as {role} without a CSRF token"
    assert b"CSRF" in response.content
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n in API if ROUTES[n].ok == 401])
def test_a_session_opens_no_api_call(world, name):
    from tests.security.conftest import LISTES_ADMIN

    client = world.client(LISTES_ADMIN, enforce_csrf_checks=True)
    before = snapshot()
    response = client.post(url_for(name, world), {"action": "recevoir", "comment": "Forgé", "title": "Faux"})
    assert response.status_code == 401
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["police:login", "mairie:login", "listes:login"])
def test_login_forms_need_the_token_too(world, name):
    client = world.client(ANON, enforce_csrf_checks=True)
    response = client.post(reverse(name), {"login": "opj", "password": "mot-de-passe-de-test-42"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# Positive control: with the token the same POSTs act, so the 403 above is the CSRF check's doing.
ACTIONS = {
    "mandant:resilier": lambda w: ("procurations", w.pk["en_attente"], "resiliee"),
    "mairie:validate": lambda w: ("procurations", w.pk["validee_autorite"], "validee_mairie"),
    "listes:transition": lambda w: ("teledossiers", w.pk["teledossier"], "recu"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_same_post_with_the_token_acts(world, name):
    kind, pk, target = ACTIONS[name](world)
    role = acting_role(name)
    client = world.client(role, enforce_csrf_checks=True)
    client.get(reverse("home"))  # the landing page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url_for(name, world), {**post_data(world), "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert dict(snapshot()[kind])[pk] == target


@pytest.mark.django_db
def test_the_activation_link_sets_the_password_with_the_token():
    """Positive control for staff_activation: the POST refused above without a token acts with it."""
    from django.test import Client

    from procuration.activation import activation_url
    from procuration.models import User
    from tests.factories import UserFactory

    agent = UserFactory(username="csrf-agent", agent_mairie=True)
    path = activation_url(agent).split("://", 1)[1].split("/", 1)[1]
    client = Client(enforce_csrf_checks=True)
    client.get("/" + path)  # the form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/" + path, {"password1": "Un-mot-de-passe-solide-2026",
                                        "password2": "Un-mot-de-passe-solide-2026", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert User.objects.get(pk=agent.pk).check_password("Un-mot-de-passe-solide-2026")
