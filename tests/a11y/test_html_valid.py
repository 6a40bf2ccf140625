"""Valid HTML on every page: the Nu HTML Checker (vnu) over the server-rendered pages of every role.

The pages are fetched with Django's test client (the HTML vnu checks is what the server sends; no
browser needed): every URL of the security matrix (tests/security/test_matrix.py) that answers
200 to a role, as that role — anonymous, mandant, police, mairie, listes, national admin — plus the
states a GET does not reach, the ones the flows of tests/e2e go through: form errors at each step
of the demande, the live check of the mandataire, the police lookup, the two CERFA, the ILE, the
TOTP step of a staff login, 403 and 404. Each page is saved to a folder, then ONE run of vnu checks
them all (a few seconds). Any error fails, with the page it comes from; warnings are listed
(pytest's warnings summary) and do not fail. A control page carrying two known defects proves,
in the same run, that the checker catches them.
"""

import datetime
import re
import warnings
from html import escape
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests.a11y import vnu
from tests.factories import PASSWORD, ElecteurFactory
from tests.security.conftest import (
    ADMIN_NATIONAL,
    AGENT_A,
    ANON,
    COMMUNE_ADMIN,
    LISTES_ADMIN,
    MANDANT_A,
    POLICIER,
    ROLES,
    build_world,
)
from tests.security.test_matrix import ROUTES, expected, url_for

pytestmark = pytest.mark.django_db

# A document with the two errors vnu found in the product on 26.9.27 (issue 20): an aria-label on
# a <span> without a role, and django-dsfr's dsfr="dsfr" on a radio <input>.
CONTROL = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Témoin</title></head>
<body><main><span class="fr-btn" aria-label="Connecté en tant que x">x</span>
<input type="radio" name="r" id="r" value="1" dsfr="dsfr"><label for="r">Un</label></main></body></html>
"""

# The one error vnu reports that is tolerated, on that element only: DSFR's reference markup for the
# header's menu (templates/base.html), a `div.fr-modal` named by its « Menu » button. DSFR's JavaScript
# removes the attribute while the menu is displayed inline (desktop) and restores it, with
# role="dialog", when the menu opens as a dialog (mobile); so no user agent meets it without a role.
# Listed with the warnings; the test fails if it is no longer met (drop it then).
TOLERATED = (
    "The “aria-labelledby” attribute must not be specified on any “div” element",
    'id="fr-menu-mobile" aria-labelledby="fr-btn-menu-mobile"',
)


def tolerated(m: vnu.Message) -> bool:
    return m.is_error and m.text.startswith(TOLERATED[0]) and TOLERATED[1] in " ".join(m.extract.split())


FRAGMENT = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{label}</title></head><body>
{body}
</body></html>
"""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The security matrix' world (one user per role, objects of A at every status), rolled back after."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


