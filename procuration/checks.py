"""The automatic checks of a procuration: the one home of these rules (docs/domain.md).

`evaluate_page(rows)` computes every check for a page of procurations with a fixed number of
queries (one for the mandataires' and the mandants' binding procurations, at most one for the
scrutins that forbid a liste complémentaire), whatever the number of rows; `evaluate(p)` is the
same code for one procuration (saved or not: the mandant's form checks a demande before it exists).

`raise_for_mandataire(mandant, mandataire)` is who may be the mandataire (another person, able to
vote): called by every path that names one (the mandant's form, the paper CERFA at the police and at
the mairie, raise_for_demande), its error names the field "mandataire".

`raise_for_demande`, `raise_for_validation` (an authority's) and `raise_for_mairie` enforce the blocking
ones inside a transition's transaction, after locking the elector rows, so that the plafond holds under
concurrency, each from one read of the electors' procurations; `plafond_depasse` (also returned by
raise_for_validation) tells an authority's validation that what it establishes is void (L.73).

Rows given to evaluate_page are either model instances with RELATED selected (else each row loads
them) or, for a page, the light rows of `COLUMNS` (procuration.rows: the columns read here and
nothing else, the model's own properties borrowed, not copied): the same code runs on both.
"""

import operator
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce

from django.db.models import F, Q
from django.utils import timezone

from procuration import expiry
from procuration.exceptions import DomainError
from procuration.fixed_select import CompiledOnce
from procuration.lookups import AnyOf
from procuration.models.procuration import ACTIVE_FOR_MANDANT, ACTIVE_FOR_PLAFOND, Etablissement, Portee
from procuration.models.territory import (
    TYPES_D_UNE_LISTE_COMPLEMENTAIRE,
    TYPES_FERMES_A_LA_LISTE_COMPLEMENTAIRE,
    Electeur,
    Liste,
    Scrutin,
    liste_complementaire_fermee,
)
from procuration.rows import Columns, Row

PLAFOND_TOTAL = 2  # L.73: at most two procurations...
PLAFOND_FRANCE = 1  # ...of which only one established in France.
RELATED = ("mandant", "mandant__bureau", "mandataire", "mandataire__commune", "scrutin")
MANDATAIRE_SELF = "Le mandataire doit être une autre personne que le mandant."
LISTE_COMPLEMENTAIRE_FERMEE = (
    "Un électeur inscrit sur une liste complémentaire (citoyen de l'Union européenne) ne peut être mandataire "
    "que pour les élections municipales et européennes, et pour chacune s'il est inscrit sur sa liste."
)
MANDATAIRE_NE_PEUT_PAS_VOTER = "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter."
_FIELDS = ("id", "mandant_id", "mandataire_id", "status", "valid_from", "valid_until", "autorite_at",
           "etablissement", "reference", "submitted_at")


class ElecteurRow(Row):
    peut_voter = Electeur.peut_voter  # the model's property itself: one home for the rule


# What _results reads of a row, for a page read with values_list() (procuration.rows): a page adds
# what it shows (COLUMNS | its own Columns). A column missing here fails loudly (AttributeError).
COLUMNS = Columns(
    {
        "": ("commune_id", "mandant_id", "mandataire_id", "portee", "scrutin_id", "valid_from", "valid_until",
             "autorite_at", "etablissement"),
        "mandant": ("inscrit", "droits_civiques", "deces", "commune_id", "sous_tutelle", "tuteur_id"),
        "mandataire": ("inscrit", "droits_civiques", "deces", "liste", "complementaire_municipales",
                       "complementaire_europeennes"),
        "mandataire__commune": ("nom",),
        "scrutin": ("type",),
    },
    classes={"mandant": ElecteurRow, "mandataire": ElecteurRow},
)
_BINDING = Columns({"": _FIELDS})  # the other procurations of the page's electors (_load)


@dataclass(frozen=True)
class CheckResult:
    code: str
    label: str
    ok: bool
    message: str

    @property
    def verdict(self) -> str:
        return "Conforme" if self.ok else "Non conforme"


@dataclass(frozen=True)
class Verdict:
    results: list[CheckResult]

    @property
    def all_ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]

    def get(self, code: str) -> CheckResult:
        return next(r for r in self.results if r.code == code)


@dataclass
class _Loaded:
    """What the checks need beyond the rows themselves, loaded once for a page."""

    by_mandataire: dict[int, list]
    by_mandant: dict[int, list]
    forbidding: list[tuple]  # (type, date_tour1, date_tour2) of the scrutins a liste complémentaire may close


