"""Prints the load benchmark's results (JSON written by locustfile.py and measure.py) as tables,
each number with its target and PASS/MISS. Usage: report.py RESULTS_DIR."""

import json
import os
import sys
from pathlib import Path

out = Path(sys.argv[1])


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


flow, paced, measures = load("flow"), load("paced"), load("measures")
print(f"\n=== Charge : parcours complet — {os.environ.get('BENCH_CONTEXT', '')}")
if flow:
    rate, p95 = print_flow(flow, "Parcours au plus vite (boucle fermée, sans temps de réflexion)")
    verdict("parcours complet (procurations/s)", f"{rate:.1f}/s", "≥ 100/s", rate >= 100)
    verdict("p95 par requête du parcours", f"{p95:.0f} ms", "< 150 ms", p95 < 150)
if paced:
    offered = os.environ.get("BENCH_PACED_RATE", "3")
    rate, p95 = print_flow(paced, f"Parcours à {offered} demandes/s offertes (sous la saturation)")
    verdicts.append((f"p95 du parcours à {rate:.1f} parcours/s", f"{p95:.0f} ms", "—", "info"))
rounds = []
r = 1
while load(f"lookup-{r}") and load(f"bare-{r}"):
    rounds.append((load(f"lookup-{r}"), load(f"bare-{r}")))
    r += 1
if rounds:
    print("\nRecherche au guichet et plafond (même nombre d'utilisateurs, boucle fermée, en alternance) :")
    line("mesure", "n", "req/s", "p50", "p95")
    ratios, all_l, all_b = [], [], []
    for i, (lookup, bare) in enumerate(rounds, 1):
        lv = lookup["samples"].get("recherche au guichet", [])
        bv = bare["samples"].get("vue nue (1 SELECT indexé)", [])
        all_l += lv
        all_b += bv
        lr, br = len(lv) / lookup["window"], len(bv) / bare["window"]
        ratios.append(lr / br if br else 0)
        line(f"{i}. recherche au guichet (POST /police/)", len(lv), f"{lr:.1f}", f"{pct(lv, .5):.0f}", f"{pct(lv, .95):.0f}")
        line(f"{i}. vue nue (1 SELECT indexé)", len(bv), f"{br:.1f}", f"{pct(bv, .5):.0f}", f"{pct(bv, .95):.0f}")
        line(f"{i}. rapport", "", f"{ratios[-1]:.0%}", "", "")
        for name, res in (("guichet", lookup), ("vue nue", bare)):
            if res["failures"]:
                print(f"échecs {name} :", dict(res["failures"]))
    lw = sum(lookup["window"] for lookup, _ in rounds)
    bw = sum(bare["window"] for _, bare in rounds)
    line("toutes manches : recherche au guichet", len(all_l), f"{len(all_l) / lw:.1f}", f"{pct(all_l, .5):.0f}",
         f"{pct(all_l, .95):.0f}")
    line("toutes manches : vue nue", len(all_b), f"{len(all_b) / bw:.1f}", f"{pct(all_b, .5):.0f}", f"{pct(all_b, .95):.0f}")
    ratio = sorted(ratios)[len(ratios) // 2]
    verdict(f"guichet / plafond (médiane de {len(ratios)} manches)", f"{ratio:.0%}", "≥ 50 %", ratio >= 0.5)
if measures:
    if "registre" in measures:
        r = measures["registre"]
        verdict(f"registre PDF {r['lines']} lignes", f"{r['seconds']:.2f} s", "< 3 s", r["seconds"] < 3)
    if "zip" in measures:
        z = measures["zip"]
        verdicts.append(("ZIP télédossier (médiane de 5)", f"{z['seconds_median']:.3f} s", "—", "info"))
    if "emails" in measures:
        e = measures["emails"]
        verdicts.append((f"courriels par le worker ({e['sent']}/{e['n']})", f"{e['per_second']:.0f}/s", "—", "info"))
print("\nRésumé :")
line("mesure", "résultat", "cible", "verdict", widths=(46, 12, 10, 8))
for v in verdicts:
    line(*v, widths=(46, 12, 10, 8))