class Pages:
    """Saves each page under `folder` and remembers what it is, for the checker's report."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.labels: dict[Path, str] = {}

    def save(self, label: str, html: str) -> Path:
        path = self.folder / f"{len(self.labels):03d}.html"
        path.write_text(html, encoding="utf-8")
        self.labels[path.resolve()] = label
        return path.resolve()

    def add(self, label: str, response, status: int = 200) -> None:
        assert response.status_code == status, f"{label}: {response.status_code}"
        assert response["Content-Type"].startswith("text/html"), f"{label}: {response['Content-Type']}"
        html = response.content.decode()
        if not html.lstrip().lower().startswith("<!doctype html>"):
            # A fragment the page inserts (the live check of the mandataire): checked inside a minimal document.
            html = FRAGMENT.format(label=escape(label), body=html)
        self.save(label, html)


def roles_allowed(name: str) -> list[str]:
    """Who sees the page `name` (a 200 by the matrix' design): anonymous if it may, and one role
    that the portal lets in (the last in ROLES: its administrator when it has one); plus the roles
    given another page (mandant B, absent from the register, gets « introuvable »)."""
    ok = [role for role in ROLES if expected(name, role) == (200, None)]
    chosen = [ANON] if ANON in ok else []
    logged = [role for role in ok if role != ANON]
    if logged:
        chosen.append(logged[-1])
    chosen += [r for r in logged if r in ROUTES[name].overrides and r not in chosen]
    return chosen


def collect_matrix_pages(world, pages: Pages) -> None:
    for name in sorted(ROUTES):
        for role in roles_allowed(name):
            url = url_for(name, world)
            response = world.client(role).get(url)
            if response.status_code == 200 and not response["Content-Type"].startswith("text/html"):
                continue  # PDF, ZIP, CSV, images
            pages.add(f"GET {url} ({role})", response)


def collect_flow_pages(world, pages: Pages) -> None:
    from procuration.models import Procuration

    # The mandant's demande, step by step, errors included.
    mandant = world.client(MANDANT_A)
    # The mandataire's espace as A, who holds a procuration (the matrix shows it as B, not in the register).
    pages.add("mandant: procurations qui me sont confiées", mandant.get(reverse("mandant:confiees")))
    validite = reverse("mandant:demande_validite")
    pages.add("demande: validité (erreurs)", mandant.post(validite, {}))
    start = timezone.localdate() + datetime.timedelta(days=200)  # after the scrutin A already gave
    response = mandant.post(validite, {"portee": "duree", "valid_from": start.isoformat(), "etablissement": "france",
                                       "valid_until": (start + datetime.timedelta(days=100)).isoformat()})
    assert response.status_code == 302, response.context["form"].errors
    step2 = reverse("mandant:demande_mandataire")
    pages.add("demande: mandataire", mandant.get(step2))
    pages.add("demande: mandataire (erreurs)", mandant.post(step2, {"mode": "nne"}))
    mandataire = ElecteurFactory(nne="123456789", nom="LAMBERT", prenoms="Paul", sexe="M",
                                 date_naissance="1975-02-03", commune_id=world.pk["commune"])
    live = {"mode": "nne", "nne": mandataire.nne, "date_naissance_nne": "1975-02-03"}
    pages.add("demande: contrôle en direct du mandataire",
              mandant.get(reverse("mandant:verifier_mandataire"), live))
    assert mandant.post(step2, live).status_code == 302
    recap = reverse("mandant:demande_recapitulatif")
    pages.add("demande: récapitulatif", mandant.get(recap))
    pages.add("demande: récapitulatif (erreurs)", mandant.post(recap, {"email_contact": "pas-une-adresse"}))

    # The police counter: unknown reference, then a real one; the paper CERFA with its errors.
    police = world.client(POLICIER)
    home = reverse("police:home")
    pages.add("police: guichet (référence inconnue)", police.post(home, {"reference": "ZZZZZZ"}))
    reference = Procuration.objects.get(pk=world.pk["en_attente"]).reference
    response = police.post(home, {"reference": reference})
    assert response.status_code == 302
    pages.add("police: demande", police.get(response["Location"]))
    pages.add("police: CERFA (erreurs)", police.post(reverse("police:cerfa"), {}))

    # The mairie: the paper CERFA with its errors.
    pages.add("mairie: CERFA (erreurs)", world.client(AGENT_A).post(reverse("mairie:cerfa"), {}))
    # The commune administrator's élus: the declaration and the edit with their errors.
    admin_a = world.client(COMMUNE_ADMIN)
    pages.add("mairie: déclarer un élu (erreurs)", admin_a.post(reverse("mairie:mandat_create"), {"temps_travail": "0"}))
    pages.add("mairie: modifier un mandat (erreurs)",
              admin_a.post(url_for("mairie:mandat_edit", world), {"temps_travail": "101"}))
    # The mairie's search: results, and its errors; the officer's history searched by reference.
    agent = world.client(AGENT_A)
    pages.add("mairie: recherche (résultats)", agent.get(reverse("mairie:search"), {"q": "dupont"}))
    pages.add("mairie: recherche (erreurs)", agent.get(reverse("mairie:search"), {"q": "12345"}))
    from mairie import listing

    cap, listing.SEARCH_COUNT_CAP = listing.SEARCH_COUNT_CAP, 1  # « Plus de 1 résultats » and its pages
    try:
        broad = agent.get(reverse("mairie:search"), {"q": "d"})
        assert "précisez votre recherche" in broad.content.decode()
        pages.add("mairie: recherche (plus de résultats que le plafond)", broad)
    finally:
        listing.SEARCH_COUNT_CAP = cap
    pages.add("police: historique (recherche)", police.get(reverse("police:historique"), {"reference": "AB"}))

    # The usager's ILE with its errors.
    pages.add("listes: formulaire ILE (erreurs)", mandant.post(reverse("listes:usager_ile_new"), {}))
    # An EU citizen's ILE without the written declaration: each checkbox in error.
    pages.add("listes: formulaire ILE (citoyen UE, déclaration manquante)", mandant.post(
        reverse("listes:usager_ile_new"),
        {"nationalite": "UE", "etat_membre": "IT", "complementaires": ["municipales", "europeennes"]}))

    # A staff login: wrong password, then the TOTP step.
    from procuration.models import User

    anon = world.client(ANON)
    login = reverse("listes:login")
    officer = User.objects.get(pk=world.users[LISTES_ADMIN])
    pages.add("connexion (mot de passe erroné)", anon.post(login, {"login": officer.username, "password": "x"}))
    response = anon.post(login, {"login": officer.username, "password": PASSWORD}, follow=True)
    assert "Double authentification" in response.content.decode()
    pages.add("double authentification", response)

    # Élus and the national back office: results, errors and the import report.
    simulateur = reverse("elus:simulateur")
    pages.add("élus: simulateur (résultat)", anon.get(simulateur, {"assemblee": "commune", "fonction": "maire",
                                                                     "population": "380"}))
    pages.add("élus: simulateur (erreurs)", anon.get(simulateur, {"assemblee": "region", "fonction": "maire",
                                                                    "majoration": "40"}))
    pages.add("élus: absence (erreurs)", world.client(COMMUNE_ADMIN).post(
        reverse("elus:espace"), {"date": "", "duree": "999 h", "nature": "credit"}))
    national = world.client(ADMIN_NATIONAL)
    commune_pk = world.pk["commune"]
    pages.add("back office: commune (erreurs)", national.post(reverse("backoffice:commune", args=[commune_pk]), {}))
    pages.add("back office: scrutin (erreurs)", national.post(reverse("backoffice:scrutin_new"), {}))
    pages.add("back office: officier (erreurs)", national.post(reverse("backoffice:officier_new"), {}))
    pages.add("back office: administrateur (erreurs)",
              national.post(reverse("backoffice:commune_admin_new", args=[commune_pk]), {}))
    pages.add("back office: compte d'un officier (erreurs)",
              national.post(url_for("backoffice:compte_edit", world), {}))
    pages.add("back office: compte d'un administrateur de commune",
              national.get(reverse("backoffice:compte_edit", args=[world.users[COMMUNE_ADMIN]])))
    from django.core.files.uploadedfile import SimpleUploadedFile

    extract = SimpleUploadedFile("reu.csv", b"nne;nom;prenoms;sexe;date_naissance\nabc;;;X;1990\n", "text/csv")
    pages.add("back office: import (lignes rejetées)",
              national.post(reverse("backoffice:commune_import", args=[commune_pk]), {"fichier": extract}))

    # The contact form with its errors.
    pages.add("contact (erreurs)", anon.post(reverse("contact"), {"email": "x@"}), status=400)

    # 403 (a mandant at the police counter) and 404; the national admin's pages.
    pages.add("403", mandant.get(home), status=403)
    pages.add("404", anon.get("/page-qui-n-existe-pas/"), status=404)
    admin = world.client(ADMIN_NATIONAL)
    for name in ("admin:index", "admin:procuration_user_changelist", "admin:procuration_scrutin_add"):
        pages.add(f"admin: {name}", admin.get(reverse(name)))

    # Last (it changes the world, rolled back after): a procuration void by law, where each side sees it.
    void = Procuration.objects.get(pk=world.pk["validee_autorite"])
    void.annuler(motif="plafond", detail="Le mandataire détient déjà deux procurations sur cette période.")
    pages.add("mandant: procuration annulée", mandant.get(reverse("mandant:detail", args=[void.pk])))
    pages.add("mairie: procuration annulée", agent.get(reverse("mairie:detail", args=[void.pk])))
    pages.add("mairie: file filtrée (annulées)", agent.get(reverse("mairie:queue"), {"status": "annulee"}))
    pages.add("police: acte nul", police.get(reverse("police:acte", args=[void.pk])))


def test_vnu_is_the_pinned_version_and_named_by_the_statement(client):
    import html

    pinned = re.search(r"^VNU_VERSION=(\S+)$", (Path(settings.BASE_DIR) / "scripts/vnu.sh").read_text(), re.M)[1]
    assert pinned == vnu.VNU_VERSION_EXPECTED
    assert Path(vnu.vnu_command()[-1]).parent.name == f"vnu-jar-{pinned}"
    statement = html.unescape(client.get(reverse("accessibilite")).content.decode())
    assert f'<li id="outil-vnu">Nu HTML Checker (vnu) {pinned}, validation du code HTML</li>' in statement


def test_without_the_checker_the_gate_fails_loudly(monkeypatch):
    """No VNU_JAR (outside scripts/test.sh, or npm pack failed): a failure, never a skip."""
    monkeypatch.delenv("VNU_JAR", raising=False)
    with pytest.raises(pytest.fail.Exception, match="VNU_JAR is not set"):
        vnu.check([])
    monkeypatch.setenv("VNU_JAR", "/nonexistent/vnu.jar")
    with pytest.raises(pytest.fail.Exception, match="VNU_JAR is not set"):
        vnu.check([])


def test_every_page_is_valid_html(world, tmp_path, settings):
    settings.DEBUG = False  # the product's 404 page, not Django's debug page
    settings.DEV_MAILBOX = False
    pages = Pages(tmp_path)
    collect_matrix_pages(world, pages)
    collect_flow_pages(world, pages)
    control = pages.save("témoin (deux erreurs plantées)", CONTROL)
    assert len(pages.labels) > 50

    messages = vnu.check(sorted(pages.labels))  # one JVM, every page

    # The control proves the checker runs and catches today's two errors of issue 20.
    planted = [m.text for m in messages if m.path == control and m.is_error]
    assert any("aria-label" in t for t in planted) and any("dsfr" in t for t in planted), planted
    checked = {m.path for m in messages} | set(pages.labels)
    assert checked == set(pages.labels), f"vnu reported unknown files: {checked - set(pages.labels)}"

    messages = [m for m in messages if m.path != control]
    assert any(tolerated(m) for m in messages), "the DSFR header menu is no longer flagged: remove TOLERATED"
    if found := [m for m in messages if m.is_warning or tolerated(m)]:
        warnings.warn(f"vnu: {len(found)} warning(s) and tolerated error(s)\n" + vnu.report(found, pages.labels),
                      stacklevel=1)
    errors = [m for m in messages if m.is_error and not tolerated(m)]
    # The figure the accessibility statement publishes stays true: at least that many pages checked.
    statement = world.client(ANON).get(reverse("accessibilite")).content.decode()
    claimed = int(re.search(r'<span id="pages-vnu">(\d+)</span>', statement)[1])
    assert claimed <= len(pages.labels) - 1, f"the statement claims {claimed} pages, {len(pages.labels) - 1} checked"
    assert not errors, (
        f"vnu {vnu.VNU_VERSION_EXPECTED}: {len(errors)} error(s) on "
        f"{len({m.path for m in errors})} of {len(pages.labels) - 1} pages\n" + vnu.report(errors, pages.labels)
    )
