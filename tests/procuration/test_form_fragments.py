"""Unbound forms rendered once per process ({{ form|form_key }} in a {% per_process %} key,
procuration/templatetags/fragments.py; issue 16, docs/performance.md « Unbound forms once per
process »): the police fiche's validation and refusal forms, the mairie fiche's validation and
invalidation forms, the mandant's validité step.

- the kept HTML is, byte for byte, what the form renderer writes without the fragment;
- a second request renders no form (no call to the form renderer);
- a form with other choices (another commune's scrutins, another motif list) gets its own HTML;
- a bound form (the POST's values and errors) is rendered every time, with its errors on the field.
"""

import pytest
from django.template import Context, Template, engines
from django.urls import reverse

from mairie.forms import InvalidationForm
from mairie.forms import ValidationForm as MairieValidationForm
from mandant.forms import ValiditeForm
from police.forms import RefusForm, ValidationForm
from procuration.models import RefusMotif
from procuration.renderers import FastFormRenderer
from procuration.templatetags import fragments
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory
from tests.police._helpers import fiche_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders(monkeypatch):
    """The names the form renderer is asked for (a spy: the real renderer answers)."""
    asked = []
    real = FastFormRenderer.render

    def spy(self, template_name, context, request=None):
        asked.append(template_name)
        return real(self, template_name, context, request)

    monkeypatch.setattr(FastFormRenderer, "render", spy)
    return asked


@pytest.fixture(autouse=True)
def _kept(settings):
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = True
    fragments.forget()


def _officer(client, policier):
    client.force_login(policier)
    client.get(reverse("police:home"))  # the session remembers the TOTP check
    return client


def test_police_fiche_forms_are_kept_same_bytes_and_not_rendered_again(client, policier, commune, renders):
    officer = _officer(client, policier)
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    url = fiche_url(policier, p.pk)
    first = officer.get(url).content.decode()
    assert "dsfr/form_snippet.html" in renders
    renders.clear()
    second = officer.get(url).content.decode()
    assert renders == []  # nothing rendered by the form renderer
    for form in (ValidationForm(), RefusForm()):  # the renderer's own HTML, no fragment
        assert str(form) in first and str(form) in second
    assert second.count(str(ValidationForm())) == 1 and 'name="piece_type"' in second


def test_mairie_fiche_forms_are_kept_same_bytes_and_not_rendered_again(client, agent_mairie, commune, renders):
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)
    url = reverse("mairie:detail", args=[p.pk])
    first = client.get(url)
    renders.clear()
    second = client.get(url)
    assert renders == []
    for form in [InvalidationForm()] + ([] if first.context["all_ok"] else [MairieValidationForm()]):
        assert str(form) in first.content.decode() and str(form) in second.content.decode()
    assert 'name="motif"' in second.content.decode()


def _mandant_of(commune, username, nom):
    e = ElecteurFactory(commune=commune, nom=nom, prenoms="Louis", date_naissance="1990-01-01")
    user = UserFactory(username=username, first_name=e.prenoms, last_name=e.nom, birthdate=e.date_naissance,
                       gender=e.sexe, birthplace=e.code_lieu_naissance, birthcountry=e.code_pays_naissance)
    return user, e


def test_validite_step_kept_per_offer_of_scrutins(client, commune, other_commune, renders, settings):
    """Each commune's own scrutins: a partielle of the other commune is another key, another HTML."""
    national = ScrutinFactory(libelle="Européennes de test")
    partielle = ScrutinFactory(libelle="Partielle de Loisieux")
    partielle.communes.add(other_commune)
    here, there = _mandant_of(commune, "mandant-ici", "MARTIN"), _mandant_of(other_commune, "mandant-la", "BERNARD")
    pages = {}
    for user, electeur in (here, there, here, there):
        client.force_login(user)
        renders.clear()
        html = client.get(reverse("mandant:demande_validite")).content.decode()
        rendered = list(renders)
        form = ValiditeForm(electeur=electeur)
        for name in form.fields:  # the renderer's own HTML of each field, kept or not
            assert str(form[name].as_field_group()) in html, name
        assert f'<option value="{national.pk}">' in html
        assert (f'<option value="{partielle.pk}">' in html) == (user == there[0])
        if user in pages:
            assert rendered == [] and _same_but_tokens(html, pages[user])
        else:
            assert rendered  # the first time for this offer: rendered
            pages[user] = html
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = False  # the whole page without the fragment: same bytes
    for user, _electeur in (here, there):
        client.force_login(user)
        assert _same_but_tokens(client.get(reverse("mandant:demande_validite")).content.decode(), pages[user])


def _same_but_tokens(a, b):
    import re

    def clean(html):
        return re.sub(r'(csrfmiddlewaretoken" value=")[^"]+|( nonce=")[^"]+', r"\1\2", html)

    return clean(a) == clean(b)