def _needs_forbidding(p) -> bool:
    return p.mandataire.liste == Liste.COMPLEMENTAIRE and not (p.portee == Portee.SCRUTIN and p.scrutin_id)


def _page_binding(shape, *, mandataires, mandants):
    """_binding for a page, as a values_list() of _BINDING, its ids as arrays (AnyOf)."""
    from procuration.models.procuration import Procuration

    has_mandataires, has_mandants, today, _ = shape
    return _BINDING.queryset(_binding(Procuration, mandataires if has_mandataires else set(),
                                      mandants if has_mandants else set(), today, arrays=True))


# _load for a page, compiled once per shape, day and time zone (procuration/fixed_select.py CompiledOnce,
# the ids as arrays: the same text for 2 or 50 rows).
_PAGE_BINDING = CompiledOnce(_page_binding, "mandataires", "mandants")


def _load(rows, *, mandataire: bool = True, mandant: bool = True, forbidding: bool = True) -> _Loaded:

    by_mandataire, by_mandant = defaultdict(list), defaultdict(list)
    today = timezone.localdate()
    mandataires = {p.mandataire_id for p in rows} - {None} if mandataire else set()  # NULL matches nothing
    mandants = {p.mandant_id for p in rows} - {None} if mandant else set()
    # One query for both lists: the mandataires' procurations that count towards the plafond, and the
    # mandants' binding ones by effective status (a demande past its two months no longer binds its
    # mandant, whether or not the task has recorded its expiry yet: procuration.expiry). Each row
    # read goes to its list (or both) by the same rules. The statement is the ORM's, compiled once
    # a day (the expiry's cutoff) with the ids as arrays (CompiledOnce, procuration.lookups.AnyOf).
    lists = {}
    if mandataires:
        lists["mandataires"] = mandataires
    if mandants:
        lists["mandants"] = mandants
    if lists:
        if len(mandataires) <= 1 and len(mandants) <= 1:  # one procuration: the statement compiled once a day
            found = _BINDING.rows(_ONE_BINDING.tuples(
                (bool(mandataires), bool(mandants), today),
                mandataire=next(iter(mandataires), None), mandant=next(iter(mandants), None),
            ))
        else:  # a page: the same, its ids as arrays
            found = _BINDING.rows(_PAGE_BINDING.tuples(
                (bool(mandataires), bool(mandants), today, timezone.get_current_timezone_name()),
                mandataires=sorted(mandataires), mandants=sorted(mandants),
            ))
        for o in found:
            if o.mandataire_id in mandataires and o.status in ACTIVE_FOR_PLAFOND:
                by_mandataire[o.mandataire_id].append(o)
            if o.mandant_id in mandants and expiry.effective_status(o.status, o.submitted_at, today) in ACTIVE_FOR_MANDANT:
                by_mandant[o.mandant_id].append(o)
    dates = []
    if forbidding and any(_needs_forbidding(p) for p in rows):
        dates = list(
            Scrutin.objects.filter(
                type__in=[*TYPES_FERMES_A_LA_LISTE_COMPLEMENTAIRE, *TYPES_D_UNE_LISTE_COMPLEMENTAIRE]
            ).values_list("type", "date_tour1", "date_tour2")
        )
    return _Loaded(by_mandataire, by_mandant, dates)


def _binding(model, mandataires, mandants, today, arrays=False):
    """The query of _load: the mandataires' procurations that count towards the plafond, and the
    mandants' binding ones by effective status on `today`. arrays: the ids as arrays
    (procuration.lookups.AnyOf, a page): the statement's text is the same for 2 or 50 rows."""
    def ids(column, values):
        return Q(AnyOf(F(column), values)) if arrays else Q(**{f"{column}__in": values})

    wanted = []
    if mandataires:
        wanted.append(ids("mandataire_id", mandataires) & Q(status__in=ACTIVE_FOR_PLAFOND))
    if mandants:
        wanted.append(ids("mandant_id", mandants) & expiry.effective_status_q(ACTIVE_FOR_MANDANT, today))
    return model.objects.filter(reduce(operator.or_, wanted)).order_by("pk")


def _one_binding(shape, *, mandataire, mandant):
    from procuration.models.procuration import Procuration

    has_mandataire, has_mandant, today = shape
    return _BINDING.queryset(_binding(Procuration, {mandataire} if has_mandataire else set(),
                                      {mandant} if has_mandant else set(), today))


# _load for one procuration (the transitions' checks, the demande's pages), compiled once per shape and
# day (procuration/fixed_select.py CompiledOnce): the same statement as _binding's, without its compilation.
_ONE_BINDING = CompiledOnce(_one_binding, "mandataire", "mandant")


