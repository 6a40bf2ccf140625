"""The security matrix: every URL of the four portals and of the root × every role, GET.

The expected answer is declared below, per URL, from the access design (docs/security.md):

- a portal's door first: anonymous → 302 to that portal's login page; a role that is not the
  portal's → 403 (procuration/access.py);
- then the object's scope: an object of another user or commune → 404 (``visible_to``);
- then the admin-only pages of a portal → 403 to its plain agents (the mairie checks the commune
  first, so another commune's agent gets 404 there: mairie/views.py ``_agent``);
- POST-only URLs answer a GET with 405: before the door when the view is wrapped in
  ``require_POST`` (nothing reached, nothing revealed), after door and scope in the mairie;
  the door of those URLs is proved on POST by ``test_post_only_urls_door``.

allauth's pages under /comptes/ are in the table too: electors get 404 on every staff page
(password, TOTP, reauthentication), staff get them (procuration/urls.py mounts them one by one).
Every URL of /admin/ is covered by rule (``admin_expected``): anonymous → the admin's login page
(which sends on to the staff login), every role but the national administrator → 403, the national
administrator → the page, as the ModelAdmin's permissions give it (test_admin_get).

The walk of the URL resolver fails when a pattern appears that the table (or, for /admin/, the
rule's kinds of page) does not cover.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from tests.security.conftest import (
    ADMIN_NATIONAL,
    AGENT_A,
    AGENT_B,
    ANON,
    COMMUNE_ADMIN,
    LISTES_A,
    LISTES_ADMIN,
    LISTES_B,
    MANDANT_A,
    MANDANT_B,
    POLICE_ADMIN,
    POLICIER,
    ROLES,
)

ALL_LOGGED = frozenset(ROLES) - {ANON}
PORTAL_ROLES = {
    "mandant": frozenset({MANDANT_A, MANDANT_B}),
    "police": frozenset({POLICIER, POLICE_ADMIN}),
    "mairie": frozenset({AGENT_A, AGENT_B, COMMUNE_ADMIN}),
    "listes": frozenset({LISTES_A, LISTES_B, LISTES_ADMIN}),
    "backoffice": frozenset({ADMIN_NATIONAL}),
}
ELECTORS = PORTAL_ROLES["mandant"]
STAFF = ALL_LOGGED - ELECTORS  # password + TOTP, the national administrator included
ROLE_HOME = {
    MANDANT_A: "mandant:home", MANDANT_B: "mandant:home", POLICIER: "police:home", POLICE_ADMIN: "police:home",
    AGENT_A: "mairie:home", AGENT_B: "mairie:home", COMMUNE_ADMIN: "mairie:home", LISTES_A: "listes:home",
    LISTES_B: "listes:home", LISTES_ADMIN: "listes:home", ADMIN_NATIONAL: "backoffice:home",
}


@dataclass(frozen=True)
class Route:
    """How one URL answers a GET, by role."""

    door: str | None = None  # the portal whose role is checked at the door (login page of that portal)
    only: frozenset | None = None  # among the portal's roles, those who may use the page (others 403)
    foreign: frozenset = frozenset()  # roles through the door for whom the object is someone else's → 404
    scope_first: bool = False  # the object's scope (404) is checked before `only` (403)
    ok: int = 200  # the designed answer to the roles who may use the page
    ok_to: str | None = None  # where that answer redirects (url name), when it is a 302
    post_only: str | None = None  # "first": require_POST outside the door; "view": 405 after door and scope
    overrides: dict = field(default_factory=dict)  # role -> (status, url name or None)


def public(ok=200, **kw):
    return Route(ok=ok, **kw)


def door(portal, **kw):
    return Route(door=portal, **kw)


# Logged-in users opening a staff login page are sent on by allauth (already authenticated).
STAFF_LOGIN = public(overrides={role: (302, "after_login") for role in ALL_LOGGED})


def account_page(anon, electors=(404, None), staff=(200, None)):
    """An allauth page for staff: what anonymous visitors, electors (404: procuration.access
    staff_only) and staff get."""
    return Route(overrides={ANON: anon, **{r: electors for r in ELECTORS}, **{r: staff for r in STAFF}})


# allauth's login_required sends anonymous visitors to LOGIN_URL (the landing page), with next=.
TO_LANDING = (302, "home")

ROUTES: dict[str, Route] = {
    # ---------------------------------------------------------------- root
    "home": public(),
    "accessibilite": public(),
    "aide": public(),
    "contact": public(),
    "mentions_legales": public(),
    "donnees_personnelles": public(),
    "cookies": public(),
    "plan_du_site": public(),
    # login_required: anonymous to LOGIN_URL (the landing page); everyone else to their portal.
    "after_login": public(ok=302, overrides={ANON: (302, "home"), **{r: (302, h) for r, h in ROLE_HOME.items()}}),
    # Development only: with production settings (DEBUG and DEV_MAILBOX off) they do not exist.
    "dev_mailbox": public(ok=404),
    "dev_totp": public(ok=404),
    # A staff activation link (procuration/activation.py): the link itself is the credential, so
    # it answers everyone alike; a used, replaced or forged one shows a message and changes nothing.
    "staff_activation": public(),
    # Probes for the load balancer: unauthenticated, the same answer to everyone (docs/ops/operations.md).
    "healthz": public(),
    "readyz": public(),
    "metrics": public(),  # the test client is 127.0.0.1; other addresses get 404 (tests/ops/test_metrics.py)
    # ---------------------------------------------------------------- comptes: allauth, mounted one by one
    "account_login": STAFF_LOGIN,
    "account_logout": account_page(anon=(302, "home"), electors=(200, None)),  # the confirmation form
    "account_inactive": public(),
    "account_reauthenticate": account_page(anon=TO_LANDING),
    "account_change_password": account_page(anon=TO_LANDING),
    "account_reset_password": account_page(anon=(200, None)),  # sends links to staff accounts only
    "account_reset_password_done": account_page(anon=(200, None)),
    "account_reset_password_from_key": account_page(anon=(200, None)),  # a wrong key: « lien invalide »
    "account_reset_password_from_key_done": account_page(anon=(200, None)),
    "mfa_index": account_page(anon=TO_LANDING),
    # The TOTP stage of a login: with no login under way, back to the login (or on, if logged in).
    "mfa_authenticate": public(overrides={ANON: (302, "account_login"), **{r: (302, "after_login") for r in ALL_LOGGED}}),
    "mfa_reauthenticate": account_page(anon=TO_LANDING),
    # Staff of the world have a TOTP already: changing it asks for the password again first.
    "mfa_activate_totp": account_page(anon=(302, "account_login"), staff=(302, "account_reauthenticate")),
    "mfa_deactivate_totp": account_page(anon=TO_LANDING, staff=(302, "account_reauthenticate")),
    "mfa_view_recovery_codes": account_page(anon=TO_LANDING, staff=(404, None)),  # none generated
    "mfa_generate_recovery_codes": account_page(anon=(302, "account_login"), staff=(302, "account_reauthenticate")),
    "mfa_download_recovery_codes": account_page(anon=TO_LANDING, staff=(404, None)),
    # FranceConnect / France Identité: the « continuer » form (the POST goes to the provider); a
    # callback with no authorization under way is allauth's error page (401). Staff accounts are
    # refused at the callback (procuration/adapters.py), and could not hold such a session.
    "openid_connect_login": public(),
    "openid_connect_callback": public(ok=401),
    "socialaccount_login_cancelled": public(),
    "socialaccount_login_error": public(ok=401),
    # ---------------------------------------------------------------- mandant
    "mandant:login": public(),
    "mandant:home": door("mandant"),
    "mandant:demande": door("mandant", ok=302, ok_to="mandant:demande_validite"),
    "mandant:demande_validite": door("mandant"),  # B (not in the register) gets the « introuvable » page
    # No period chosen yet: back to step 1. B is not in the register: the « introuvable » page.
    "mandant:demande_mandataire": door("mandant", ok=302, ok_to="mandant:demande_validite",
                                       overrides={MANDANT_B: (200, None)}),
    "mandant:verifier_mandataire": door("mandant", overrides={MANDANT_B: (404, None)}),  # no elector, no lookup
    "mandant:demande_recapitulatif": door("mandant", ok=302, ok_to="mandant:demande_validite",
                                          overrides={MANDANT_B: (200, None)}),
    "mandant:detail": door("mandant", foreign=frozenset({MANDANT_B})),
    "mandant:confirmation": door("mandant", foreign=frozenset({MANDANT_B})),
    "mandant:recepisse": door("mandant", foreign=frozenset({MANDANT_B})),
    "mandant:resilier": door("mandant", foreign=frozenset({MANDANT_B})),
    # The mandataire's espace: B (absent from the register) gets the « introuvable » message; a procuration
    # entrusted to A's elector is nobody else's to see.
    "mandant:confiees": door("mandant"),
    "mandant:confiee": door("mandant", foreign=frozenset({MANDANT_B})),
    # ---------------------------------------------------------------- police
    "police:login": STAFF_LOGIN,
    "police:home": door("police"),
    # A procuration is shown only through the link the officer's own lookup gave: 404 otherwise
    # (test_police_procuration_opens_with_the_officers_own_lookup shows the 200 after a lookup).
    "police:procuration": door("police", ok=404),
    "police:cerfa": door("police"),
    "police:historique": door("police"),
    # The confirmation and récépissé of an act: only the officer who validated (POLICIER in the world).
    "police:acte": door("police", foreign=frozenset({POLICE_ADMIN})),
    "police:acte_recepisse": door("police", foreign=frozenset({POLICE_ADMIN})),
    "police:unite": door("police", only=frozenset({POLICE_ADMIN})),
    "police:unite_activation": door("police", only=frozenset({POLICE_ADMIN}), post_only="first"),
    "police:unite_reset": door("police", only=frozenset({POLICE_ADMIN}), post_only="first"),
    # ---------------------------------------------------------------- mairie
    "mairie:login": STAFF_LOGIN,
    "mairie:home": door("mairie"),
    "mairie:queue": door("mairie"),
    "mairie:batch_validate": door("mairie", post_only="view"),
    "mairie:queue_export": door("mairie", post_only="view"),
    "mairie:search": door("mairie"),
    "mairie:search_export": door("mairie", post_only="view"),
    "mairie:detail": door("mairie", foreign=frozenset({AGENT_B})),
    "mairie:validate": door("mairie", foreign=frozenset({AGENT_B}), post_only="view"),
    "mairie:invalidate": door("mairie", foreign=frozenset({AGENT_B}), post_only="view"),
    "mairie:registre": door("mairie"),
    "mairie:export": door("mairie", foreign=frozenset({AGENT_B})),
    "mairie:export_download": door("mairie", foreign=frozenset({AGENT_B})),
    "mairie:cerfa": door("mairie"),
    "mairie:alertes": door("mairie"),
    "mairie:parametres": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie:agents": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie:agent_create": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie:agent_edit": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                              scope_first=True),
    "mairie:agent_toggle": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                                scope_first=True, post_only="view"),
    "mairie:agent_reset": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                               scope_first=True, post_only="view"),
    # The élus' mandates of the commune (the maire of A, COMMUNE_ADMIN, holds one): like the agents.
    "mairie:mandats": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie:mandat_create": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie:mandat_edit": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                               scope_first=True),
    "mairie:mandat_end": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                              scope_first=True, post_only="view"),
    # ---------------------------------------------------------------- listes: guichet de suivi
    "listes:login": STAFF_LOGIN,
    "listes:home": door("listes"),
    "listes:export_csv": door("listes"),
    "listes:dossier": door("listes", foreign=frozenset({LISTES_B})),
    "listes:transition": door("listes", foreign=frozenset({LISTES_B}), post_only="first"),
    "listes:document_add": door("listes", foreign=frozenset({LISTES_B}), post_only="first"),
    "listes:attestation_rco": door("listes", foreign=frozenset({LISTES_B}), post_only="first"),
    "listes:dossier_zip": door("listes", foreign=frozenset({LISTES_B})),
    "listes:agent_piece": door("listes", foreign=frozenset({LISTES_B})),
    "listes:agent_document": door("listes", foreign=frozenset({LISTES_B})),
    "listes:electeurs": door("listes"),
    "listes:users": door("listes", only=frozenset({LISTES_ADMIN})),
    "listes:user_toggle": door("listes", only=frozenset({LISTES_ADMIN}), post_only="first"),
    "listes:user_reset": door("listes", only=frozenset({LISTES_ADMIN}), post_only="first"),
    "listes:config": door("listes", only=frozenset({LISTES_ADMIN})),
    "listes:config_image": door("listes", only=frozenset({LISTES_ADMIN})),
    # ---------------------------------------------------------------- listes: espace de l'usager (FranceConnect)
    "listes:usager_home": door("mandant"),
    "listes:usager_ile_new": door("mandant"),  # B's incomplete identity is a message on the page
    "listes:usager_rco_new": door("mandant"),
    "listes:usager_dossier": door("mandant", foreign=frozenset({MANDANT_B})),
    "listes:usager_document": door("mandant", foreign=frozenset({MANDANT_B})),
    "listes:usager_piece": door("mandant", foreign=frozenset({MANDANT_B})),
    # ---------------------------------------------------------------- élus (crédit d'heures)
    "elus:simulateur": public(),
    # The maire of commune A (COMMUNE_ADMIN) holds a mandate; other mairie agents get 403.
    "elus:espace": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "elus:avis": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    # ---------------------------------------------------------------- national back office
    "backoffice:login": STAFF_LOGIN,
    "backoffice:home": door("backoffice"),
    "backoffice:communes": door("backoffice"),
    "backoffice:commune_new": door("backoffice"),
    "backoffice:commune": door("backoffice"),
    "backoffice:bureau_new": door("backoffice"),
    "backoffice:commune_admin_new": door("backoffice"),
    "backoffice:commune_import": door("backoffice"),
    "backoffice:mandat_new": door("backoffice"),
    "backoffice:scrutins": door("backoffice"),
    "backoffice:scrutin_new": door("backoffice"),
    "backoffice:scrutin": door("backoffice"),
    "backoffice:unites": door("backoffice"),
    "backoffice:unite_etablissement": door("backoffice", post_only="first"),  # the unit named in the POST
    "backoffice:officier_new": door("backoffice"),
    # An officer's or a commune administrator's account (any other account: 404, tests/backoffice/test_comptes.py,
    # test_compte_edit.py).
    "backoffice:compte_edit": door("backoffice"),
    "backoffice:compte_activation": door("backoffice", post_only="first"),
    "backoffice:compte_reset": door("backoffice", post_only="first"),
    # ---------------------------------------------------------------- API v1 (keys, not sessions)
    # A session opens no API call (401 to every role); each key scope is in tests/api/test_matrix.py.
    "api:schema": public(),
    "api:documentation": public(),
    "api:procurations": public(ok=401),
    "api:procuration": public(ok=401),
    "api:teledossiers": public(ok=401),
    "api:teledossier": public(ok=401),
    "api:feed": public(ok=401),
    "api:teledossier_transition": public(ok=401),  # POST only; with a key of the right scope, GET is 405
    "api:teledossier_document": public(ok=401),
    "api:teledossier_attestation_rco": public(ok=401),
    "api:fichier": public(ok=404),  # a link that is not signed
    "api:not_found": public(ok=404),
    "mairie_api:keys": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie_api:webhooks": door("mairie", only=frozenset({COMMUNE_ADMIN})),
    "mairie_api:webhook_log": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B})),
    "mairie_api:webhook_rotate": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                                      post_only="first"),
    "mairie_api:webhook_replay": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                                      post_only="first"),
    "mairie_api:key_revoke": door("mairie", only=frozenset({COMMUNE_ADMIN}), foreign=frozenset({AGENT_B}),
                                  post_only="first"),
}

# Which object of A fills each URL argument. `pk` means a different object per URL.
KWARGS = {
    "procuration_pk": lambda w: w.pk["validee_autorite"],  # waiting for the mairie of A
    "export_pk": lambda w: w.pk["export"],
    "agent_pk": lambda w: w.users[AGENT_A],  # a plain agent of commune A
    "numero": lambda w: w.pk["numero"],
    "action": lambda w: "recevoir",
    "name": lambda w: "tampon",
    "absence_pk": lambda w: w.pk["absence"],
    "mandat_pk": lambda w: _mandat_of(w.users[COMMUNE_ADMIN]),  # the maire of A's mandate
    "commune_pk": lambda w: w.pk["commune"],
    "scrutin_pk": lambda w: w.pk["scrutin"],
    "key_pk": lambda w: w.pk["api_key"],
    "endpoint_pk": lambda w: w.pk["webhook"],
    "delivery_pk": lambda w: w.pk["webhook_delivery"],
    # A link to A's pending procuration signed for someone who is no officer: no role may use it.
    "jeton": lambda w: _fiche_token(w.users[MANDANT_A], w.pk["en_attente"]),
    # A valid activation link of plain agent A (it opens the form; nobody's session matters).
    "uidb64": lambda w: _activation_link(w.users[AGENT_A])[0],
    "token": lambda w: _activation_link(w.users[AGENT_A])[1],
    # A password reset link of the officer with a wrong key.
    "uidb36": lambda w: _uidb36(w.users[POLICIER]),
    "key": lambda w: "cle-invalide",
    "provider_id": lambda w: "franceconnect",
}
PK_BY_URL = {
    "mandant:detail": lambda w: w.pk["en_attente"],
    "mandant:confirmation": lambda w: w.pk["en_attente"],
    "mandant:recepisse": lambda w: w.pk["en_attente"],
    "mandant:resilier": lambda w: w.pk["en_attente"],
    "mandant:confiee": lambda w: w.pk["confiee"],
    "police:unite_activation": lambda w: w.users[POLICIER],  # an officer of the admin's unit
    "listes:agent_piece": lambda w: w.pk["piece"],
    "listes:agent_document": lambda w: w.pk["document"],
    "listes:usager_document": lambda w: w.pk["document"],
    "listes:usager_piece": lambda w: w.pk["piece"],
    "listes:user_toggle": lambda w: w.users[LISTES_A],  # an agent of the admin's guichet
    "listes:user_reset": lambda w: w.users[LISTES_A],
    "police:unite_reset": lambda w: w.users[POLICIER],  # an officer of the admin's unit
    "api:procuration": lambda w: w.pk["validee_autorite"],
    "backoffice:compte_edit": lambda w: w.users[POLICIER],  # an officer: the national admin manages it
    "backoffice:compte_activation": lambda w: w.users[POLICIER],
    "backoffice:compte_reset": lambda w: w.users[POLICIER],
}


def _mandat_of(user_pk: int) -> int:
    from elus.models import Mandat

    return Mandat.objects.get(user_id=user_pk).pk


def _activation_link(user_pk: int) -> tuple[str, str]:
    from django.utils.http import urlsafe_base64_encode

    from procuration.activation import activation_tokens
    from procuration.models import User

    return urlsafe_base64_encode(str(user_pk).encode()), activation_tokens.make_token(User.objects.get(pk=user_pk))


def _uidb36(user_pk: int) -> str:
    from allauth.account.utils import user_pk_to_url_str
    from django.contrib.auth import get_user_model

    return user_pk_to_url_str(get_user_model()(pk=user_pk))


def _fiche_token(user_pk: int, procuration_pk: int) -> str:
    from types import SimpleNamespace

    from police.services import fiche_token

    return fiche_token(SimpleNamespace(pk=user_pk), procuration_pk)


def walk_patterns():
    """(name, route, argument names) of every URL pattern; an unnamed one is named by its route."""
    found = []

    def walk(patterns, namespace, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace, route)
            else:
                name = p.name or route
                found.append((f"{namespace}:{name}" if namespace else name, route, sorted(p.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns, None, "")
    return found


def collect_patterns() -> dict[str, list[str]]:
    """name -> argument names, for every pattern but the admin's (covered by rule: admin_expected)."""
    return {name: args for name, _, args in walk_patterns() if not name.startswith("admin:")}


