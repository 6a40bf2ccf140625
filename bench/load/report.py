"""Prints the load benchmark's results (JSON written by locustfile.py and measure.py) as tables,
each number with its target and PASS/MISS. Usage: report.py RESULTS_DIR."""

import json
import os
import sys
from pathlib import Path
from statistics import median

out = Path(sys.argv[1])
# The requests' names in locustfile.py.
BARE = "vue nue (1 SELECT indexé)"
FLOOR = "plancher (session d'agent + 1 entrée d'audit)"
PAGE_FLOOR = "plancher page (formulaire du guichet, GET /police/)"


def load(name):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def line(*cols, widths=(46, 10, 10, 10, 10)):
    print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cols, widths))))


verdicts = []


def verdict(label, value, target, ok):
    verdicts.append((label, value, target, "PASS" if ok else "MISS"))


def print_flow(res, title):
    """The tables of one flow phase; returns (flows per second, p95 of every request)."""
    w = res["window"]
    st = res["state"]
    print(f"\n--- {title}")
    print(f"Fenêtre mesurée : {w:.1f} s ; demandes déposées {st['filed']}, validées police {st['police']}, "
          f"parcours complets (validés mairie) {st['flows']}")
    print("\nPar requête (ms) :")
    line("requête", "n", "req/s", "p50", "p95")
    all_times = []
    for name in sorted(res["samples"]):
        v = res["samples"][name]
        all_times += v
        line(name, len(v), f"{len(v) / w:.1f}", f"{pct(v, .5):.0f}", f"{pct(v, .95):.0f}")
    line("TOUTES", len(all_times), f"{len(all_times) / w:.1f}", f"{pct(all_times, .5):.0f}",
         f"{pct(all_times, .95):.0f}")
    if res["failures"]:
        print("échecs :", dict(res["failures"]))
    print("\nPar étape (somme des requêtes de l'étape, ms) :")
    line("étape", "n", "/s", "p50", "p95")
    for name in sorted(res["steps"]):
        v = res["steps"][name]
        line(name, len(v), f"{len(v) / w:.1f}", f"{pct(v, .5):.0f}", f"{pct(v, .95):.0f}")
    return (st["flows"] / w if w else 0), pct(all_times, .95)


def request_rate(res) -> float:
    """Requests per second of a phase, every request name together (its measured window)."""
    return sum(len(v) for v in res["samples"].values()) / res["window"] if res["window"] else 0


def worst_p95(res):
    """(page, p95 ms) of the page with the highest p95."""
    return max(((name, pct(v, .95)) for name, v in res["samples"].items() if v), key=lambda x: x[1],
               default=("—", float("nan")))


def floor_rounds(kind, request_name, label):
    """A floor measured in each round next to the bare view (phases `{kind}-N`): prints its rows and
    returns (its requests/s per round, None where it did not run; its requests/s ÷ the bare view's)."""
    rates, ratios = [], []
    for i, (_, bare) in enumerate(rounds, 1):
        res = load(f"{kind}-{i}")
        if not res:
            rates.append(None)
            continue
        values = res["samples"].get(request_name, [])
        rate = len(values) / res["window"] if res["window"] else 0
        rates.append(rate)
        line(f"{i}. {label}", len(values), f"{rate:.1f}", f"{pct(values, .5):.0f}", f"{pct(values, .95):.0f}")
        if res["failures"]:
            print(f"échecs {label} :", dict(res["failures"]))
        if bare and bare["window"]:
            bare_rate = len(bare["samples"].get(BARE, [])) / bare["window"]
            ratios.append(rate / bare_rate if bare_rate else 0)
    return rates, ratios


flow, paced, measures = load("flow"), load("paced"), load("measures")
queue, scale = load("queue"), load("scale")
print(f"\n=== Charge : parcours complet — {os.environ.get('BENCH_CONTEXT', '')}")
print("Cibles de l'issue 16 : des rapports au plafond (la vue nue) mesurés dans la même exécution.")
if flow:
    rate, p95 = print_flow(flow, "Parcours au plus vite (boucle fermée, sans temps de réflexion)")
    verdicts.append(("parcours complets au plus vite", f"{rate:.1f}/s", "—", "info"))
    verdicts.append(("requêtes du parcours au plus vite", f"{request_rate(flow):.1f}/s", "—", "info"))
if paced:
    offered = os.environ.get("BENCH_PACED_RATE", "3")
    rate, p95 = print_flow(paced, f"Parcours à {offered} demandes/s offertes (la moitié de la capacité mesurée)")
    page, worst = worst_p95(paced)
    verdict(f"p95 de chaque page à {offered} dem./s (pire : {page})", f"{worst:.0f} ms", "< 100 ms", worst < 100)
rounds = []
r = 1
while load(f"lookup-{r}") or load(f"bare-{r}"):
    rounds.append((load(f"lookup-{r}"), load(f"bare-{r}")))
    r += 1
