"""The rows of the mairie queue (mairie/queue.html), written in Python.

Fifty rows through the template engine cost about half the page's CPU (a node, a variable lookup
and a filter call per cell: issue 16, docs/performance.md); the same HTML written here costs a
fraction of it. The markup is the one the template wrote, byte for byte (whitespace included):
tests/mairie/test_queue_rows.py renders both and compares them. Every value is escaped.
"""

from html import escape as _html_escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

_CHECKBOX = ('<div class="fr-checkbox-group fr-checkbox-group--sm"><input type="checkbox" name="ids" value="{pk}" '
             'id="sel-{pk}"><label class="fr-label" for="sel-{pk}"><span class="fr-sr-only">Sélectionner {ref}</span>'
             '</label></div>')
_BADGE = ('<td><p class="fr-badge fr-badge--success fr-badge--sm" title="{}">Conforme</p></td>',
          '<td><p class="fr-badge fr-badge--error fr-badge--sm" title="{}">Non conforme</p></td>')


def escape(value) -> str:
    """django.utils.html.escape without its lazy-string wrapper (the same five characters)."""
    return _html_escape(str(value))


def _date(value, fmt: str) -> str:
    """The `date` template filter for the numeric formats of the row (« d/m/Y », « d/m/Y H:i », as
    strftime formats): aware datetimes in the current time zone, "" for None."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def rows_html(rows, waiting_view: bool) -> SafeString:
    """The <tr> of each row (with .verdict and .columns set by the view), as the template's loop wrote them."""
    detail = reverse("mairie:detail", args=[0])
    head, tail = detail.rsplit("0", 1)
    out = []
    for p in rows:
        ref = escape(p.reference)
        verdict = p.verdict
        all_ok = verdict.all_ok
        select = ""
        if waiting_view:
            select = "<td>" + (_CHECKBOX.format(pk=p.pk, ref=ref) if all_ok else "") + "</td>"
        if p.scrutin:
            period = escape(p.scrutin.libelle)
        else:
            period = f"Du {_date(p.valid_from, '%d/%m/%Y')} au {_date(p.valid_until, '%d/%m/%Y')}"
        bureau = p.mandant.bureau
        if p.annulation_motif:
            why = f"<strong>{escape(p.get_status_display())}</strong> : {escape(p.get_annulation_motif_display())}"
        elif all_ok:
            why = "<strong>Tous les contrôles sont conformes</strong>"
        else:
            why = "<strong>À examiner</strong>" + "".join(
                f'<br><span class="fr-text--xs">{escape(r.message)}</span>' for r in verdict.results if not r.ok)
        out.append(
            f'\n    <tr data-reference="{ref}">\n      {select}\n'
            f'      <td><a href="{escape(head)}{p.pk}{escape(tail)}">{ref}</a></td>\n'
            f"      <td>{escape(str(p.mandant.nom).upper())} {escape(p.mandant.prenoms)}</td>\n"
            f"      <td>{escape(str(p.mandataire.nom).upper())} {escape(p.mandataire.prenoms)}</td>\n"
            f"      <td>{period}</td>\n"
            f"      <td>{f'n° {escape(bureau.numero)}' if bureau else '—'}</td>\n"
            f"      <td>{_date(p.autorite_at, '%d/%m/%Y %H:%M')}</td>\n"
            f"      {''.join(_BADGE[not r.ok].format(escape(r.message)) for r in p.columns)}\n"
            f'      <td class="verdict">{why}</td>\n    </tr>\n  '
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
