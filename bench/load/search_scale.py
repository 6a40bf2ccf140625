"""The mairie's search alone, in process, at the loaded size then after growing the same database
(docs/performance.md, « Recherche de la mairie à coût constant » and « Recherche large : décompte
plafonné »): per search its two SQL queries (the count and the page of 50), median of
BENCH_SEARCH_REQUESTS runs interleaved with one indexed SELECT (the unit), read two ways: exact
(the count of every match, the page sorted among them: the page before the cap) and capped
(mairie.listing.search_page, as the page reads it now). BENCH_COMMUNES=20 at load_data.py gives
communes of 5,000 procurations at 100 k, where « NOM1 » matches more than the cap.

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

from mairie import listing  # noqa: E402
from procuration.models import Electeur, Procuration, User  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_SEARCH_REQUESTS", "41"))


PAGE = 50  # mairie.views.SEARCH_PAGE_SIZE


def exact(user, q, number=1):
    """The page as it was before the capped count: the exact count, then the page sorted among
    every match (mairie.listing.search_queryset, which the CSV export still reads)."""
    qs = listing.search_queryset(user, listing.search_form(user, {"q": q}))
    start = (number - 1) * PAGE
    return qs.count(), len(list(qs[start:start + PAGE]))


def capped(user, q, number=1):
    """The page as mairie.views.search reads it now (listing.search_page: two bounded queries)."""
    page, more = listing.search_page(user, listing.search_form(user, {"q": q}), number, PAGE)
    return (f"> {listing.SEARCH_COUNT_CAP}" if more else page.paginator.count), len(list(page.object_list))


def measure(user, searches):
    unit_nne = Electeur.objects.order_by("pk").values_list("nne", flat=True).first()

    def unit():
        Electeur.objects.filter(nne=unit_nne).first()

    for name, (q, number) in searches.items():
        for label, run in (("exact", exact), ("plafonné", capped)):
            found = run(user, q, number)
            times, units = [], []
            for _ in range(REQUESTS):
                t = time.perf_counter()
                unit()
                units.append(time.perf_counter() - t)
                t = time.perf_counter()
                run(user, q, number)
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
    searches = {"NOM1": ("NOM1", 1), "NOM1, page 20": ("NOM1", 20), "NOM": ("NOM", 1),
                "un nom": (f"{nom} {prenoms}", 1), "son NNE": (nne, 1), "un début de nom": (nom[:-1], 1)}
    for step in ("avant", "après"):
        if step == "après":
            scale.grow(int(os.environ["BENCH_SCALE_N"]))
        print(f"{Procuration.objects.count():,} procurations, commune : "
              f"{Procuration.objects.filter(commune_id=user.commune_id).count():,}", flush=True)
        measure(user, searches)


if __name__ == "__main__":
    main()
