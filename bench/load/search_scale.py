"""The mairie's search alone, in process, at the loaded size then after growing the same database
(docs/performance.md, « Recherche de la mairie à coût constant »): per search its two SQL queries
(the count and the page of 20, as the page runs them), median of BENCH_SEARCH_REQUESTS runs
interleaved with one indexed SELECT (the unit), then the same with the search written as joins
over the commune's rows and `contains` (tests/mairie/test_search.py's oracle before the keys).

Run against a database loaded by load_data.py: BENCH_DATA=… BENCH_SCALE_N=… python bench/load/search_scale.py"""

import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")
os.environ.setdefault("BENCH_OUT", os.environ["BENCH_DATA"])

import django  # noqa: E402

django.setup()

from django.db.models import Q  # noqa: E402

from mairie import listing  # noqa: E402
from procuration.models import Electeur, Procuration, User  # noqa: E402
from procuration.normalize import fold  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_SEARCH_REQUESTS", "41"))


def joins(user, q):
    """The search before the electors-first and the keys: substrings over the two joined electors."""
    tokens = fold(q).split()

    def names(prefix):
        match = Q()
        for t in tokens:
            match &= Q(**{f"{prefix}__noms_recherche__contains": t})
        return match

    return Procuration.objects.visible_to(user).filter(names("mandant") | names("mandataire")).order_by("-created_at", "-pk")


def run(qs):
    return qs.count(), len(list(qs.select_related(*listing.SEARCH_RELATED)[:20]))


def measure(user, searches):
    unit_nne = Electeur.objects.order_by("pk").values_list("nne", flat=True).first()

    def unit():
        Electeur.objects.filter(nne=unit_nne).first()

    for name, q in searches.items():
        for label, make in (("clés", lambda q=q: listing.search_queryset(user, listing.search_form(user, {"q": q}))),
                            ("jointures", lambda q=q: joins(user, q))):
            if label == "jointures" and q.isdigit():
                continue
            found = run(make())
            times, units = [], []
            for _ in range(REQUESTS):
                t = time.perf_counter()
                unit()
                units.append(time.perf_counter() - t)
                t = time.perf_counter()
                run(make())
                times.append(time.perf_counter() - t)
            ms, unit_ms = statistics.median(times) * 1000, statistics.median(units) * 1000
            print(f"  {name} [{label}] : {found[0]} trouvées, {ms:.2f} ms, {ms / unit_ms:.1f} × l'unité", flush=True)


def main():
    import json

    import scale

    data = json.loads(Path(os.environ["BENCH_DATA"]).read_text())
    user = User.objects.get(username=data["agents"][0]["username"])
    nom, prenoms, nne = (Procuration.objects.filter(commune_id=user.commune_id).order_by("-mandant_id")
                         .values_list("mandant__nom", "mandant__prenoms", "mandant__nne").first())
    searches = {"NOM1": "NOM1", "un nom": f"{nom} {prenoms}", "son NNE": nne, "un début de nom": nom[:-1]}
    for step in ("avant", "après"):
        if step == "après":
            scale.grow(int(os.environ["BENCH_SCALE_N"]))
        print(f"{Procuration.objects.count():,} procurations, commune : "
              f"{Procuration.objects.filter(commune_id=user.commune_id).count():,}", flush=True)
        measure(user, searches)


if __name__ == "__main__":
    main()
