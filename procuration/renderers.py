"""The form renderers: django-dsfr's (templates), and the one the product uses, which writes the
same markup in Python.

django-dsfr renders each field through four to eight nested templates (the field snippet, the
widget, input.html, attrs.html, one option template per radio button, the error list): about a
third of a millisecond per field even with the cached loader, ≈ 10 ms for a form page.
`FastFormRenderer` answers the templates it knows with Python string building (same context in,
same HTML out, escaped as the template engine escapes) and hands any other template to the
engine, so a field or widget with its own template still renders through it. The identity with
the templates is proved form by form in tests/procuration/test_form_renderer.py.
"""

from html import escape
from pathlib import Path

import dsfr
from django import forms
from django.conf import settings
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import template_localtime
from dsfr.forms import DsfrDjangoTemplates
from dsfr.templatetags.dsfr_tags import dsfr_mark_optionnal_fields
from dsfr.utils import dsfr_input_class_attr


class FormRenderer(DsfrDjangoTemplates):
    """django-dsfr's renderer searches its own templates, then Django's, never the project's.
    This one puts templates/ first, so templates/django/forms/… can change how a widget is
    written (templates/django/forms/widgets/attrs.html: no dsfr="dsfr" in the HTML)."""

    @cached_property
    def engine(self):
        return self.backend({
            "APP_DIRS": True,
            "DIRS": [
                Path(settings.BASE_DIR) / "templates",
                Path(dsfr.__path__[0]) / "templates",  # as DsfrDjangoTemplates
                Path(forms.__path__[0]) / "templates",
            ],
            "NAME": "djangoforms",
            "OPTIONS": {},
        })


# ------------------------------------------------------------------ escaping as the template engine does


def _text(value) -> str:
    """`{{ value }}`: localised, then escaped unless already safe (render_value_in_context)."""
    kind = type(value)
    if kind is str:
        return escape(value)
    if kind is SafeString:
        return value
    value = localize(template_localtime(value))
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def _s(value) -> str:
    """`{{ value|stringformat:'s' }}`: no localisation; stays unescaped only if it was safe."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """templates/django/forms/widgets/attrs.html (Django's, less django-dsfr's "dsfr" flag)."""
    out = []
    for name, value in attrs.items():
        if value is False or name == "dsfr":
            continue
        if value is True:
            out.append(f" {_text(name)}")
        else:
            out.append(f' {_text(name)}="{_s(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (and every template that only includes it)."""
    value = widget["value"]
    html = f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
    if value != None:  # noqa: E711 — the template's `!= None`
        html += f' value="{_s(value)}"'
    return f"{html}{_attrs(widget['attrs'])}>"


def _plain_label(widget: dict):
    """An option's label, or None when it is a rich label (label.label, help_text): template then."""
    label = widget["label"]
    if isinstance(label, str) or not (getattr(label, "label", None) or isinstance(label, dict)):
        return label
    return None


# ------------------------------------------------------------------ widgets


def _widget_input(context):
    return _input(context["widget"])


