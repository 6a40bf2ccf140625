"""The mairie's search by name at a cost that follows the matches, not the commune or the register.

Each word of the folded names (procuration.normalize.fold: nom, nom d'usage, prénoms, as in
Electeur.noms_recherche) of a procuration's mandant and of its mandataire is a SearchKey row
(commune, word, procuration, mandataire?) under a btree index on (commune, word): a typed word
reads the commune's words that begin with it as one index range, O(log n + matches). Several
typed words must all begin words of the same person's names (the mandant's, or the mandataire's).

The keys are a derived index of the procuration's row, kept here only:
- written when a procuration is inserted, and re-written when a full save or a save naming the
  mandant, the mandataire or the commune may have changed them (Procuration.save);
- re-written for an elector's procurations when their names change (Electeur.save, and
  procuration.reu's bulk import, which skips save());
- rebuilt by `manage.py rebuild_search_keys` (after a bulk load that bypassed the ORM, or rows
  written by the previous release during a rolling deploy)."""

from django.db import transaction
from django.db.models import Case, Exists, Max, OuterRef, Q, Subquery, Value, When

from procuration.models.search import SearchKey

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # what fold() leaves, in byte order


def words_of(noms_recherche: str) -> set[str]:
    """The words of a folded name (Electeur.noms_recherche), each once."""
    return {w[:150] for w in noms_recherche.split()}


def _keys_of(p, mandant_noms: str, mandataire_noms: str) -> list[SearchKey]:
    return [SearchKey(commune_id=p.commune_id, token=w, procuration_id=p.pk, mandataire=role)
            for role, noms in ((False, mandant_noms), (True, mandataire_noms)) for w in sorted(words_of(noms))]


def write_keys(procuration) -> None:
    """The keys of one procuration changed (its mandant and mandataire as cached on it); the caller
    holds the transaction (Procuration.save)."""
    SearchKey.objects.filter(procuration_id=procuration.pk).delete()
    insert_keys(procuration)


def insert_keys(procuration) -> None:
    """The keys of a procuration just inserted (it has none yet): one INSERT."""
    SearchKey.objects.bulk_create(
        _keys_of(procuration, procuration.mandant.noms_recherche, procuration.mandataire.noms_recherche)
    )


def rewrite_keys(procurations, batch_size: int = 2000) -> int:
    """Re-write the keys of `procurations` (a queryset) from their electors' current names; the count."""
    from procuration.models import Procuration

    done = 0
    qs = procurations.order_by("pk").values_list("pk", "commune_id", "mandant__noms_recherche",
                                                 "mandataire__noms_recherche")
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last)[:batch_size])
        if not batch:
            return done
        with transaction.atomic(savepoint=False):
            ids = [row[0] for row in batch]
            SearchKey.objects.filter(procuration_id__in=ids).delete()
            keys = []
            for pk, commune_id, mandant_noms, mandataire_noms in batch:
                keys += _keys_of(Procuration(pk=pk, commune_id=commune_id), mandant_noms or "", mandataire_noms or "")
            SearchKey.objects.bulk_create(keys, batch_size=5000)
        done += len(batch)
        last = ids[-1]


def rewrite_keys_of_electeurs(electeur_ids) -> int:
    """After a change of names: re-write the keys of every procuration where these electors are the
    mandant or the mandataire (both columns indexed)."""
    from procuration.models import Procuration

    ids = list(electeur_ids)
    if not ids:
        return 0
    return rewrite_keys(Procuration.objects.filter(Q(mandant_id__in=ids) | Q(mandataire_id__in=ids)))


def _successor(word: str) -> str | None:
    """The smallest string greater than every string beginning with `word` (over fold()'s alphabet):
    'mart' -> 'mars', 'maz' -> 'mb', 'a9' -> 'aa'; None for 'zz' (no bound above)."""
    stripped = word.rstrip("z")
    if not stripped:
        return None
    return stripped[:-1] + _ALPHABET[_ALPHABET.index(stripped[-1]) + 1]


def _begins_with(word: str) -> Q:
    q = Q(token__gte=word)
    if (above := _successor(word)) is not None:
        q &= Q(token__lt=above)
    return q


