"""Proof of identity: every form of the project, rendered by django-dsfr's templates
(procuration.renderers.FormRenderer) and by the product's Python renderer (FastFormRenderer),
gives the same HTML — unbound, bound with errors (field errors, a domain error on a field and one
on the whole form through add_domain_error, messages to escape) and bound with filled values.

The forms are found by importing every module of the project's apps and walking the subclasses
of django-dsfr's DsfrBaseForm (plus the forms built by a module-level `*_form_class()` factory),
so a new form is covered without touching this file."""

import datetime
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.html import parse_html
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from procuration.exceptions import DomainError
from procuration.forms import add_domain_error
from procuration.renderers import FastFormRenderer, FormRenderer
from tests.factories import BureauDeVoteFactory, CommuneFactory, ElecteurFactory, ScrutinFactory, UserFactory

BASE_DIR = Path(settings.BASE_DIR).resolve()


def _project_modules():
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if BASE_DIR not in path.parents or ".venv" in path.parts:
            continue
        yield importlib.import_module(app.name)
        for info in pkgutil.walk_packages([str(path)], prefix=f"{app.name}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            yield importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_form_classes():
    built = []  # forms built on demand (mairie_cerfa_form_class), kept alive for __subclasses__()
    for module in _project_modules():
        for name, value in list(vars(module).items()):
            if name.endswith("_form_class") and inspect.isfunction(value) and value.__module__ == module.__name__:
                built.append(value())
    found = {}
    for cls in _subclasses(DsfrBaseForm):
        module = cls.__module__.split(".")[0]
        if module in {app.name for app in apps.get_app_configs()} and not cls.__name__.startswith("_"):
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


FORMS = project_form_classes()


def test_the_walk_finds_the_forms_of_every_portal():
    names = set(FORMS)
    for expected in ("mandant.forms.ValiditeForm", "mandant.forms.MandataireForm", "procuration.cerfa.CerfaForm",
                     "police.forms.ReferenceForm", "mairie.forms.QueueFilterForm", "api.forms.ApiKeyForm",
                     "mairie.forms.mairie_cerfa_form_class.<locals>.MairieCerfaForm", "procuration.pages.ContactForm"):
        assert expected in names
    assert len(names) >= 35


# ------------------------------------------------------------------ building each form


@pytest.fixture
def world(db):
    commune = CommuneFactory(nom="Almayrac", code_insee="81005")
    BureauDeVoteFactory(commune=commune, numero=1)
    today = timezone.localdate()
    ScrutinFactory(date_tour1=today + datetime.timedelta(days=30), date_tour2=today + datetime.timedelta(days=44))
    electeur = ElecteurFactory(commune=commune)
    user = UserFactory(role="agent_mairie", commune=commune)
    return {"commune": commune, "electeur": electeur, "user": user}


def _kwargs(cls, world):
    kwargs = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if param.kind is param.KEYWORD_ONLY and param.default is param.empty:
            kwargs[name] = world[name]  # a new required argument: add it to `world`
    return kwargs


def _value(name, field):
    """A value each field accepts on its own (the form's clean() may still refuse the whole)."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [str(obj.pk) for obj in field.queryset[:2]]
    if isinstance(field, forms.MultipleChoiceField):
        return [str(value) for value, _ in list(field.choices)[:2] if value != ""]
    if isinstance(field, forms.ModelChoiceField):
        obj = field.queryset.first()
        return str(obj.pk) if obj else ""
    if isinstance(field, forms.ChoiceField):
        return next((str(value) for value, _ in field.choices if value != ""), "")
    if isinstance(field, forms.BooleanField):
        return "on"
    if isinstance(field, forms.DateField):
        return (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    if isinstance(field, forms.IntegerField):
        return str(field.min_value if field.min_value is not None else 3)
    if isinstance(field, forms.EmailField):
        return "nom@exemple.fr"
    if isinstance(field, forms.URLField):
        return "https://exemple.fr/appel"
    if isinstance(field, forms.RegexField):
        return "81005"
    if isinstance(field, forms.FileField):
        return None
    text = 'Valeur "à" <échapper> & 1'
    if getattr(field, "max_length", None):
        text = text[: field.max_length]
    if getattr(field, "min_length", None) and len(text) < field.min_length:
        text = text.ljust(field.min_length, "x")
    return text


def _filled(cls, world):
    form = cls(**_kwargs(cls, world))
    data, files = {}, {}
    for name, field in form.fields.items():
        value = _value(name, field)
        if isinstance(field, forms.FileField):
            files[name] = SimpleUploadedFile("piece.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
        elif isinstance(value, list):
            data[name] = value
        elif value is not None:
            data[name] = value
    return data, files


def _states(cls, world):
    """(state, build) pairs; build(renderer) returns a form in that state rendered by that renderer."""
    kwargs = _kwargs(cls, world)
    data, files = _filled(cls, world)

    def unbound(renderer):
        return cls(renderer=renderer, **kwargs)

    def with_errors(renderer):
        form = cls(data={}, renderer=renderer, **kwargs)
        form.is_valid()
        first = next(iter(form.fields))
        add_domain_error(form, DomainError("Règle du domaine : l'électeur <b>n'est pas</b> inscrit & autre.", field=first))
        add_domain_error(form, DomainError("Erreur sans champ « d'ensemble ».", field="aucun_champ"))
        return form

    def filled(renderer):
        form = cls(data=data, files=files, renderer=renderer, **kwargs)
        form.is_valid()
        return form

    return [("unbound", unbound), ("errors", with_errors), ("filled", filled)]


def _collapse(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _render_all(form) -> list[str]:
    """The whole form ({{ form }}), then each field as the templates that lay fields out call it."""
    out = [str(form)]
    out += [str(bf.as_field_group()) for bf in form if not bf.is_hidden]
    out += [str(form.non_field_errors())]
    return out


@pytest.mark.parametrize("name", sorted(FORMS))
def test_python_renderer_writes_the_dsfr_templates_markup(name, world):
    cls = FORMS[name]
    for state, build in _states(cls, world):
        expected = _render_all(build(FormRenderer()))
        got = _render_all(build(FastFormRenderer()))
        for old, new in zip(expected, got, strict=True):
            # Same DOM (attribute order aside, as assertHTMLEqual), and the same text once whitespace runs are one space.
            assert parse_html(new) == parse_html(old), f"{name} ({state}):\n{old}\n---\n{new}"
            assert _collapse(new) == _collapse(old), f"{name} ({state}):\n{old}\n---\n{new}"


def test_the_states_show_values_errors_and_domain_errors(world):
    """The cases above do cover what they claim: values kept, escaped errors, the domain error on
    its field (with its aria link) and on the whole form."""
    from mandant.forms import RecapForm

    states = dict(_states(RecapForm, world))
    html = str(states["errors"](FastFormRenderer()))
    assert 'aria-describedby="id_email_contact-desc-error"' in html
    assert "fr-input-group--error" in html
    assert "l&#x27;électeur &lt;b&gt;n&#x27;est pas&lt;/b&gt; inscrit &amp; autre." in html
    assert '<section class="fr-my-4v fr-input-group fr-input-group--error">' in html
    assert "Erreur sans champ « d&#x27;ensemble »." in html
    filled = states["filled"](FastFormRenderer())
    assert filled.is_valid()
    assert 'value="nom@exemple.fr"' in str(filled)


def test_the_product_renders_with_the_python_renderer(world):
    from django.forms.renderers import get_default_renderer

    from mandant.forms import RecapForm

    assert isinstance(get_default_renderer(), FastFormRenderer)
    assert isinstance(RecapForm().renderer, FastFormRenderer)


def test_a_template_it_does_not_know_goes_to_the_engine(world):
    """A field with its own template is rendered by that template, not by the Python code."""
    from mandant.forms import RecapForm

    form = RecapForm(renderer=FastFormRenderer())
    form.fields["email_contact"].template_name = "django/forms/field.html"  # Django's plain field template
    html = str(form["email_contact"].as_field_group())
    assert "fr-input-group" not in html and 'name="email_contact"' in html


class _EveryCase(DsfrBaseForm):
    """What today's forms do not use but a new one may: disabled and hidden fields, option groups,
    multiple selects, inline checkboxes with a hint, lazy and safe texts, localised numbers, a file
    already there (the engine's template then), a field with its own template (the engine too)."""

    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    cache = forms.CharField(widget=forms.HiddenInput, initial="x<y")
    gele = forms.CharField(label="Gelé", disabled=True, initial="figé & sûr", help_text="Non modifiable.")
    groupes = forms.ChoiceField(label="Groupes", choices=[("Nord", [("59", "Nord <59>"), ("62", "Pas-de-Calais")]),
                                                          ("Sud", [("13", "Bouches-du-Rhône")]), ("", "Aucun")])
    plusieurs = forms.MultipleChoiceField(label="Plusieurs", choices=[("a", "A"), ("b", "B")], required=False)
    cases = forms.MultipleChoiceField(label="Cases", choices=[("a", "A « un »"), ("b", "B")],
                                      widget=forms.CheckboxSelectMultiple, help_text=mark_safe("<b>Aide</b> sûre"))
    radios = forms.ChoiceField(label=gettext_lazy("Radios"), choices=[("1", "Un"), ("2", "Deux")],
                               widget=forms.RadioSelect, help_text="Une aide & un choix.")
    nombre = forms.DecimalField(label="Nombre", initial=1234.5, required=False)
    texte = forms.CharField(label="Texte", widget=forms.Textarea, initial="ligne 1\nligne <2>")
    fichier = forms.FileField(label="Fichier", required=False, widget=forms.ClearableFileInput)
    propre = forms.CharField(label="Propre gabarit", required=False, template_name="django/forms/field.html")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].widget.inline = True


class _StoredFile:
    url = "/media/piece.pdf"

    def __str__(self):
        return "piece.pdf"


@pytest.mark.parametrize("state", ["unbound", "initial_file", "errors", "filled"])
def test_python_renderer_writes_the_dsfr_markup_for_cases_no_form_uses_yet(state, world):
    def build(renderer):
        if state == "unbound":
            return _EveryCase(renderer=renderer)
        if state == "initial_file":
            return _EveryCase(renderer=renderer, initial={"fichier": _StoredFile()})
        if state == "errors":
            form = _EveryCase(data={"groupes": "99", "cases": ["z"]}, renderer=renderer)
        else:
            form = _EveryCase(data={"cache": "x", "groupes": "62", "plusieurs": ["a", "b"], "cases": ["a"],
                                    "radios": "2", "nombre": "12.5", "texte": "a <b>"}, renderer=renderer)
        form.is_valid()
        add_domain_error(form, DomainError("Règle <i>du</i> domaine.", field="radios"))
        return form

    for old, new in zip(_render_all(build(FormRenderer())), _render_all(build(FastFormRenderer())), strict=True):
        assert parse_html(new) == parse_html(old), f"{state}:\n{old}\n---\n{new}"
        assert _collapse(new) == _collapse(old), f"{state}:\n{old}\n---\n{new}"