def url_for(name: str, world) -> str:
    args = collect_patterns()[name]
    kwargs = {a: (PK_BY_URL[name] if a == "pk" else KWARGS[a])(world) for a in args}
    return reverse(name, kwargs=kwargs)


def door_refusal(r, role: str) -> tuple[int, str | None] | None:
    """What a portal's door answers `role` (login, wrong portal, foreign object, not the admin),
    or None when it lets the role in."""
    if role == ANON:
        return 302, f"{r.door}:login"
    if role not in PORTAL_ROLES[r.door]:
        return 403, None
    steps = [(role in r.foreign, 404), (r.only is not None and role not in r.only, 403)]
    # listes and police check the admin before looking the object up; the mairie the reverse.
    for hit, status in (steps if r.scope_first else steps[::-1]):
        if hit:
            return status, None
    return None


def expected(name: str, role: str) -> tuple[int, str | None]:
    """(status, url name the 302 goes to) that the design gives for a GET."""
    r = ROUTES[name]
    if role in r.overrides:
        return r.overrides[role]
    if r.post_only == "first":
        return 405, None
    if r.door and (refusal := door_refusal(r, role)):
        return refusal
    if r.post_only == "view":
        return 405, None
    return r.ok, r.ok_to


def test_the_table_covers_every_url_pattern():
    found = collect_patterns()
    assert set(found) - set(ROUTES) == set(), "new URL patterns: declare their designed answers in ROUTES"
    assert set(ROUTES) - set(found) == set(), "ROUTES names URL patterns that no longer exist"
    for name, args in found.items():
        for a in args:
            assert (name in PK_BY_URL) if a == "pk" else (a in KWARGS), f"{name}: no object for <{a}>"
    unknown = [name for name, route, _ in walk_patterns() if name.startswith("admin:") and admin_kind(name, route) is None]
    assert unknown == [], "new kinds of admin page: declare their designed answers in admin_expected"


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.DEV_MAILBOX = False


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_get(world, production_like, name, role):
    status, to = expected(name, role)
    url = url_for(name, world)
    response = world.client(role).get(url)
    assert response.status_code == status, f"GET {url} as {role}"
    if status == 302:
        target = reverse(to)
        assert response["Location"] == target or response["Location"].startswith(target + "?"), response["Location"]
        if ROUTES[name].door and role == ANON:
            assert response["Location"] == f"{target}?next={url}"