def test_a_form_with_other_choices_gets_its_own_html():
    """Same page, same fragment, another motif list: another key, another HTML."""
    page = Template('{% load fragments %}{% per_process "f" form|form_key %}{{ form }}{% endper_process %}',
                    engine=engines["django"].engine, name="test-form-key.html")
    short = RefusForm()
    short.fields["motif"].choices = RefusMotif.choices[:1]
    html_full, html_short = page.render(Context({"form": RefusForm()})), page.render(Context({"form": short}))
    assert html_full == str(RefusForm()) and html_short == str(short) and html_full != html_short
    assert page.render(Context({"form": RefusForm()})) == html_full


def test_a_bound_form_with_errors_shows_them_on_its_field(client, policier, commune, agent_mairie):
    officer = _officer(client, policier)
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    url = fiche_url(policier, p.pk)
    officer.get(url)  # the unbound forms kept
    response = officer.post(url, {"action": "refuser"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "fr-fieldset--error" in html and "Choisissez le motif du refus." in html
    bound = RefusForm({"action": "refuser"})
    bound.is_valid()
    assert str(bound) in html
    assert officer.get(url).content.decode().count("Choisissez le motif du refus.") == 0  # not kept

    q = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)
    client.get(reverse("mairie:detail", args=[q.pk]))
    response = client.post(reverse("mairie:invalidate", args=[q.pk]), {"detail": "x"})
    assert response.status_code == 400
    bound = InvalidationForm({"detail": "x"})
    bound.is_valid()
    assert str(bound) in response.content.decode() and "fr-fieldset--error" in response.content.decode()


def test_form_key_never_keeps_a_bound_form_nor_one_with_the_users_initial_values():
    assert fragments.form_key(RefusForm({"motif": "autre"})) is fragments.NOT_KEPT
    assert fragments.form_key(RefusForm(initial={"detail": "mine"})) is fragments.NOT_KEPT
    assert fragments.form_key(RefusForm()) == fragments.form_key(RefusForm())
    assert fragments.form_key(RefusForm()) != fragments.form_key(ValidationForm())


def test_validite_step_come_back_to_is_kept_per_initial_values(commune, renders, settings):
    """A mandant back at step 1 sees their own choices (the initial values are in the key:
    form|form_key:"initial"); the same choices are the same HTML, other choices their own."""
    from tests.conftest import Client

    scrutin, autre = ScrutinFactory(libelle="Européennes de test"), ScrutinFactory(libelle="Régionales de test")
    clients = []
    for i, nom in enumerate(("MARTIN", "BERNARD", "PETIT")):
        clients.append(Client())
        clients[-1].force_login(_mandant_of(commune, f"mandant-{i}", nom)[0])
    url = reverse("mandant:demande_validite")
    pages = []
    for i, (client, s) in enumerate(zip(clients, (scrutin, scrutin, autre))):
        assert client.post(url, {"portee": "scrutin", "scrutin": s.pk, "tour1": "on", "etablissement": "france"}
                           ).status_code == 302
        renders.clear()
        pages.append(client.get(url).content.decode())
        assert f'<option value="{s.pk}" selected>' in pages[-1] and 'name="tour1" id="id_tour1" checked' in pages[-1]
        assert (renders == []) == (i == 1)  # the second mandant chose as the first: the kept HTML
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = False  # each page without the fragment: same bytes
    for client, page in zip(clients, pages):
        assert _same_but_tokens(client.get(url).content.decode(), page)


def test_mandataire_step_kept_on_first_visit_never_with_the_mandataires_identity(commune, renders, settings):
    """Step 2's form: kept when empty (a first visit); a mandant coming back sees the mandataire they
    typed (initial values: personal data, never kept nor keyed), rendered every time."""
    from tests.conftest import Client

    scrutin = ScrutinFactory(libelle="Européennes de test")
    ElecteurFactory(nne="123456789", nom="LAMBERT", prenoms="Paul", date_naissance="1975-02-03", commune=commune)
    clients = []
    for i, nom in enumerate(("MARTIN", "BERNARD")):
        clients.append(Client())
        clients[-1].force_login(_mandant_of(commune, f"mandant-{i}", nom)[0])
        assert clients[-1].post(reverse("mandant:demande_validite"), {
            "portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "etablissement": "france"}).status_code == 302
    url = reverse("mandant:demande_mandataire")
    pages = []
    for i, client in enumerate(clients):
        renders.clear()
        pages.append(client.get(url).content.decode())
        assert (renders == []) == (i == 1)  # the second first visit: the kept HTML
    back = clients[0]
    assert back.post(url, {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-03",
                           "email_mandataire": ""}).status_code == 302
    for _ in range(2):
        renders.clear()
        page = back.get(url).content.decode()
        assert renders and 'value="123456789"' in page  # their own mandataire, rendered each time
    assert 'value="123456789"' not in clients[1].get(url).content.decode()
    settings.TEMPLATE_FRAGMENTS_PER_PROCESS = False  # the first visit without the fragment: same bytes
    assert _same_but_tokens(clients[1].get(url).content.decode(), pages[1])