def _overlaps(a, b) -> bool:
    return a.valid_from <= b.valid_until and a.valid_until >= b.valid_from


def _counts_against(p, other) -> bool:
    """Does `other` (binding) count against p's plafond? Only overlapping ones, and once p is
    established only those established before it: the earliest stand (L.73)."""
    if (p.pk is not None and other.pk == p.pk) or not _overlaps(p, other):
        return False
    if p.pk and p.autorite_at:
        if other.autorite_at is None:
            return False
        return other.autorite_at < p.autorite_at or (other.autorite_at == p.autorite_at and other.pk < p.pk)
    return True


def _plafond(p, binding) -> tuple[bool, int, int]:
    """(ok, total, in France) of the mandataire's procurations that count against p."""
    counted = [o for o in binding if _counts_against(p, o)]
    total = len(counted)
    france = sum(1 for o in counted if o.etablissement == Etablissement.FRANCE)
    ok = not (total >= PLAFOND_TOTAL or (p.etablissement == Etablissement.FRANCE and france >= PLAFOND_FRANCE))
    return ok, total, france


def plafond_message(p, total: int, france: int) -> str:
    """What the mandataire actually holds, when p would exceed the plafond of L.73."""
    if total >= PLAFOND_TOTAL:
        return ("Le mandataire détient déjà deux procurations sur cette période : "
                "il ne peut pas en recevoir une troisième (article L.73 du code électoral).")
    return ("Le mandataire détient déjà une procuration établie en France sur cette période : "
            "il ne peut en recevoir une seconde que si elle est établie à l'étranger (article L.73 du code électoral).")


def _doublon(p, binding):
    return next((o for o in binding if (p.pk is None or o.pk != p.pk) and _overlaps(p, o)), None)


def _liste_complementaire_interdite(p, forbidding) -> bool:
    m = p.mandataire
    if m.liste != Liste.COMPLEMENTAIRE:
        return False
    lists = (m.complementaire_municipales, m.complementaire_europeennes)
    if p.portee == Portee.SCRUTIN and p.scrutin_id:
        return liste_complementaire_fermee(p.scrutin.type, *lists)
    return any(
        liste_complementaire_fermee(type_, *lists)
        and (p.valid_from <= d1 <= p.valid_until or (d2 is not None and p.valid_from <= d2 <= p.valid_until))
        for type_, d1, d2 in forbidding
    )


def _results(p, loaded: _Loaded) -> list[CheckResult]:
    mandant, mandataire = p.mandant, p.mandataire
    mandant_ok = mandant.peut_voter and mandant.commune_id == p.commune_id
    results = [
        CheckResult(
            "mandant_inscrit", "Mandant inscrit", mandant_ok,
            "Inscrit sur la liste électorale de la commune." if mandant_ok
            else "Le mandant n'est pas (ou plus) inscrit sur la liste électorale de la commune.",
        ),
        CheckResult(
            "mandataire_inscrit", "Mandataire inscrit", mandataire.peut_voter,
            f"Inscrit à {mandataire.commune.nom}." if mandataire.peut_voter else MANDATAIRE_NE_PEUT_PAS_VOTER,
        ),
    ]
    ok, total, france = _plafond(p, loaded.by_mandataire[p.mandataire_id])
    results.append(CheckResult(
        "plafond", "Plafond du mandataire", ok,
        f"Le mandataire détient {total} autre(s) procuration(s) sur la période, dont {france} établie(s) en France."
        if ok else plafond_message(p, total, france),
    ))
    doublon = _doublon(p, loaded.by_mandant[p.mandant_id])
    results.append(CheckResult(
        "doublon", "Procuration unique du mandant", doublon is None,
        "Aucune autre procuration du mandant sur la période." if doublon is None
        else f"Le mandant a déjà une procuration pour ces dates (référence {doublon.reference}).",
    ))
    tutelle = mandant.sous_tutelle and mandant.tuteur_id == mandataire.pk
    results.append(CheckResult(
        "tutelle", "Tutelle (L.72-1)", not tutelle,
        "Sans objet." if not tutelle
        else "Un majeur sous tutelle ne peut pas donner procuration à son tuteur ou curateur.",
    ))
    complementaire = _liste_complementaire_interdite(p, loaded.forbidding)
    results.append(CheckResult(
        "liste_complementaire", "Liste complémentaire", not complementaire,
        "Sans objet." if not complementaire
        else LISTE_COMPLEMENTAIRE_FERMEE,
    ))
    return results