# ------------------------------------------------------------------ /admin/: every URL, by rule

# The admin site's own pages: what the national administrator gets.
ADMIN_SITE_PAGES = {
    "admin:index": (200, None),
    "admin:login": (302, "admin:index"),  # already in: on to next (by default the index)
    "admin:logout": (405, None),  # POST only
    "admin:password_change": (200, None),
    "admin:password_change_done": (200, None),
    "admin:autocomplete": (403, None),  # no field named: Django's AutocompleteJsonView refuses
    "admin:jsi18n": (200, None),
    "admin:view_on_site": (404, None),  # a Commune has no public page
    "admin:app_list": (200, None),
    "admin:auth_user_password_change": (200, None),  # the officer's password (an elector's: 404, test_doors)
}
MODEL_PAGES = ("changelist", "add", "change", "delete", "history")


def admin_kind(name: str, route: str) -> str | None:
    """Which kind of admin page a pattern is, or None if the rule does not know it."""
    if name in ADMIN_SITE_PAGES:
        return "site"
    if route == "admin/(?P<url>.*)$":
        return "catch_all"
    if route.endswith("/<path:object_id>/") and name == "admin:" + route:
        return "object_redirect"
    for page in MODEL_PAGES:
        if name.endswith("_" + page) and _model_admin(name.removeprefix("admin:").removesuffix("_" + page)):
            return page
    return None


