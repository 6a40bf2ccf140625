"""The mairie's lists of procurations: the queue (filtered) and the search across every status,
and their CSV export. The page and the export task read the same filters through these
functions, so the file holds exactly what the page shows; both start from
Procuration.objects.visible_to(user): another commune's rows never appear."""

import datetime
import io

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Window
from django.utils import timezone

from mairie.forms import QueueFilterForm, SearchForm
from procuration import checks, counts, search
from procuration.fixed_select import CompiledOnce
from procuration.models import Commune, Electeur, Procuration, Role, Status, User
from procuration.normalize import normalize_nne, strip_nne
from procuration.reference import InvalidReference, normalize_reference
from procuration.spreadsheet import safe_csv_writer

SEARCH_RELATED = ("mandant", "mandant__bureau", "mandataire", "scrutin")


def queue_form(user, data) -> QueueFilterForm:
    return QueueFilterForm(data or None, commune=user.commune_id)  # the pk: no query for the commune


def _queue_filters(form: QueueFilterForm) -> dict:
    """The queue's filters as queue_queryset and queue_page read them: the form's when it is valid,
    else the queue's own view (waiting for the mairie, nothing else filtered)."""
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return {"status": data.get("status") or Status.VALIDEE_AUTORITE, "scrutin": data.get("scrutin"),
            "bureau": data.get("bureau"), "age": data.get("age")}


def queue_queryset(user, form: QueueFilterForm):
    """The queue with the form's filters (waiting for the mairie unless another status is chosen)."""
    return _queue_rows(user, _queue_filters(form)).select_related(*checks.RELATED)


def _queue_rows(user, f: dict, today=None):
    qs = Procuration.objects.visible_to(user)
    if f["scrutin"]:
        qs = qs.filter(scrutin=f["scrutin"])
    if f["bureau"]:
        qs = qs.filter(mandant__bureau=f["bureau"])
    if f["age"]:
        qs = qs.filter(autorite_at__lte=timezone.now() - datetime.timedelta(days=int(f["age"])))
    return qs.statut_effectif_in(f["status"], today=today).order_by("autorite_at", "pk")


def _counted(user, form: QueueFilterForm) -> dict | None:
    """The queue's filters when procuration.counts answer them, else None. They count per
    (commune, scrutin, effective status), brouillons apart: exactly the rows visible_to gives an
    agent of the commune, filtered by status and scrutin. The bureau (the mandant's) and the age
    (autorite_at) are not in their keys: those filters count the rows (COUNT(*) OVER ())."""
    f = _queue_filters(form)
    if user.role != Role.AGENT_MAIRIE or user.commune_id is None or f["bureau"] or f["age"]:
        return None
    return f


def _counted_total(commune_id: int, f: dict):
    return counts.number(commune_id, f["status"], scrutin_id=f["scrutin"].pk if f["scrutin"] else None)


def _counted_page(key, commune, scrutin):
    """The page's pks and the counted total, for CompiledOnce: the statement compiled once per
    process and (status, scrutin chosen or not, slice, day: the expiry's bound is a constant of the
    day's statement); the commune and the scrutin are its parameters."""
    status, has_scrutin, start, stop, today = key
    stand_in = User(role=Role.AGENT_MAIRIE, is_active=True, commune_id=commune)
    f = {"status": status, "scrutin": scrutin if has_scrutin else None, "bureau": None, "age": None}
    total = counts.number(commune, status, scrutin_id=scrutin if has_scrutin else None, today=today)
    return _queue_rows(stand_in, f, today).annotate(total=total).values_list("pk", "total")[start:stop]


_COUNTED_PAGE = CompiledOnce(_counted_page, "commune", "scrutin")


_MAX_OFFSET = 2**62