bare_rates = []
if rounds:
    print("\nRecherche au guichet et plafond (même nombre d'utilisateurs, boucle fermée, en alternance) :")
    line("mesure", "n", "req/s", "p50", "p95")
    ratios, all_l, all_b = [], [], []
    for i, (lookup, bare) in enumerate(rounds, 1):
        lv = lookup["samples"].get("recherche au guichet", []) if lookup else []
        bv = bare["samples"].get("vue nue (1 SELECT indexé)", []) if bare else []
        all_l += lv
        all_b += bv
        lr = len(lv) / lookup["window"] if lookup else 0
        br = len(bv) / bare["window"] if bare else 0
        if bare:
            bare_rates.append(br)
        if lookup:
            line(f"{i}. recherche au guichet (POST /police/)", len(lv), f"{lr:.1f}", f"{pct(lv, .5):.0f}",
                 f"{pct(lv, .95):.0f}")
        if bare:
            line(f"{i}. vue nue (1 SELECT indexé)", len(bv), f"{br:.1f}", f"{pct(bv, .5):.0f}", f"{pct(bv, .95):.0f}")
        if lookup and bare:
            ratios.append(lr / br if br else 0)
            line(f"{i}. rapport", "", f"{ratios[-1]:.0%}", "", "")
        for name, res in (("guichet", lookup), ("vue nue", bare)):
            if res and res["failures"]:
                print(f"échecs {name} :", dict(res["failures"]))
    if ratios:
        ratio = median(ratios)
        verdict(f"guichet ÷ vue nue (médiane de {len(ratios)} manches)", f"{ratio:.0%}", "≥ 75 %", ratio >= 0.75)
    # The audited floor (an officer's session + one audit entry): what the lookup cannot go below.
    floor_rates, floor_ratios = floor_rounds("floor", FLOOR, "plancher audité (GET /bench/audit/)")
    lookup_floor = [len(lookup["samples"].get("recherche au guichet", [])) / lookup["window"] / fr
                    for (lookup, _), fr in zip(rounds, floor_rates) if lookup and fr]
    if floor_ratios:
        verdicts.append((f"plancher audité ÷ vue nue (médiane de {len(floor_ratios)} manches)",
                         f"{median(floor_ratios):.0%}", "—", "info"))
    if lookup_floor:
        # Proposed in place of « guichet ÷ vue nue ≥ 75 % »: against the cheapest audited request instead
        # of an anonymous one, at 60 %, the bound the runs of 6 December support (63–79 %; docs/performance.md,
        # « Where issue 16 ends »).
        verdict(f"guichet ÷ plancher audité (médiane de {len(lookup_floor)} manches)", f"{median(lookup_floor):.0%}",
                "≥ 60 % (proposée)", median(lookup_floor) >= 0.60)
    # The floor of an HTML page (the counter's form, GET): what any page of the flow costs at least. The
    # flow's requests/s ÷ its requests/s is how close the flow comes to pages with no work of their own.
    page_rates, page_ratios = floor_rounds("page", PAGE_FLOOR, "plancher page (GET /police/)")
    page_rates = [r for r in page_rates if r is not None]
    if page_ratios:
        verdicts.append((f"plancher page ÷ vue nue (médiane de {len(page_ratios)} manches)",
                         f"{median(page_ratios):.0%}", "—", "info"))
    if page_rates and flow:
        verdicts.append(("parcours ÷ plancher page (req/s)", f"{request_rate(flow) / median(page_rates):.0%}", "—",
                         "info"))
if bare_rates:
    bare_rate = median(bare_rates)
    verdicts.append((f"vue nue, plafond (médiane de {len(bare_rates)} manches)", f"{bare_rate:.1f}/s", "—", "info"))
    if flow:
        eff = request_rate(flow) / bare_rate if bare_rate else 0
        verdict("efficacité du parcours (req/s ÷ vue nue)", f"{eff:.0%}", "≥ 40 %", eff >= 0.40)
        verdict("efficacité du parcours (req/s ÷ vue nue)", f"{eff:.0%}", "≥ 25 % (proposée)", eff >= 0.25)
if queue:
    verdict(f"file de la mairie 50 lignes, CPU ÷ vue nue (méd. {queue['requests']})", f"{queue['ratio']:.1f} ×",
            "≤ 3 ×", queue["ratio"] <= 3)
    verdict(f"file de la mairie 50 lignes, CPU ÷ vue nue (méd. {queue['requests']})", f"{queue['ratio']:.1f} ×",
            "≤ 10 × (proposée)", queue["ratio"] <= 10)
