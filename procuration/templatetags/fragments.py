"""{% per_process "name" key1 key2 … %}…{% endper_process %}: a fragment of a page rendered once per
process for each value of its key, then reused as text (issue 16: the header, the footer, the menu
of each role and django-dsfr's head tags cost a page ≈ 0.5 bare view of template work and a dozen
{% static %} and {% url %} on every request, though they never change from one request to the next).

The key is what the fragment depends on, written next to it: the variables named after the
fragment's name (resolved on every request, as in an {% if %}: a missing one is None), plus, always, the page being
rendered (the top-level template: a fragment holding a {% block %} differs from page to page), the
active language, the script prefix (what {% url %} and {% static %} start with) and the
autoescape mode. Settings changes (tests: override_settings) empty every fragment. Anything user-
or request-specific that is not in the key must stay outside the fragment: the user's name, the
CSRF token, the messages, the CSP nonce (templates/base.html, templates/dsfr/base.html).
tests/procuration/test_fragments.py renders every page of every role with and without these
fragments and compares them byte for byte.

{% per_process_nonce "name" key… %}…{% endper_process %}: the same, for a fragment whose only
per-request part is the CSP nonce (django-dsfr's script tags, {% dsfr_js nonce=request.csp_nonce %}:
an inclusion template and two {% static %} on every page). It is rendered once with
procuration.csp.NONCE_MARK as the request's nonce, then the request's nonce is put in its place, as
procuration/csp.py does for the header. Without a nonce (no CSP middleware, no request) it is
rendered every time.

{{ form|form_key }}, in a fragment's key: an unbound form's HTML depends on nothing of the request
(issue 16: the fiches' validation and refusal forms, the mandant's validité step ≈ 1.5 to 4 ms of
rendering each), so `{% per_process "refus" refus_form|form_key %}{{ refus_form }}{% endper_process %}`
renders it once per process and key. The key is everything the form's HTML is made of: its class,
prefix, auto_id, label suffix, and for each field its kind, label, help text, required, disabled,
widget (kind, attributes, choices: another commune's scrutins are another key) and initial value. A
bound form (the request's values, its errors) is NOT_KEPT: rendered every time, never kept; so is
one given initial values (the user's own), unless the template asks `form|form_key:"initial"`: the
initial values are then in the key (the validité step a mandant comes back to: the period chosen, a
scrutin, dates, France or abroad; no personal data), one kept HTML per distinct value, MAX_KEYS at most.

TEMPLATE_FRAGMENTS_PER_PROCESS = False renders every fragment on every request (the uncached
rendering the test compares with). A fragment keeps at most MAX_KEYS values (then renders without
keeping), so a key that turned out unbounded costs time, never memory.
"""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils.translation import get_language

from procuration.csp import NONCE_MARK

register = template.Library()

MAX_KEYS = 512
NOT_KEPT = object()  # a key holding it renders every time, nothing kept (form_key: a bound form)
_generation = [0]  # bumped on every settings change: each fragment drops what it kept


def forget() -> None:
    """Every fragment of this process is rendered again at its next use."""
    _generation[0] += 1


@receiver(setting_changed)
def _forget_fragments(setting, **kwargs):
    if setting != "TEMPLATE_FRAGMENTS_PER_PROCESS":  # the switch itself changes no fragment
        forget()


class PerProcessNode(template.Node):
    def __init__(self, name: str, key: list, nodelist):
        self.name, self.key, self.nodelist = name, key, nodelist
        self.kept: dict = {}
        self.generation = _generation[0]

    def render(self, context, variant=()):
        page = getattr(context.template, "name", None)
        if page is None or not getattr(settings, "TEMPLATE_FRAGMENTS_PER_PROCESS", True):
            return self.nodelist.render(context)
        if self.generation != _generation[0]:
            self.kept, self.generation = {}, _generation[0]
        key = (page, get_language(), get_script_prefix(), context.autoescape,
               *variant, *(var.resolve(context, ignore_failures=True) for var in self.key))
        if any(value is NOT_KEPT for value in key):
            return self.nodelist.render(context)
        try:
            return self.kept[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value in the key: render every time
            return self.nodelist.render(context)
        html = self.nodelist.render(context)
        if len(self.kept) < MAX_KEYS:
            self.kept[key] = html
        return html

    def __repr__(self):
        return f"<PerProcessNode {self.name}>"


class _MarkedNonce:
    """The request, but with NONCE_MARK as its CSP nonce (the fragment is kept with the mark)."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return NONCE_MARK if name == "csp_nonce" else getattr(self._request, name)


class PerProcessNonceNode(PerProcessNode):
    def render(self, context):
        request = context.get("request")
        nonce = getattr(request, "csp_nonce", None)
        if nonce is None:
            return self.nodelist.render(context)
        if not nonce:
            # Not used by the page so far: django-csp's CheckableLazyObject is then false, and django-dsfr's
            # tag writes no nonce (nor does the header get one). That variant holds nothing of the request.
            return super().render(context, variant=(False,))
        with context.push(request=_MarkedNonce(request)):
            html = super().render(context, variant=(True,))
        return html.replace(NONCE_MARK, str(nonce))


@register.tag
def per_process(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a quoted name, then the variables of its key")
    nodelist = parser.parse(("endper_process",))
    parser.delete_first_token()
    return PerProcessNode(bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)


@register.filter
def form_key(form, initial=None):
    """What an unbound form's HTML is made of (see above), or NOT_KEPT for a bound form, and for one
    with initial values of its own unless the template says `form|form_key:"initial"` (then each
    field's initial value is in the key: only for forms whose initial values are no personal data).
    Choices are read as rendering reads them (a queryset's, a callable's)."""
    if form.is_bound or (form.initial and initial != "initial"):
        return NOT_KEPT
    fields = []
    for name, field in form.fields.items():
        widget = field.widget
        choices = getattr(widget, "choices", None)
        fields.append((
            name, type(field), field.label, field.help_text, field.required, field.disabled, field.show_hidden_initial,
            type(widget), tuple(widget.attrs.items()), getattr(widget, "input_type", None),
            None if choices is None else tuple(choices), form[name].initial,
        ))
    renderer = form.renderer if isinstance(form.renderer, type) else type(form.renderer)
    return (type(form), form.template_name, renderer, form.prefix, form.auto_id, form.label_suffix,
            form.use_required_attribute, tuple(fields))


@register.tag
def per_process_nonce(parser, token):
    node = per_process(parser, token)
    return PerProcessNonceNode(node.name, node.key, node.nodelist)