def evaluate_page(rows) -> dict[int, Verdict]:
    """Every check of every (saved) row, keyed by pk, in a constant number of queries."""
    rows = list(rows)
    if not rows:
        return {}
    loaded = _load(rows)
    return {p.pk: Verdict(_results(p, loaded)) for p in rows}


def evaluate(p) -> list[CheckResult]:
    """Every automatic check of one procuration (saved or not), with its verdict, for display."""
    return _results(p, _load([p]))


def all_pass(p) -> bool:
    return all(r.ok for r in evaluate(p))


def _duplicate(p):
    return _doublon(p, _load([p], mandataire=False, forbidding=False).by_mandant[p.mandant_id])


def duplicate_for_mandant(p):
    """The mandant's binding procuration overlapping p's dates (the model instance), or None."""
    from procuration.models.procuration import Procuration

    doublon = _duplicate(p)
    return None if doublon is None else Procuration.objects.select_related("scrutin").get(pk=doublon.pk)


def raise_for_mandataire(mandant, mandataire) -> None:
    """Who may be the mandataire of `mandant` (two Electeur): another person (compared by key, the two
    may be separate reads of one row), able to vote (Electeur.peut_voter). Raises DomainError naming
    the field "mandataire"; a form puts it on its own field that holds the mandataire."""
    if mandant.pk == mandataire.pk:
        raise DomainError(MANDATAIRE_SELF, code="self", field="mandataire")
    if not mandataire.peut_voter:
        raise DomainError(MANDATAIRE_NE_PEUT_PAS_VOTER, code="mandataire_non_inscrit", field="mandataire")


def raise_for_demande(p, *, plafond: bool = True) -> None:
    """Blocking rules when the demande is submitted (mandant row locked). The period is checked
    before, by procuration.validity. plafond=False: a paper form an authority already signed
    (L.73: established over the plafond, it is void, see plafond_depasse), not refused here."""
    _LOCK_ELECTEUR.tuples(pk=p.mandant_id)
    raise_for_mandataire(p.mandant, p.mandataire)
    for r in evaluate(p):
        if not r.ok and (plafond or r.code != "plafond"):
            raise DomainError(r.message, code=r.code)


# An elector's row lock: Electeur.objects.select_for_update().filter(pk=…).first(), compiled once.
_LOCK_ELECTEUR = CompiledOnce(lambda key, pk: Electeur.objects.select_for_update().filter(pk=pk).order_by("pk")[:1],
                              "pk")


def _lock_mandataire(p) -> None:
    """The plafond is counted under the mandataire's row lock (taken first): concurrent establishments
    for one mandataire count one after the other."""
    _LOCK_ELECTEUR.tuples(pk=p.mandataire_id)


def _plafond_depasse(p, loaded: _Loaded) -> str:
    ok, total, france = _plafond(p, loaded.by_mandataire[p.mandataire_id])
    return "" if ok else plafond_message(p, total, france)


def plafond_depasse(p) -> str:
    """L.73 under the mandataire's lock (its row locked first, then its procurations counted): what the
    mandataire already holds when p would exceed the plafond (the earliest stand), else ""."""
    _lock_mandataire(p)
    return _plafond_depasse(p, _load([p], mandant=False, forbidding=False))


def _raise_for_doublon_etabli(p, loaded: _Loaded) -> None:
    """No second established procuration of the mandant for the same dates."""
    doublon = _doublon(p, loaded.by_mandant[p.mandant_id])
    if doublon is not None and doublon.status in ACTIVE_FOR_PLAFOND:
        raise DomainError(
            f"Le mandant a déjà une procuration validée pour ces dates (référence {doublon.reference}).", code="doublon"
        )


def raise_for_validation(p) -> str:
    """Blocking rule when an authority validates, and what its act establishes (L.73), from one read of
    the electors' procurations under the mandataire's lock: raises DomainError when the mandant already
    has an established procuration for the same dates (doublon); returns plafond_depasse's message
    (over the plafond the procuration is void, not refused), else ""."""
    _lock_mandataire(p)
    loaded = _load([p], forbidding=False)
    over = _plafond_depasse(p, loaded)
    _raise_for_doublon_etabli(p, loaded)
    return over


def raise_for_mairie(p) -> list[CheckResult]:
    """The mairie's validation: L.73 as a refusal, never forceable (a guard, since an authority's
    validation voids what is over the plafond), counted under the mandataire's lock; then every check
    (evaluate), from the same read of the electors' procurations. Returns the results."""
    _lock_mandataire(p)
    loaded = _load([p])
    message = _plafond_depasse(p, loaded)
    if message:
        raise DomainError(message, code="plafond")
    return _results(p, loaded)