def _model_admin(label: str):
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if f"{model._meta.app_label}_{model._meta.model_name}" == label:
            return model_admin
    return None


ADMIN_PATTERNS = sorted((name, route) for name, route, _ in walk_patterns() if name.startswith("admin:"))


def admin_url(name: str, route: str, world) -> tuple[str, object]:
    """The URL to GET, and the object it names (None when the model has no row in the world)."""
    from django.contrib.contenttypes.models import ContentType

    kind = admin_kind(name, route)
    if kind == "catch_all":
        return "/admin/inexistant/", None
    if name == "admin:view_on_site":
        ct = ContentType.objects.get(app_label="procuration", model="commune")
        return reverse(name, kwargs={"content_type_id": ct.pk, "object_id": world.pk["commune"]}), None
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "procuration"}), None
    if name == "admin:auth_user_password_change":
        return reverse(name, kwargs={"id": world.users[POLICIER]}), None
    if kind == "site":
        return reverse(name), None
    label = route.split("/")[1] + "_" + route.split("/")[2] if kind == "object_redirect" else name.removeprefix(
        "admin:").rsplit("_", 1)[0]
    model_admin = _model_admin(label)
    obj = model_admin.model._default_manager.order_by("pk").first()
    pk = obj.pk if obj is not None else 999999
    if kind == "object_redirect":
        return "/" + route.replace("<path:object_id>", str(pk)), obj
    if kind in ("change", "delete", "history"):
        return reverse(name, args=[pk]), obj
    return reverse(name), obj


