"""The rows of the mairie queue (mairie/queue.html), written in Python, and its filters kept per process.

Fifty rows through the template engine cost about half the page's CPU (a node, a variable lookup
and a filter call per cell: issue 16, docs/performance.md); the same HTML written here costs a
fraction of it. The markup is the one the template wrote, byte for byte (whitespace included):
tests/mairie/test_queue_rows.py renders both and compares them. Every value is escaped.

The rows are read with `COLUMNS | checks.COLUMNS` (procuration.rows): what this module shows and
what the checks read, nothing else.

The filter fields (four selects, ≈ 2 bare views of CPU to build their options) are rendered once
per process for the same choices and values: see filters_html.
"""

import threading
from html import escape as _html_escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from procuration.models import AnnulationMotif, Status
from procuration.rows import Columns

# What rows_html reads (besides the verdict the view sets).
COLUMNS = Columns({
    "": ("reference", "status", "annulation_motif", "scrutin_id", "valid_from", "valid_until", "autorite_at"),
    "mandant": ("nom", "prenoms"),
    "mandant__bureau": ("numero",),
    "mandataire": ("nom", "prenoms"),
    "scrutin": ("libelle",),
})
_STATUS = dict(Status.choices)  # get_status_display, get_annulation_motif_display
_MOTIF = dict(AnnulationMotif.choices)

_CHECKBOX = ('<div class="fr-checkbox-group fr-checkbox-group--sm"><input type="checkbox" name="ids" value="{pk}" '
             'id="sel-{pk}"><label class="fr-label" for="sel-{pk}"><span class="fr-sr-only">Sélectionner {ref}</span>'
             '</label></div>')
_BADGE = ('<td><p class="fr-badge fr-badge--success fr-badge--sm" title="{}">Conforme</p></td>',
          '<td><p class="fr-badge fr-badge--error fr-badge--sm" title="{}">Non conforme</p></td>')


def escape(value) -> str:
    """django.utils.html.escape without its lazy-string wrapper (the same five characters)."""
    return _html_escape(str(value))


def _date(value, fmt: str, tz=None) -> str:
    """The `date` template filter for the numeric formats of the row (« d/m/Y », « d/m/Y H:i », as
    strftime formats): aware datetimes in the current time zone (`tz`, read once by the caller for
    its rows: timezone.localtime looks it up on every call), "" for None."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = value.astimezone(tz or timezone.get_current_timezone())  # timezone.localtime
    return value.strftime(fmt)


def rows_html(rows, waiting_view: bool) -> SafeString:
    """The <tr> of each row (with .verdict and .columns set by the view), as the template's loop wrote them.

    What repeats from row to row is written once per call: a check's badge (its verdict and message:
    a handful of distinct ones on a page), a scrutin's libellé, the link's two halves, the time zone."""
    detail = reverse("mairie:detail", args=[0])
    head, tail = (escape(part) for part in detail.rsplit("0", 1))
    tz = timezone.get_current_timezone()
    badges, scrutins = {}, {}
    out = []
    for p in rows:
        ref = escape(p.reference)
        verdict = p.verdict
        all_ok = verdict.all_ok
        select = ""
        if waiting_view:
            select = "<td>" + (_CHECKBOX.format(pk=p.pk, ref=ref) if all_ok else "") + "</td>"
        if p.scrutin:
            period = scrutins.get(p.scrutin_id)
            if period is None:
                period = scrutins[p.scrutin_id] = escape(p.scrutin.libelle)
        else:
            period = f"Du {_date(p.valid_from, '%d/%m/%Y')} au {_date(p.valid_until, '%d/%m/%Y')}"
        bureau = p.mandant.bureau
        if p.annulation_motif:
            why = f"<strong>{escape(_STATUS[p.status])}</strong> : {escape(_MOTIF[p.annulation_motif])}"
        elif all_ok:
            why = "<strong>Tous les contrôles sont conformes</strong>"
        else:
            why = "<strong>À examiner</strong>" + "".join(
                f'<br><span class="fr-text--xs">{escape(r.message)}</span>' for r in verdict.results if not r.ok)
        cells = []
        for r in p.columns:
            badge = badges.get((r.ok, r.message))
            if badge is None:
                badge = badges[r.ok, r.message] = _BADGE[not r.ok].format(escape(r.message))
            cells.append(badge)
        out.append(
            f'\n    <tr data-reference="{ref}">\n      {select}\n'
            f'      <td><a href="{head}{p.pk}{tail}">{ref}</a></td>\n'
            f"      <td>{escape(str(p.mandant.nom).upper())} {escape(p.mandant.prenoms)}</td>\n"
            f"      <td>{escape(str(p.mandataire.nom).upper())} {escape(p.mandataire.prenoms)}</td>\n"
            f"      <td>{period}</td>\n"
            f"      <td>{f'n° {escape(bureau.numero)}' if bureau else '—'}</td>\n"
            f"      <td>{_date(p.autorite_at, '%d/%m/%Y %H:%M', tz)}</td>\n"
            f"      {''.join(cells)}\n"
            f'      <td class="verdict">{why}</td>\n    </tr>\n  '
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


_FILTERS: dict = {}  # {key: html}, per process
_FILTERS_MAX = 256
_FILTERS_LOCK = threading.Lock()


def filters_html(form) -> SafeString:
    """The filter form's fields as the template's loop wrote them (`{% for field in form %}<div
    class="fr-col-12 fr-col-md-3">{{ field.as_field_group }}</div>{% endfor %}`), kept per process
    under a key holding everything the HTML shows: every option (value and label) and every field's
    value. The model choices (scrutins, bureaux) are still read on every request, once each, by the
    form (mairie.forms.QueueFilterForm), so a new scrutin shows at once; nothing of a user is in the
    HTML but the values of the key (a GET form: no CSRF token). A form with errors is rendered each
    time. At most _FILTERS_MAX entries."""
    if form.is_bound and form.errors:
        return _render_filters(form)
    key = (form.is_bound, tuple(
        (bf.name, repr(bf.value()), tuple((str(v), str(label)) for v, label in getattr(bf.field.widget, "choices", ())))
        for bf in form
    ))
    html = _FILTERS.get(key)
    if html is None:
        html = _render_filters(form)
        with _FILTERS_LOCK:
            if len(_FILTERS) >= _FILTERS_MAX:
                del _FILTERS[next(iter(_FILTERS))]  # the oldest
            _FILTERS[key] = html
    return html


def _render_filters(form) -> SafeString:
    return mark_safe("".join(f'<div class="fr-col-12 fr-col-md-3">{bf.as_field_group()}</div>' for bf in form))  # noqa: S308 - rendered by the form renderer