def queue_page(user, form: QueueFilterForm, number, per_page: int):
    """(page, pks): the page `number` of the queue as Paginator.get_page gives it (not a number: the
    first; past the end or below 1: the last) and the pks of its rows, in order. The pks and the
    count are read together, one query: the count from procuration.counts when they answer the
    filters (_counted: scalar subqueries, O(1) in the queue's size; compiled once per process
    and shape, _COUNTED_PAGE; the page then walks
    the index proc_queue_order_idx and stops at its last row), else COUNT(*) OVER () (every row the
    filters keep). A page past the end reads the count, then the last page. The page's
    object_list is these pks: the caller reads the columns it shows by them
    (procuration.rows.Columns.by_pk)."""
    counted = _counted(user, form)
    # The queryset only where it is read: the counts' page is a statement compiled once, and building
    # the queue's queryset (its scope, status and order) costs more Python than running that statement.
    qs = queue_queryset(user, form) if counted is None else None
    paginator = Paginator(qs if qs is not None else (), per_page)
    try:
        number = int(number)  # as Paginator.validate_number reads it
    except (TypeError, ValueError):
        number = 1
    if 1 <= number <= _MAX_OFFSET // per_page:  # beyond, past the end for sure (and no SQL bigint)
        start = (number - 1) * per_page
        if counted is not None:
            key = (str(counted["status"]), counted["scrutin"] is not None, start, start + per_page, timezone.localdate())
            found = _COUNTED_PAGE.tuples(key, commune=user.commune_id,
                                         scrutin=counted["scrutin"].pk if counted["scrutin"] else 0)
        else:
            found = list(qs.annotate(total=Window(Count("pk"))).values_list("pk", "total")[start:start + per_page])
        if found or number == 1:
            paginator.count = found[0][1] if found else 0  # a cached_property: no count query
            pks = [pk for pk, _ in found]
            return Page(pks, paginator.validate_number(number), paginator), pks  # its object_list: the pks
    if counted is not None:  # the counts alone, on the commune's row (no page row to carry them)
        paginator.count = Commune.objects.filter(pk=user.commune_id).annotate(total=_counted_total(user.commune_id, counted)).values_list(
            "total", flat=True).get()
        paginator.object_list = queue_queryset(user, form)
    page = paginator.page(paginator.num_pages)
    pks = list(page.object_list.values_list("pk", flat=True))
    return Page(pks, page.number, paginator), pks


def search_form(user, data) -> SearchForm:
    return SearchForm(data or None)


# A search counts at most this many matches (and one more, to know there are more): beyond, the
# page says « Plus de 1 000 résultats » and shows the first SEARCH_COUNT_CAP in its order; the CSV
# export holds them all. The one place of the number.
SEARCH_COUNT_CAP = 1000


def _matching(user, q: str, per_row: bool = False) -> Q | None:
    """The procurations the search box's text designates, as a filter: the NNE's elector as
    mandant or mandataire (the NNE's unique index, then the two indexed columns), or the names
    typed (procuration.search: word beginnings), or the reference (its unique index). None when
    the text designates nothing (« - »).

    per_row False: the names are one subquery of the commune's keys (an index range per word)
    inside one `pk IN (…)` with the other parts (UNION ALL: an OR of subqueries would make
    PostgreSQL filter every row of the commune): O(matches), for a search that finds few.
    per_row True: the names are tested on each row (EXISTS on its own keys), the other parts
    by their `pk IN (…)`: for a walk of the commune in the page's order that stops at the page,
    when the matches are many (search_page)."""
    digits = strip_nne(q)
    if digits.isascii() and digits.isdigit():
        electeur = Electeur.objects.filter(nne=normalize_nne(digits)).values("pk")
        return Q(pk__in=Procuration.objects.filter(mandant_id__in=electeur).values("pk")
                 .union(Procuration.objects.filter(mandataire_id__in=electeur).values("pk"), all=True))
    words = search.typed_words(q)
    try:
        reference = Procuration.objects.filter(reference=normalize_reference(q)).values("pk")
    except InvalidReference:
        reference = None
    if per_row:
        match = Q(search.row_named(words)) if words else Q(pk__in=[])
        return match | Q(pk__in=reference) if reference is not None else (match if words else None)
    parts = ([search.procurations_named(user.commune_id, words)] if words else []) + (
        [reference] if reference is not None else [])
    if not parts:  # nothing left once folded (« - »), and not a reference
        return None
    return Q(pk__in=parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0])


def _one_word(q: str) -> tuple[str, str | None] | None:
    """(word, reference or None) when the text is one word of names (not an NNE), as _matching
    reads it, the reference when it also reads as one (« MARTIN »): the broad search, counted from
    its keys (procuration.search.count_named). None otherwise."""
    digits = strip_nne(q)
    words = search.typed_words(q)
    if (digits.isascii() and digits.isdigit()) or len(words) != 1:
        return None
    try:
        return words[0], normalize_reference(q)
    except InvalidReference:
        return words[0], None


def _filtered(user, data):
    """The search's filters other than the text typed."""
    qs = Procuration.objects.visible_to(user)
    if data["status"]:
        qs = qs.statut_effectif_in(data["status"])
    if data["date_naissance"]:
        qs = qs.filter(Q(mandant__date_naissance=data["date_naissance"]) |
                       Q(mandataire__date_naissance=data["date_naissance"]))
    return qs