def admin_expected(name: str, route: str, role: str, obj, national_admin) -> tuple[int, str | None]:
    """The door of /admin/ (procuration/admin_site.py), then what the national administrator gets:
    the page, unless the ModelAdmin gives no such permission (403) or the object does not exist
    (Django's admin goes back to its index)."""
    if name == "admin:login":
        if role == ANON:
            return 302, "account_login"
        return (403, None) if role != ADMIN_NATIONAL else ADMIN_SITE_PAGES[name]
    if role == ANON:
        return 302, "admin:login"
    if role != ADMIN_NATIONAL:
        return 403, None
    kind = admin_kind(name, route)
    if kind == "site":
        return ADMIN_SITE_PAGES[name]
    if kind == "catch_all":
        return 404, None
    if kind == "object_redirect":
        return 302, None
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = national_admin
    model_admin = _model_admin(name.removeprefix("admin:").rsplit("_", 1)[0])
    allowed = {
        "changelist": model_admin.has_view_or_change_permission(request),
        "add": model_admin.has_add_permission(request),
        "change": model_admin.has_view_or_change_permission(request, obj),
        "delete": model_admin.has_delete_permission(request, obj),
        "history": model_admin.has_view_or_change_permission(request, obj),
    }[kind]
    # Django's admin checks the permission before the object's existence on the change and delete
    # views, and after it on the history view.
    if kind == "history" and obj is None:
        return 302, "admin:index"
    if not allowed:
        return 403, None
    if kind in ("change", "delete") and obj is None:
        return 302, "admin:index"
    return 200, None


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "route"), ADMIN_PATTERNS, ids=[n for n, _ in ADMIN_PATTERNS])
def test_admin_get(world, production_like, name, route):
    url, obj = admin_url(name, route, world)
    national_admin = world.user(ADMIN_NATIONAL)
    for role in ROLES:
        status, to = admin_expected(name, route, role, obj, national_admin)
        response = world.client(role).get(url)
        assert response.status_code == status, f"GET {url} as {role}"
        if status == 302 and to:
            target = reverse(to)
            assert response["Location"] == target or response["Location"].startswith(target + "?"), response["Location"]
        if role == ANON and name != "admin:login":
            assert response["Location"] == f"{reverse('admin:login')}?next={url}"