def typed_words(text: str) -> list[str]:
    """The words of a typed name, folded, without those that begin another typed word (« mart
    martin »: « martin » alone says as much). Empty when nothing is left (« - »)."""
    from procuration.normalize import fold

    words = sorted(set(fold(text).split()))
    return [w for w in words if not any(o != w and o.startswith(w) for o in words)]


def _bearing(keys, words: list[str]):
    """`keys` narrowed to those of the procurations whose mandant or mandataire bears, for each of
    `words`, a name beginning with it: a queryset of procuration_id."""
    if len(words) == 1:
        return keys.filter(_begins_with(words[0])).values("procuration_id")
    ranges = [_begins_with(w) for w in words]
    any_word = Q()
    for r in ranges:
        any_word |= r
    each = {f"w{i}": Max(Case(When(r, then=Value(1)), default=Value(0))) for i, r in enumerate(ranges)}
    return (keys.filter(any_word).values("procuration_id", "mandataire").annotate(**each)
            .filter(**{name: 1 for name in each}).values("procuration_id"))


def procurations_named(commune_id: int | None, words: list[str]):
    """A subquery of the ids of the commune's procurations whose mandant or mandataire bears, for
    each of `words`, a name beginning with it. One index range per word: O(log n + matches).
    commune_id None (the national administrator): every commune, read by word."""
    keys = SearchKey.objects.all()
    if commune_id is not None:
        keys = keys.filter(commune_id=commune_id)
    return _bearing(keys, words)


def row_named(words: list[str]) -> Exists:
    """The same test for one row of an outer query of procurations (its pk): its own keys, read by
    the index on procuration_id (4 to 8 rows), whatever the commune. For a walk of the commune's
    procurations in the page's order that stops at the page (mairie.listing.search_page)."""
    return Exists(_bearing(SearchKey.objects.filter(procuration_id=OuterRef("pk")), words))


def count_named(commune_id: int, word: str, procurations, limit: int, reference: str | None = None) -> int:
    """How many of `procurations` (a queryset: the search's other filters) bear a name beginning
    with the one `word` typed, counted up to `limit`, at a cost that follows `limit`, not the
    matches: the commune's keys of the word's range read in the index's order (commune, token,
    procuration, mandataire), each procuration counted at its first key of the range, (token,
    mandataire) being unique per procuration (no earlier key of the range: a probe of the index on
    procuration_id, 4 to 8 rows), its row read by its pk for the other filters, the LIMIT stopping
    the walk (no hash nor DISTINCT of the whole range). Several words keep
    `pk IN (procurations_named)` (mairie.listing.search_page). `reference`: the word also reads as
    a reference (« MARTIN »): its procuration counts once more if it passes the filters and does
    not bear the word, after the keys (UNION ALL: read only when the keys stay under the limit)."""
    in_range = _begins_with(word)
    key = OuterRef  # the key at hand, seen from inside its procuration's subquery: OuterRef(OuterRef(…))
    earlier = SearchKey.objects.filter(in_range, procuration_id=OuterRef("pk")).filter(
        Q(token__lt=key(OuterRef("token"))) | Q(token=key(OuterRef("token")), mandataire__lt=key(OuterRef("mandataire"))))
    # One scalar subquery per key (SELECT … LIMIT 1, IS NOT NULL), not EXISTS joins: PostgreSQL
    # never turns it into a join, so it stays a probe of the row at hand (as EXISTS, it hashed the
    # commune's procurations before the first key), and estimates it true for nearly every key, so
    # that the LIMIT bounds the plan's cost (as two tests, it expected few rows and a cost that
    # follows the range: above jit_above_cost, 20 ms of JIT compilation).
    first_of = procurations.filter(pk=OuterRef("procuration_id")).filter(~Exists(earlier)).order_by()
    keys = (SearchKey.objects.filter(in_range, commune_id=commune_id)
            .alias(counted=Subquery(first_of.values("pk")[:1])).filter(counted__isnull=False))
    counted = keys.order_by().values("procuration_id")
    if reference is not None:
        named = SearchKey.objects.filter(in_range, procuration_id=OuterRef("pk"))
        counted = counted.union(procurations.filter(reference=reference).filter(~Exists(named))
                                .order_by().values("pk"), all=True)
    return counted[:limit].count()