if measures:
    if "registre" in measures:
        r = measures["registre"]
        verdict(f"registre PDF {r['lines']} lignes", f"{r['seconds']:.2f} s", "< 3 s", r["seconds"] < 3)
    if "zip" in measures:
        z = measures["zip"]
        verdicts.append(("ZIP télédossier (médiane de 5)", f"{z['seconds_median']:.3f} s", "—", "info"))
    if "emails" in measures:
        e = measures["emails"]
        verdict(f"courriels par le worker ({e['sent']}/{e['n']})", f"{e['per_second']:.0f}/s", "≥ 300/s",
                e["per_second"] >= 300 and e["sent"] == e["n"])
if scale:
    small, large = scale["sizes"]
    print(f"\nÉchelle : pages du portail à {small:,} puis à {large:,} procurations (même base, en processus, "
          f"médiane de {scale['requests']} requêtes, entrelacées avec la vue nue) :")
    line("page", "SQL", "SQL", "× nue", "× nue", "écart", widths=(36, 6, 6, 8, 8, 8))
    worst_queries, worst_change = [], 0.0
    for name, (a, b) in scale["pages"].items():
        change = b["ratio"] / a["ratio"] - 1 if a["ratio"] else float("inf")
        line(name, a["queries"], b["queries"], f"{a['ratio']:.1f}", f"{b['ratio']:.1f}", f"{change:+.0%}",
             widths=(36, 6, 6, 8, 8, 8))
        if a["queries"] != b["queries"]:
            worst_queries.append(name)
        if not name.startswith("vue nue"):
            worst_change = max(worst_change, abs(change))
    verdict(f"échelle {small // 1000:,} k → {large // 1000:,} k : requêtes SQL égales",
            "toutes" if not worst_queries else ", ".join(worst_queries), "égales", not worst_queries)
    verdict(f"échelle {small // 1000:,} k → {large // 1000:,} k : temps (÷ vue nue)", f"±{worst_change:.0%}",
            "≤ 20 %", worst_change <= 0.20)
# Where the CPU went in each locust phase (bench/load/cpu.py, sampled by locust at the edges of the
# measured window): seconds per group of processes, and the server's CPU per request (gunicorn +
# PostgreSQL + Redis), which does not depend on the share locust takes from the same 2 cores.
SERVER = ("gunicorn", "postgres", "redis")
GROUPS = SERVER + ("celery", "smtp", "locust")
phases = [(name, load(name)) for name in ("flow", "paced")]
phases += [(f"{kind}-{i}", load(f"{kind}-{i}")) for i in range(1, len(rounds) + 1) for kind in ("lookup", "bare", "floor", "page")]
phases = [(name, res) for name, res in phases if res and res.get("cpu")]
server_ms = {}
if phases:
    print("\nCPU par phase (secondes de CPU dans la fenêtre mesurée ; « autres » : le reste de la machine) :")
    widths = (10, 8, 6) + (8,) * (len(GROUPS) + 1) + (9, 8, 8)
    line("phase", "requêtes", "s", *GROUPS, "autres", "serv./req", "locust", "machine", widths=widths)
    for name, res in phases:
        c = res["cpu"]
        n = sum(len(v) for v in res["samples"].values()) + sum(res["failures"].values())
        others = c["machine"] - sum(c["groups"].values())
        capacity = c["seconds"] * c["cpus"]
        server = sum(c["groups"].get(g, 0) for g in SERVER)
        if n:
            server_ms[name] = 1000 * server / n
        line(name, n, f"{c['seconds']:.1f}", *(f"{c['groups'].get(g, 0):.2f}" for g in GROUPS), f"{others:.2f}",
             f"{server_ms[name]:.2f} ms" if n else "—", f"{c['groups'].get('locust', 0) / capacity:.0%}",
             f"{c['machine'] / capacity:.0%}", widths=widths)
    print("serv./req : CPU de gunicorn + PostgreSQL + Redis par requête (ms) ; locust, machine : part des "
          f"{phases[0][1]['cpu']['cpus']} cœurs prise par locust, par toute la machine.")
    bare_ms = [v for k, v in server_ms.items() if k.startswith("bare-")]
    if bare_ms:
        for kind, label in (("flow", "parcours"), ("lookup", "guichet"), ("floor", "plancher audité"),
                            ("page", "plancher page")):
            mine = [v for k, v in server_ms.items() if k == kind or k.startswith(f"{kind}-")]
            if mine:
                verdicts.append((f"CPU serveur par requête, {label} ÷ vue nue", f"{median(mine) / median(bare_ms):.1f} ×",
                                 "—", "info"))
    for name, label in (("flow", "parcours"), ("bare", "vue nue")):
        shares = [res["cpu"]["groups"].get("locust", 0) / (res["cpu"]["seconds"] * res["cpu"]["cpus"])
                  for k, res in phases if k == name or k.startswith(f"{name}-")]
        if shares:
            verdicts.append((f"part de la machine prise par locust, {label}", f"{median(shares):.0%}", "—", "info"))
print("\nRésumé :")
line("mesure", "résultat", "cible", "verdict", widths=(58, 12, 10, 8))
for v in verdicts:
    line(*v, widths=(58, 12, 10, 8))
