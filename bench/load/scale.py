"""Scale phase of the load benchmark (issue 16): every portal page's query count and time at the
loaded size (BENCH_N procurations), then the same pages again after loading more rows into the
same database, up to BENCH_SCALE_N procurations (run by bench/run_load.sh; default 1 M then 5 M).

Each page is requested in process (django.test.Client, production settings plus the bare view),
the same objects at both sizes, interleaved with the bare view: per page its SQL query count and
the median wall time of BENCH_SCALE_REQUESTS requests (wall: the database's share is what grows
with the rows), and that median ÷ the bare view's median, its requests interleaved with the page's (the shared machine drifts
between the two sizes; the bare view is one SELECT on a unique index, flat with the size).
Writes BENCH_RESULT (JSON): {"sizes": [n1, n2], "pages": {page: [{queries, ms, ratio}, ...]}}.
"""

import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
os.environ.setdefault("BENCH_OUT", os.environ["BENCH_DATA"])

import django  # noqa: E402

django.setup()

import load_data  # noqa: E402
from django.db import connection  # noqa: E402
from browser import BrowserClient as Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from procuration import counts  # noqa: E402
from procuration.access import OIDC_BACKEND, logs_in_with_oidc  # noqa: E402
from procuration.models import BureauDeVote, Commune, Electeur, Procuration, Status, User  # noqa: E402
from procuration.reference import generate_reference  # noqa: E402

DATA = json.loads(Path(os.environ["BENCH_DATA"]).read_text())
TARGET = int(os.environ.get("BENCH_SCALE_N", str(5 * int(os.environ.get("BENCH_N", "1000000")))))
REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "31"))


def client_for(username):
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user, OIDC_BACKEND if logs_in_with_oidc(user) else None)
    return client


