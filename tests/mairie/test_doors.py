"""The doors of every view of the mairie portal (mairie/urls.py walked, not listed), for every
kind of user who is not an agent of the commune, GET and POST: what procuration.access
portal_required and mairie.views answer (the same codes as tests/security/test_matrix.py):

- anonymous → 302 to the mairie's login page, with next= the URL;
- a logged-in user of another kind (mandant, usager of the listes, police officer, agent of the
  guichet de suivi, national administrator) → 403;
- an agent of the mairie without TOTP authenticator → 302 to the TOTP set-up, with next=;
- an agent of another commune → 404 on a URL naming an object of this commune;
- a plain agent (not the commune's administrator) → 403 on the administrator's pages.

Nothing a refused POST sends changes anything. Removing any door of mairie/views.py (a
`portal_required`, a `commune_admin_required`) fails one of these tests.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, reverse

from elus.models import Mandat
from mairie.models import AlertPreference, ExportJob
from mairie.urls import urlpatterns
from procuration.models import AuditLog, Commune, Procuration, User
from tests.conftest import Client
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db

# The public page of the portal: the login itself.
PUBLIC = {"login"}
# The commune administrator's pages (commune_admin_required, or mairie.views._agent).
ADMIN_ONLY = {"parametres", "agents", "agent_create", "agent_edit", "agent_toggle", "agent_reset", "mandats",
              "mandat_create", "mandat_edit", "mandat_end"}
VIEWS = sorted(p.name for p in urlpatterns if isinstance(p, URLPattern) and p.name not in PUBLIC)


@pytest.fixture
def objects(commune, other_commune):
    """This commune's objects the URLs name, and one user of each kind."""
    scrutin = ScrutinFactory()
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune),
                           scrutin=scrutin)
    requester = UserFactory(username="agent-a", agent_mairie=True, commune=commune)
    job = ExportJob(commune=commune, requested_by=requester, scrutin=scrutin, tour=1, format="csv",
                    state=ExportJob.State.DONE, progress=100)
    job.file.save("registre-portes.csv", ContentFile(b"bureau;mandant\n1;DUPONT\n"), save=False)
    job.save()
    colleague = UserFactory(username="collegue-a", agent_mairie=True, commune=commune)
    elector = ElecteurFactory(commune=commune)
    elu = UserFactory(username="elu-a", agent_mairie=True, commune=commune)
    mandat = Mandat.objects.create(user=elu, fonction="adjoint", temps_travail=80, employeur="Coopérative")
    return {
        "kwargs": {"procuration_pk": p.pk, "export_pk": job.pk, "agent_pk": colleague.pk, "mandat_pk": mandat.pk},
        # What a POST sends: enough for any of the views to act, were the door open.
        "post": {"ids": [p.pk], "motif": "autre", "detail": "x", "forcer": "on", "motif_forcage": "Vu au guichet",
                 "auto_validation": "on", "nouvelles_arrivees": "on", "first_name": "Paul", "last_name": "Durand",
                 "email": "paul.durand@example.fr", "user": colleague.pk, "fonction": "conseiller",
                 "temps_travail": "50", "employeur": "Ailleurs"},
        "plain_agent": requester,
        "others": {
            "mandant": UserFactory(username="mandant-a", first_name=elector.prenoms, last_name=elector.nom,
                                   birthdate=elector.date_naissance),
            "usager": UserFactory(username="usager-listes"),  # FranceConnect, not in any register
            "policier": UserFactory(username="opj", policier=True),
            "agent_listes": UserFactory(username="listes-a", agent_listes=True, commune=commune),
            "admin_national": UserFactory(username="national", admin_national=True),
        },
        "no_totp": UserFactory(username="agent-sans-totp", agent_mairie=True, commune=commune, totp=False),
        "agent_b": UserFactory(username="agent-b", agent_mairie=True, commune=other_commune),
    }


def _url(name, objects):
    pattern = next(p for p in urlpatterns if p.name == name)
    return reverse(f"mairie:{name}", kwargs={k: objects["kwargs"][k] for k in pattern.pattern.converters})


def _snapshot():
    return (
        sorted(Procuration.objects.values_list("pk", "status")),
        sorted(User.objects.values_list("pk", "is_active", "first_name", "email", "password")),
        sorted(Commune.objects.values_list("pk", "auto_validation")),
        ExportJob.objects.count(),
        AlertPreference.objects.count(),
        AuditLog.objects.count(),
        sorted(Mandat.objects.values_list("pk", "user_id", "fonction", "temps_travail", "employeur")),
    )


def _answers(client, url, objects):
    """The GET and the POST answers; the POST changes nothing."""
    before = _snapshot()
    answers = [client.get(url), client.post(url, objects["post"])]
    assert _snapshot() == before, f"a refused POST to {url} changed something"
    return answers


def test_the_walk_finds_every_view():
    assert set(VIEWS) >= {"home", "queue", "detail", "export_download", "alertes", "cerfa", "agent_reset",
                          "mandats", "mandat_create", "mandat_edit", "mandat_end"}
    assert ADMIN_ONLY <= set(VIEWS)


@pytest.mark.parametrize("name", VIEWS)
def test_anonymous_visitors_go_to_the_mairie_login(objects, name):
    url = _url(name, objects)
    for response in _answers(Client(), url, objects):
        assert response.status_code == 302, f"{response.request['REQUEST_METHOD']} {url}"
        assert response["Location"] == f"{reverse('mairie:login')}?next={url}"


@pytest.mark.parametrize("name", VIEWS)
def test_other_kinds_of_user_are_refused(objects, name):
    url = _url(name, objects)
    for kind, user in objects["others"].items():
        client = Client()
        client.force_login(user)
        for response in _answers(client, url, objects):
            assert response.status_code == 403, f"{response.request['REQUEST_METHOD']} {url} as {kind}"


@pytest.mark.parametrize("name", VIEWS)
def test_an_agent_without_totp_is_sent_to_set_it_up(objects, name):
    url = _url(name, objects)
    client = Client()
    client.force_login(objects["no_totp"])
    for response in _answers(client, url, objects):
        assert response.status_code == 302, f"{response.request['REQUEST_METHOD']} {url}"
        assert response["Location"] == f"{reverse('mfa_activate_totp')}?next={url}"


@pytest.mark.parametrize("name", VIEWS)
def test_another_communes_agent_and_a_plain_agent(objects, name):
    """Another commune's agent: 404 on this commune's objects (before the administrator's check),
    403 on the administrator's pages without object; a plain agent of the commune: 403 there."""
    url = _url(name, objects)
    names_an_object = bool(next(p for p in urlpatterns if p.name == name).pattern.converters)
    expected = {"agent_b": 404 if names_an_object else 403 if name in ADMIN_ONLY else None,
                "plain_agent": 403 if name in ADMIN_ONLY else None}
    for kind, status in expected.items():
        if status is None:
            continue
        client = Client()
        client.force_login(objects[kind])
        for response in _answers(client, url, objects):
            assert response.status_code == status, f"{response.request['REQUEST_METHOD']} {url} as {kind}"