def _widget_select(context):
    widget = context["widget"]
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                return None
            out.append(f'\n  <option value="{_s(option["value"])}"{_attrs(option["attrs"])}>'
                       f'{_text(option["label"])}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _widget_textarea(context):
    widget = context["widget"]
    value = widget["value"]
    return (f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            f'{_text(value) if value else ""}</textarea>')


def _widget_clearable_file(context):
    widget = context["widget"]
    if widget["is_initial"]:
        return None  # a file already there: Django's template (never the case in our forms)
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>'


def _label_for(widget: dict) -> str:
    id_ = widget["attrs"].get("id")
    return f'for="{_text(id_)}"' if id_ else ""


def _widget_radio_option(context):
    """django-dsfr's django/forms/widgets/radio_option.html."""
    widget = context["widget"]
    label = _plain_label(widget)
    if label is None:
        return None
    html = f'<div class="fr-radio-group">\n{_input(widget)}\n'
    if widget["wrap_label"]:
        html += f'<label class="fr-label"\n{_label_for(widget)}>\n{_text(label)}\n</label>\n'
    return html + "</div>"


def _widget_checkbox_option(context):
    """django-dsfr's django/forms/widgets/checkbox_option.html."""
    widget = context["widget"]
    label = _plain_label(widget)
    if label is None:
        return None
    wrapped = widget["attrs"].get("dsfr") == "dsfr"
    html = '<div class="fr-checkbox-group">\n' if wrapped else ""
    html += f"{_input(widget)}\n"
    if widget["wrap_label"]:
        html += f'<label class="fr-label"\n{_label_for(widget)}>\n{_text(label)}\n</label>\n'
    return html + "</div>" if wrapped else html.rstrip("\n")


def _errors_ul(context):
    """django-dsfr's django/forms/errors/list/ul.html (default.html only includes it)."""
    errors = context["errors"]
    if not errors:
        return ""
    items = "".join(f'\n<li class="fr-error-text">\n{_text(error)}\n</li>' for error in errors)
    return f'<ul class="{_text(context["error_class"])}">{items}\n</ul>'


# ------------------------------------------------------------------ django-dsfr's field and form snippets


def _label_text(bf) -> str:
    return f"{_text(bf.label)}{_text(dsfr_mark_optionnal_fields(bf))}"


def _hint(bf, id_) -> str:
    help_text = bf.help_text
    return f'\n<span class="fr-hint-text" id="{_text(id_)}_helptext">{help_text}</span>\n' if help_text else ""


def _field_input(context):
    bf = context["field"]
    widget = bf.field.widget
    group = _text(getattr(widget, "group_class", None) or "fr-input-group")
    errors = bf.errors
    classes = group
    if errors:
        classes += f" {group}--error"
    if bf.field.disabled:
        classes += " fr-input-group--disabled"
    id_for_label = bf.id_for_label
    html = (f'<div class="{classes}">\n<label for="{_text(id_for_label)}" class="fr-label">\n'
            f"{_label_text(bf)}\n{_hint(bf, id_for_label)}</label>\n")
    html += str(dsfr_input_class_attr(bf))
    if errors:
        html += f'\n<div id="{_text(bf.auto_id)}-desc-error">\n{_text(errors)}\n</div>'
    return html + "\n</div>"


def _field_checkbox(context):
    bf = context["field"]
    errors = bf.errors
    classes = "fr-checkbox-group"
    if errors:
        classes += " fr-checkbox-group--error"
    if bf.field.disabled:
        classes += " fr-input-group--disabled"
    dsfr_input_class_attr(bf)
    bf.field.widget.input_type = "checkbox"  # widget_tweaks' attr:"type:checkbox"
    html = (f'<div class="{classes} fr-mb-2w">\n{bf}\n'
            f'<label for="{_text(bf.id_for_label)}" class="fr-label">\n'
            f"{_label_text(bf)}\n{_hint(bf, bf.auto_id)}</label>")
    if errors:
        html += f'\n<div id="{_text(bf.auto_id)}-desc-error">\n{_text(errors)}\n</div>'
    return html + "\n</div>"


def _fieldset(bf, *, kind: str, extra_class: str, errors_ref: str, errors_div: str):
    errors = bf.errors
    auto_id = _text(bf.auto_id)
    labelledby = f"{auto_id}-legend"
    if errors:
        labelledby += f" {auto_id}-{errors_ref}"
    html = (f'<fieldset class="fr-fieldset{" fr-fieldset--error" if errors else ""}{extra_class}" '
            f'id="{kind}-{auto_id}" aria-labelledby="{labelledby}">\n'
            f'<legend class="fr-fieldset__legend fr-fieldset__legend--regular" id="{auto_id}-legend">\n'
            f"{_label_text(bf)}\n{_hint(bf, bf.auto_id)}</legend>\n")
    dsfr_input_class_attr(bf)
    element = "fr-fieldset__element"
    if getattr(bf.field.widget, "inline", None):
        element += " fr-fieldset__element--inline"
    for subwidget in bf.subwidgets:
        html += f'\n<div class="{element}">\n{_text(subwidget)}\n</div>\n'
    if errors:
        html += f'\n<div{errors_div} id="{auto_id}-desc-error">\n{_text(errors)}\n</div>'
    return html + "\n</fieldset>"


def _field_radioselect(context):
    return _fieldset(context["field"], kind="radio", extra_class="", errors_ref="desc-error",
                     errors_div=' class="fr-messages-group"')


def _field_checkboxselectmultiple(context):
    return _fieldset(context["field"], kind="checkboxes", extra_class=" fr-fieldsets", errors_ref="messages",
                     errors_div="")


def _form(context):
    """django-dsfr's dsfr/form_snippet.html."""
    form = context["form"]
    out = []
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        out.append(f'<section class="fr-my-4v fr-input-group fr-input-group--error">\n'
                   f"{_text(non_field_errors)}\n</section>")
    for bf in form:
        out.append(str(bf.as_hidden() if bf.is_hidden else bf.as_field_group()))
    return "\n".join(out)


_WIDGETS = "django/forms/widgets/"
_SNIPPETS = "dsfr/form_field_snippets/"
PYTHON_TEMPLATES = {
    **{f"{_WIDGETS}{name}.html": _widget_input for name in (
        "input", "text", "number", "email", "url", "color", "search", "tel", "password", "hidden",
        "date", "datetime", "time", "checkbox", "file",
    )},
    f"{_WIDGETS}select.html": _widget_select,
    f"{_WIDGETS}textarea.html": _widget_textarea,
    f"{_WIDGETS}clearable_file_input.html": _widget_clearable_file,
    f"{_WIDGETS}radio_option.html": _widget_radio_option,
    f"{_WIDGETS}checkbox_option.html": _widget_checkbox_option,
    "django/forms/errors/list/default.html": _errors_ul,
    "django/forms/errors/list/ul.html": _errors_ul,
    f"{_SNIPPETS}input_snippet.html": _field_input,
    f"{_SNIPPETS}checkbox_snippet.html": _field_checkbox,
    f"{_SNIPPETS}radioselect_snippet.html": _field_radioselect,
    f"{_SNIPPETS}checkboxselectmultiple_snippet.html": _field_checkboxselectmultiple,
    "dsfr/form_snippet.html": _form,
}


class FastFormRenderer(FormRenderer):
    """The product's renderer (settings.FORM_RENDERER): django-dsfr's markup, written in Python for
    the templates of PYTHON_TEMPLATES, through the template engine for any other (or when a function
    declines, returning None). Same template resolution as FormRenderer: a project override of one
    of these templates must be mirrored here — tests/procuration/test_form_renderer.py fails until
    it is."""

    def render(self, template_name, context, request=None):
        python = PYTHON_TEMPLATES.get(template_name)
        if python is not None:
            html = python(context)
            if html is not None:
                return html
        return super().render(template_name, context, request)