def search_queryset(user, form: SearchForm, per_row: bool = False):
    """Procurations of every status (drafts apart) matching a reference, names (mandant or
    mandataire: each word typed begins one of the same person's names, folded by
    procuration.normalize.fold), an NNE or a date of birth, newest first. Empty when the form is
    not valid. Every match, uncounted: the CSV export reads this; the page reads search_page.
    The text typed costs what its matches cost, whatever the size of the commune and of the
    register (_matching; per_row: see there). Starts from Procuration.objects.visible_to(user):
    another commune's rows never appear."""
    if not (form.is_bound and form.is_valid()):
        return Procuration.objects.none()
    data = form.cleaned_data
    qs = _filtered(user, data)
    if q := data["q"]:
        match = _matching(user, q, per_row)
        qs = qs.filter(match) if match is not None else qs.none()
    return qs.select_related(*SEARCH_RELATED).order_by("-created_at", "-pk")


def search_page(user, form: SearchForm, number, per_page: int):
    """(page, more): the page `number` of the search as Paginator.get_page gives it (not a number:
    the first; past the end: the last), and whether more than SEARCH_COUNT_CAP procurations match.
    Two SQL queries whatever the matches, each bounded:

    - the count reads at most SEARCH_COUNT_CAP + 1 matches (a LIMIT inside the count's subquery);
      one word of names typed in a commune (the broad search): from the word's keys in index
      order, each procuration once, stopping at the LIMIT (procuration.search.count_named), a cost
      that follows the cap; else `pk IN (…)` below the LIMIT, which reads every match first;
    - few matches (at most the cap): the page sorts them (O(matches) ≤ the cap);
    - more: the pages cover the first SEARCH_COUNT_CAP matches in the page's order; the page walks
      the commune's procurations in that order (index proc_commune_created_idx, backwards) and
      tests each row's own keys (_matching per_row), stopping at the page: O(page × the commune's
      rows ÷ its matches), not O(matches). The national administrator (no commune) keeps the
      first plan (no index of every commune's procurations by date).

    The rows are the same either way, in the same order (tests/mairie/test_search.py)."""
    qs = search_queryset(user, form)
    q = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    one = _one_word(q) if q else None
    if one is not None and user.commune_id is not None:
        found = search.count_named(user.commune_id, one[0], _filtered(user, form.cleaned_data), SEARCH_COUNT_CAP + 1,
                                   reference=one[1])
    else:
        found = qs.order_by()[:SEARCH_COUNT_CAP + 1].count()
    more = found > SEARCH_COUNT_CAP
    if more and user.commune_id is not None:
        qs = search_queryset(user, form, per_row=True)
    paginator = Paginator(qs, per_page)
    paginator.count = min(found, SEARCH_COUNT_CAP)  # a cached_property: no other count query
    return paginator.get_page(number), more


def queryset_for_export(job):
    """The rows of a list export, read again from the filters stored on the job."""
    from mairie.models import ExportJob

    user = job.requested_by
    if job.kind == ExportJob.Kind.FILE:
        return queue_queryset(user, queue_form(user, job.criteria))
    return search_queryset(user, search_form(user, job.criteria))


CSV_HEADER = [
    "Référence", "Statut", "Origine", "Mandant nom", "Mandant prénoms", "Mandant date de naissance", "Mandant NNE",
    "Bureau n°", "Mandataire nom", "Mandataire prénoms", "Mandataire date de naissance", "Mandataire NNE",
    "Portée", "Soumise le", "Validée par l'autorité le", "Décision de la mairie le",
]


def _dt(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def csv_row(p) -> list:
    return [
        p.reference, p.statut_effectif_label + (f" — {p.get_annulation_motif_display()}" if p.annulation_motif else ""),
        p.get_origine_display(),
        p.mandant.nom.upper(), p.mandant.prenoms, f"{p.mandant.date_naissance:%d/%m/%Y}", p.mandant.nne,
        p.mandant.bureau.numero if p.mandant.bureau_id else "",
        p.mandataire.nom.upper(), p.mandataire.prenoms, f"{p.mandataire.date_naissance:%d/%m/%Y}", p.mandataire.nne,
        p.portee_label, _dt(p.submitted_at), _dt(p.autorite_at), _dt(p.mairie_at),
    ]


def build_csv(qs, *, on_progress=None, every: int = 200) -> tuple[bytes, int]:
    """The CSV (cells neutralised by procuration.spreadsheet) and its row count; on_progress(done, total)
    is called every `every` rows."""
    total = qs.count()
    out = io.StringIO()
    writer = safe_csv_writer(out, delimiter=";")
    writer.writerow(CSV_HEADER)
    done = 0
    for p in qs.iterator(chunk_size=every):
        writer.writerow(csv_row(p))
        done += 1
        if on_progress and done % every == 0:
            on_progress(done, total)
    return ("\ufeff" + out.getvalue()).encode("utf-8"), done