# ------------------------------------------------------------------ POST-only URLs: the door on POST

POST_ONLY = sorted(n for n, r in ROUTES.items() if r.post_only)


def expected_post_refusal(name: str, role: str) -> tuple[int, str | None] | None:
    """The refusal the design gives to a POST (CSRF token present), or None for who may act."""
    return door_refusal(ROUTES[name], role)


def _snapshot(world):
    from listes.models import Document, Teledossier
    from procuration.models import AuditLog, Procuration, User

    return (
        sorted(Procuration.objects.values_list("pk", "status")),
        sorted(Teledossier.objects.values_list("pk", "etat")),
        Document.objects.count(),
        sorted(User.objects.values_list("pk", "is_active", "password")),
        AuditLog.objects.exclude(action__startswith="police.lookup").count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_urls_door(world, name, role):
    refusal = expected_post_refusal(name, role)
    url = url_for(name, world)
    before = _snapshot(world)
    data = {"ids": [world.pk["validee_autorite"]], "motif": "autre", "detail": "x", "forcer": "on",
            "recevoir-comment": "Reçu", "active": "0"}
    response = world.client(role).post(url, data)
    if refusal is None:
        assert response.status_code not in (403, 404, 405) and response.status_code < 500, url
        return
    status, to = refusal
    assert response.status_code == status, f"POST {url} as {role}"
    if to:
        assert response["Location"].startswith(reverse(to))
    assert _snapshot(world) == before, "a refused POST changed something"


# ------------------------------------------------------------------ objects at every status, and the police lookup


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["brouillon", "en_attente", "validee_autorite", "validee_mairie", "refusee"])
def test_procuration_at_each_status_is_seen_by_its_owners_only(world, status):
    pk = world.pk[status]
    submitted = status != "brouillon"  # a draft is nobody's to see, not even its mandant's
    cases = [
        (MANDANT_A, "mandant:detail", 200 if submitted else 404),
        (MANDANT_B, "mandant:detail", 404),
        (AGENT_A, "mairie:detail", 200 if submitted else 404),
        (COMMUNE_ADMIN, "mairie:detail", 200 if submitted else 404),
        (AGENT_B, "mairie:detail", 404),
        (POLICIER, "police:procuration", 404),  # never with a link from another officer's lookup
    ]
    for role, name, code in cases:
        kw = {"pk": pk} if name != "mairie:detail" else {"procuration_pk": pk}
        if name == "police:procuration":
            kw = {"jeton": _fiche_token(world.users[POLICE_ADMIN], pk)}
        assert world.client(role).get(reverse(name, kwargs=kw)).status_code == code, (role, name)


@pytest.mark.django_db
def test_police_procuration_opens_with_the_officers_own_lookup(world):
    from procuration.models import Procuration

    p = Procuration.objects.get(pk=world.pk["en_attente"])
    officer = world.client(POLICIER)
    assert officer.get(f"/police/procuration/{p.pk}/").status_code == 404
    response = officer.post(reverse("police:home"), {"reference": p.reference})
    assert response.status_code == 302
    url = response["Location"]
    assert officer.get(url).status_code == 200
    # The link is signed for this officer: another officer (the unit's admin) gets 404 with it.
    assert world.client(POLICE_ADMIN).get(url).status_code == 404


@pytest.mark.django_db
def test_registre_exports_are_not_public_media(world):
    """Exports sit under MEDIA_ROOT: no URL serves that folder; only the scoped download view does."""
    from mairie.models import ExportJob

    job = ExportJob.objects.get(pk=world.pk["export"])
    assert all(not str(p.pattern).startswith("^media") for p in get_resolver().url_patterns)
    assert world.client(ANON).get("/media/" + job.file.name).status_code == 404
    assert world.client(AGENT_A).get(reverse("mairie:export_download", args=[job.pk])).status_code == 200