def pages():
    """name -> request function; the same objects at both sizes (chosen once, before growing)."""
    officer = client_for(DATA["officers"][0]["username"])
    agent_account = DATA["agents"][0]
    agent = client_for(agent_account["username"])
    commune_id = User.objects.get(username=agent_account["username"]).commune_id
    mandant = client_for("fc-bench-0")  # the flow phase's first mandant: a demande filed, if it ran
    reference = DATA["lookup_refs"][0]
    waiting = (Procuration.objects.filter(commune_id=commune_id, status=Status.VALIDEE_AUTORITE)
               .order_by("pk").values_list("pk", flat=True).first())
    fiche = officer.post(reverse("police:home"), {"reference": reference})
    assert fiche.status_code == 302, fiche.status_code
    nne = DATA["nnes"][0]

    def get(client, url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return run

    def lookup():
        response = officer.post(reverse("police:home"), {"reference": reference})
        assert response.status_code == 302, response.status_code

    found = {
        "vue nue (1 SELECT indexé)": get(Client(), f"/bench/nu/{nne}/"),
        "mandant : accueil": get(mandant, reverse("mandant:home")),
        "mandant : demande (validité)": get(mandant, reverse("mandant:demande_validite")),
        "guichet (formulaire)": get(officer, reverse("police:home")),
        "guichet : recherche (POST)": lookup,
        "guichet : fiche": get(officer, fiche.url),
        "guichet : historique": get(officer, reverse("police:historique")),
        "mairie : accueil": get(agent, reverse("mairie:home")),
        "mairie : file (50 lignes)": get(agent, reverse("mairie:queue")),
        "mairie : recherche": get(agent, reverse("mairie:search") + "?q=NOM1"),
    }
    if waiting:
        found["mairie : fiche"] = get(agent, reverse("mairie:detail", args=[waiting]))
        # A name as an agent types it, nom and prénom of one mandant (« NOM1 » above matches a
        # share of every commune's electors, so its count grows with the commune whatever the plan):
        # the commune's last mandant, whose NOM<i> no other elector's name contains at either size.
        nom, prenoms, nne = (Procuration.objects.filter(commune_id=commune_id).order_by("-mandant_id")
                             .values_list("mandant__nom", "mandant__prenoms", "mandant__nne").first())
        found["mairie : recherche (un nom)"] = get(agent, reverse("mairie:search") + f"?q={nom}+{prenoms}")
        found["mairie : recherche (son NNE)"] = get(agent, reverse("mairie:search") + f"?q={nne}")
    return found


def statements(run) -> list[str]:
    """Every SQL statement one request sends (a wrapper: Django empties its debug log per request)."""
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return sent


def measure(runs) -> dict:
    bare = runs["vue nue (1 SELECT indexé)"]
    result = {}
    for name, run in runs.items():
        run()  # warm
        queries = statements(run)
        times, bare_times = [], []
        for _ in range(REQUESTS):
            t = time.perf_counter()
            bare()
            bare_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        ms, bare_ms = statistics.median(times) * 1000, statistics.median(bare_times) * 1000
        result[name] = {"queries": len(queries), "ms": ms, "bare_ms": bare_ms, "ratio": ms / bare_ms}
        print(f"  {name} : {len(queries)} requêtes SQL, {result[name]['ms']:.1f} ms, "
              f"{result[name]['ratio']:.1f} × la vue nue", flush=True)
    return result


def grow(target: int) -> None:
    """Loads procurations (and as many electors, load_data.N_ELECTEURS) into the same database up to `target`,
    as load_data.py does: the same communes, every status in the same shares."""
    have = Procuration.objects.count()
    count = target - have
    if count <= 0:
        return
    t0 = time.perf_counter()
    communes = list(Commune.objects.filter(code_insee__startswith="B").order_by("pk").values_list("pk", flat=True))
    bureaux = {}
    for cid, bid in BureauDeVote.objects.filter(commune_id__in=communes).order_by("numero").values_list(
            "commune_id", "pk"):
        bureaux.setdefault(cid, []).append(bid)
    start = DATA["n_electeurs"] + 10  # beyond the register and the flow's pools (load_data.py)
    n_electeurs = max(count, 3000)
    columns, rows = load_data.electeur_rows(
        start, n_electeurs, lambda i: communes[i % len(communes)], lambda i: (f"NOM{i}", f"Prenom{i % 700}", "FM"[i % 2]),
        lambda i: bureaux[communes[i % len(communes)]][i % 2])
    load_data.copy_rows(Electeur._meta.db_table, columns, rows)
    first = Electeur.objects.get(nne=f"{100000000 + start:09d}").pk
    refs = set(Procuration.objects.values_list("reference", flat=True))
    new_refs = set()
    while len(new_refs) < count:
        ref = generate_reference()
        if ref not in refs:
            new_refs.add(ref)
    new_refs = list(new_refs)
    scrutin = DATA["scrutin"]
    t1 = Procuration.objects.filter(scrutin_id=scrutin).values_list("valid_from", flat=True).first()
    base = load_data.defaults(Procuration)
    pcols = list(base) + ["reference", "scrutin_id", "submitted_at", "autorite_at", "mairie_at"]
    now = timezone.now()
    statuses = [Status.VALIDEE_MAIRIE] * 6 + [Status.VALIDEE_AUTORITE, Status.EN_ATTENTE, Status.RESILIEE,
                                              Status.ECHUE]

    def procurations():
        for i in range(count):
            mandant, mandataire = (first + k for k in load_data.pair_of(i, n_electeurs))
            status = statuses[i % len(statuses)]
            row = dict(base)
            row.update(
                status=status, mandant_id=mandant, mandataire_id=mandataire,
                commune_id=communes[(i % n_electeurs) % len(communes)], email_contact=f"s{i}@example.fr",
                tour1=True, tour2=True, valid_from=t1, valid_until=t1 + datetime.timedelta(days=7),
                etablissement="france", created_at=now, reference=new_refs[i], scrutin_id=scrutin,
                submitted_at=now, autorite_at=None if status == Status.EN_ATTENTE else now,
                mairie_at=now if status == Status.VALIDEE_MAIRIE else None,
            )
            yield [row[c] for c in pcols]

    last = Procuration.objects.order_by("-pk").values_list("pk", flat=True).first()
    load_data.copy_rows(Procuration._meta.db_table, pcols, procurations())
    counts.rebuild()  # COPY bypasses the transitions: the dashboard's figures from the rows
    keys = load_data.copy_search_keys(last)
    # VACUUM as load_data.py does after the first load: without it the visibility map of the rows just
    # copied is unset, and every index-only scan at the larger size fetches heap pages the smaller size
    # did not (949 heap fetches in the broad search's count at 500 k), until autovacuum passes.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"+{count:,} procurations, {keys:,} clés de recherche et {n_electeurs:,} électeurs (COPY, VACUUM ANALYZE) : "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    load_data.print_plafond()


def main() -> None:
    runs = pages()
    sizes, results = [], []
    for step in ("avant", "après"):
        if step == "après":
            grow(TARGET)
        sizes.append(Procuration.objects.count())
        print(f"échelle : {sizes[-1]:,} procurations", flush=True)
        results.append(measure(runs))
    Path(os.environ["BENCH_RESULT"]).write_text(json.dumps({
        "sizes": sizes, "requests": REQUESTS,
        "pages": {name: [r[name] for r in results] for name in results[0]},
    }))


if __name__ == "__main__":
    main()
