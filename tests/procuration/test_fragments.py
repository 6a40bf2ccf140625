"""{% per_process %} fragments (procuration/templatetags/fragments.py): the header, the menu of each
role, the footer and django-dsfr's head tags, rendered once per process and key, give the same page,
byte for byte, as rendering them on every request; and nobody sees someone else's page.

Every page of the security matrix that answers HTML to a role (tests/security/test_matrix.py: 200,
403, 404, every role) is rendered once with the fragments, in the matrix' order (each fragment is
kept by the first role and page that needs it); then, in reverse order, each page is rendered
without the fragments (TEMPLATE_FRAGMENTS_PER_PROCESS off) and with the kept ones, back to back, and
compared. The only bytes allowed to differ are those that differ between two requests anyway: the
masked CSRF tokens and the CSP nonce, replaced by a placeholder (their number must match).
"""

import difflib
import re
from pathlib import Path

import dsfr
import pytest
from django.db import transaction
from django.template import engines
from django.test import override_settings
from django.urls import reverse

from procuration.templatetags import fragments
from tests.security.conftest import AGENT_A, COMMUNE_ADMIN, MANDANT_A, MANDANT_B, ROLES, build_world
from tests.security.test_matrix import ROUTES, url_for

pytestmark = pytest.mark.django_db

PER_REQUEST = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"'), r'\1CSRF"'),
    (re.compile(r'( nonce=")[^"]+"'), r'\1NONCE"'),
]


def normalized(html: str) -> tuple[str, int]:
    count = 0
    for pattern, placeholder in PER_REQUEST:
        html, n = pattern.subn(placeholder, html)
        count += n
    return html, count


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


def html_pages(world):
    """(label, client, url) of every GET of the matrix that answers an HTML page to a role: every
    200, and one 403 and one 404 per portal and role (the refusal page with that portal's menu)."""
    clients = {role: world.client(role) for role in ROLES}
    pages, refusals = [], set()
    for name in sorted(ROUTES):
        url = url_for(name, world)
        for role in ROLES:
            response = clients[role].get(url)
            if not response["Content-Type"].startswith("text/html") or response.status_code not in (200, 403, 404):
                continue
            refusal = (url.split("/")[1], role, response.status_code)
            if response.status_code != 200 and refusal in refusals:
                continue
            refusals.add(refusal)
            pages.append((f"GET {url} ({role}, {response.status_code})", clients[role], url))
    return pages


@override_settings(TEMPLATE_FRAGMENTS_PER_PROCESS=True)
def test_every_page_of_every_role_is_the_same_with_fragments_kept_per_process(world):
    pages = html_pages(world)  # every fragment kept, by the first role and page that needs it
    assert len(pages) > 300  # the matrix' pages, roles and refusals: not a handful
    for label, client, url in reversed(pages):  # each page rendered both ways back to back (pages show times)
        with override_settings(TEMPLATE_FRAGMENTS_PER_PROCESS=False):
            expected = normalized(client.get(url).content.decode())
        kept = normalized(client.get(url).content.decode())
        assert kept == expected, f"{label}:\n{diff(expected[0], kept[0])}"


def diff(expected: str, got: str) -> str:
    return "\n".join(difflib.unified_diff(expected.splitlines(), got.splitlines(), "sans fragments", "avec", n=1))


def test_fragments_are_reused_not_rendered_again(world, settings):
    """The proof that the fragments are kept: django-dsfr's head tags (dsfr/global_css.html, in
    the dsfr-head fragment) and its scripts (dsfr/global_js.html, in the dsfr-js fragment kept with a
    mark for the nonce: issue 16, docs/performance.md « Flow GET pages ») are rendered once; each page's
    scripts still carry that request's own nonce, the one of its Content-Security-Policy header."""
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = True
    fragments.forget()
    client = world.client(AGENT_A)
    first = client.get(reverse("mairie:queue"))
    second = client.get(reverse("mairie:queue"))
    for template in ("dsfr/global_css.html", "dsfr/global_js.html"):
        assert template in [t.name for t in first.templates]
        assert template not in [t.name for t in second.templates]
    # django-dsfr's scripts carry a nonce only if the page read it before them (django-csp's lazy nonce
    # is false until read): none on these pages, as before the fragment; the page's own script has it.
    assert "nonce" not in second["Content-Security-Policy"] and ' nonce="' not in second.content.decode()
    mandant = world.client(MANDANT_A)
    for _ in range(2):
        response = mandant.get(reverse("mandant:demande_validite"))
        header = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert re.findall(r' nonce="([^"]+)"', response.content.decode()) == [header]
    assert "dsfr/global_js.html" not in [t.name for t in response.templates]
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = False
    third = client.get(reverse("mairie:queue"))
    assert "dsfr/global_css.html" in [t.name for t in third.templates]
    assert "dsfr/global_js.html" in [t.name for t in third.templates]


@pytest.mark.parametrize("first_role, second_role, url_name", [
    (MANDANT_A, MANDANT_B, "mandant:home"),
    (COMMUNE_ADMIN, AGENT_A, "mairie:home"),
    (AGENT_A, COMMUNE_ADMIN, "mairie:home"),
])
def test_two_users_never_see_each_others_name_nor_menu(world, settings, first_role, second_role, url_name):
    """The same page for two users of the same portal, the second served from fragments kept for
    the first: their own name, their own menu (the commune's administrator and élu has more entries)."""
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = False
    alone = world.client(second_role).get(reverse(url_name)).content.decode()
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = True
    first = world.client(first_role).get(reverse(url_name)).content.decode()
    second = world.client(second_role).get(reverse(url_name)).content.decode()
    first_user, second_user = str(world.user(first_role)), str(world.user(second_role))
    assert first_user != second_user
    assert f"</span>{second_user}</p>" in second and f"</span>{first_user}</p>" not in second
    assert normalized(second) == normalized(alone)
    assert ('href="/mairie/agents/"' in first) != ('href="/mairie/agents/"' in second) or url_name != "mairie:home"


def test_the_projects_dsfr_base_is_django_dsfrs_with_fragments_only():
    """templates/dsfr/base.html overrides django-dsfr's page to put its head tags in a fragment:
    without the fragment tags (and the comment saying so) it must be the package's, line for line,
    so an upgrade of django-dsfr that changes its page fails here until the copy follows."""
    ours = (Path(__file__).resolve().parents[2] / "templates" / "dsfr" / "base.html").read_text()
    theirs = (Path(dsfr.__file__).parent / "templates" / "dsfr" / "base.html").read_text()
    stripped = re.sub(r'\{% (per_process(?:_nonce)? "[^"]*"|endper_process) %\}|\{#.*?#\}', "", ours)
    stripped = stripped.replace("{% load i18n static dsfr_tags fragments %}", "{% load i18n static dsfr_tags %}")
    assert stripped == theirs
    assert engines["django"].engine.get_template("dsfr/base.html").origin.name.endswith("templates/dsfr/base.html")
    assert "dsfr/templates" not in engines["django"].engine.get_template("dsfr/base.html").origin.name


def test_a_nonce_fragment_carries_each_requests_own_nonce(settings):
    """{% per_process_nonce %}: rendered once with a mark, then each request's nonce in its place; a
    nonce not read yet (django-csp's lazy nonce, false until read) gives django-dsfr's markup without one."""
    from csp.middleware import CheckableLazyObject
    from django.template import Context, Template
    from django.test import RequestFactory
    from django.test.signals import template_rendered
    from dsfr.templatetags.dsfr_tags import dsfr_js

    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = True
    fragments.forget()
    engine = engines["django"].engine
    page = Template('{% load dsfr_tags fragments %}{% per_process_nonce "js" %}{% dsfr_js nonce=request.csp_nonce %}'
                    '{% endper_process %}', engine=engine, name="test-nonce.html")
    expected = engine.get_template("dsfr/global_js.html")
    rendered = []
    template_rendered.connect(lambda sender, template, **kw: rendered.append(template.name), weak=False,
                              dispatch_uid="test-nonce")
    try:
        for i, read in enumerate((True, True, False, True, False)):
            request = RequestFactory().get("/")
            request.csp_nonce = CheckableLazyObject(lambda i=i: f"nonce{i}+/=")
            if read:
                str(request.csp_nonce)  # as a script of the page above would
            html = page.render(Context({"request": request}))
            data = dsfr_js(Context({}), nonce=f"nonce{i}+/=" if read else None)
            assert html == expected.render(Context(data)), i
            assert (f'nonce="nonce{i}+/="' in html) == read and fragments.NONCE_MARK not in html
    finally:
        template_rendered.disconnect(dispatch_uid="test-nonce")
    assert rendered.count("dsfr/global_js.html") == 2 + 5  # one per variant, then the 5 expected ones
