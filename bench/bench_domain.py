"""Benchmark of the 6-character references at national scale. Run through bench/run.sh.

1. Loads BENCH_N (default 1,000,000) procurations with communes and electors, by COPY.
2. Reference generation: generate_reference() alone, then the full _assign_reference path
   (savepoint + UPDATE checked by the unique index of a table holding BENCH_N references).
3. Lookups by reference through the ORM: exact, typed (normalised first), and misses.
Prints the numbers; docs/performance.md keeps a run.
"""

import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from procuration.models import Commune, Electeur, Procuration, Scrutin, Status  # noqa: E402
from procuration.models import procuration as procuration_module  # noqa: E402
from procuration.reference import ALPHABET, generate_reference, normalize_reference  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000000"))
N_COMMUNES = int(os.environ.get("BENCH_COMMUNES", "1000"))
N_ELECTEURS = int(os.environ.get("BENCH_ELECTEURS", str(max(N // 3, 1000))))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "10000"))
ASSIGN = int(os.environ.get("BENCH_ASSIGN", "5000"))
rng = random.Random(2026)


def ms(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000  # noqa: E731
    return f"p50 {pick(0.50):.3f} ms, p95 {pick(0.95):.3f} ms, p99 {pick(0.99):.3f} ms, max {values[-1] * 1000:.3f} ms"


def copy_rows(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def non_null_defaults(model) -> dict:
    """Every NOT NULL column with the value Django would write by default ('' for blank CharFields)."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.null:
            continue
        default = f.get_default()
        values[f.column] = default
    return values


def load() -> None:
    t = time.perf_counter()
    Commune.objects.bulk_create(
        [Commune(code_insee=f"B{i:04d}", nom=f"Commune {i}", departement="99") for i in range(N_COMMUNES)],
        batch_size=5000,
    )
    commune_ids = list(Commune.objects.filter(code_insee__startswith="B").values_list("pk", flat=True))
    base = non_null_defaults(Electeur)
    columns = list(base) + []
    today = datetime.date(1980, 1, 1)

    def electeurs():
        for i in range(N_ELECTEURS):
            row = dict(base)
            row.update(nne=f"{500000000 + i:09d}", nom=f"NOM{i % 5000}", prenoms=f"Prenom{i % 700}", sexe="FM"[i % 2],
                       date_naissance=today + datetime.timedelta(days=i % 20000), commune_id=commune_ids[i % N_COMMUNES])
            yield [row[c] for c in columns]

    copy_rows(Electeur._meta.db_table, columns, electeurs())
    first_e = Electeur.objects.order_by("pk").values_list("pk", flat=True).first()
    e_ids = range(first_e, first_e + N_ELECTEURS)
    electeur_commune = {first_e + i: commune_ids[i % N_COMMUNES] for i in range(N_ELECTEURS)}
    print(f"communes {N_COMMUNES:,} + électeurs {N_ELECTEURS:,} : {time.perf_counter() - t:.1f} s")

    t1 = timezone.localdate() + datetime.timedelta(days=40)
    scrutin = Scrutin.objects.create(type="municipales", libelle="Bench", date_tour1=t1, date_tour2=t1 + datetime.timedelta(7))

    t = time.perf_counter()
    refs = set()
    while len(refs) < N:
        refs.add(generate_reference())
    refs = list(refs)
    print(f"{N:,} références uniques tirées en mémoire : {time.perf_counter() - t:.1f} s")

    base = non_null_defaults(Procuration)
    columns = list(base) + ["reference", "scrutin_id", "submitted_at", "autorite_at"]
    now = timezone.now()
    statuses = [Status.VALIDEE_MAIRIE] * 6 + [Status.VALIDEE_AUTORITE, Status.EN_ATTENTE, Status.RESILIEE, Status.ECHUE]

    def procurations():
        for i in range(N):
            mandant = e_ids[i % N_ELECTEURS]
            mandataire = e_ids[(i * 7 + 1) % N_ELECTEURS]
            if mandataire == mandant:
                mandataire = e_ids[(i + 1) % N_ELECTEURS]
            row = dict(base)
            row.update(
                status=statuses[i % len(statuses)], mandant_id=mandant, mandataire_id=mandataire,
                commune_id=electeur_commune[mandant], email_contact=f"m{i}@example.fr", tour1=True, tour2=True,
                valid_from=t1, valid_until=t1 + datetime.timedelta(7), etablissement="france" if i % 3 else "etranger",
                created_at=now, reference=refs[i], scrutin_id=scrutin.pk, submitted_at=now,
                autorite_at=None if statuses[i % len(statuses)] == Status.EN_ATTENTE else now,
            )
            yield [row[c] for c in columns]

    t = time.perf_counter()
    copy_rows(Procuration._meta.db_table, columns, procurations())
    elapsed = time.perf_counter() - t
    print(f"{N:,} procurations chargées par COPY (avec index et contraintes) : {elapsed:.1f} s ({N / elapsed:,.0f}/s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return refs, e_ids, electeur_commune, scrutin


def bench_generation(refs_count: int, e_ids, electeur_commune, scrutin) -> None:
    print("\n== Génération des références ==")
    n = 1_000_000
    t = time.perf_counter()
    for _ in range(n):
        generate_reference()
    elapsed = time.perf_counter() - t
    print(f"generate_reference() : {n:,} en {elapsed:.2f} s — {n / elapsed:,.0f}/s ({elapsed / n * 1e6:.2f} µs)")

    # Full path: brouillons get their reference through _assign_reference (savepoint + UPDATE
    # against the unique index of a table of refs_count references), counting collisions.
    calls = {"n": 0}

    def counted():
        calls["n"] += 1
        return generate_reference()

    mandants = rng.sample(list(e_ids), ASSIGN)
    drafts = Procuration.objects.bulk_create(
        [
            Procuration(mandant_id=m, mandataire_id=e_ids[(e_ids.index(m) + 3) % len(e_ids)],
                        commune_id=electeur_commune[m], scrutin=scrutin, tour1=True, valid_from=scrutin.date_tour1,
                        valid_until=scrutin.date_tour1)
            for m in mandants
        ],
        batch_size=5000,
    )
    procuration_module.generate_reference = counted
    durations = []
    try:
        for d in drafts:
            t = time.perf_counter()
            with transaction.atomic():
                procuration_module._assign_reference(d.pk)
            durations.append(time.perf_counter() - t)
    finally:
        procuration_module.generate_reference = generate_reference
    total = sum(durations)
    print(
        f"_assign_reference (transaction + savepoint + UPDATE, {refs_count:,} références en base) : "
        f"{ASSIGN:,} en {total:.2f} s — {ASSIGN / total:,.0f}/s ; {ms(durations)}"
    )
    print(f"  tirages : {calls['n']:,} pour {ASSIGN:,} références ({calls['n'] - ASSIGN} collision(s) rattrapée(s) ; "
          f"probabilité attendue par tirage ≈ {refs_count / len(ALPHABET) ** 6:.4%})")


def typed_form(ref: str) -> str:
    """How a person may type it: lower case, a space or a dash, O for 0 and l for 1."""
    s = ref.lower().replace("0", "o").replace("1", "l")
    return s[:3] + rng.choice([" ", "-", ""]) + s[3:]


def bench_lookups(refs) -> None:
    print(f"\n== Recherche par référence (ORM, {LOOKUPS:,} recherches aléatoires) ==")
    sample = rng.sample(refs, LOOKUPS)
    for label, fn in (
        ("exacte  Procuration.objects.filter(reference=…).first()", lambda r: Procuration.objects.filter(reference=r).first()),
        ("saisie  Procuration.objects.by_reference(saisie)       ", lambda r: Procuration.objects.by_reference(typed_form(r))),
    ):
        durations = []
        for r in sample:
            t = time.perf_counter()
            found = fn(r)
            durations.append(time.perf_counter() - t)
            assert found is not None and found.reference == r
        print(f"{label} : {ms(durations)} ; {LOOKUPS / sum(durations):,.0f}/s")
    known = set(refs)
    misses = [r for r in (generate_reference() for _ in range(LOOKUPS * 2)) if r not in known][:LOOKUPS]
    durations = []
    for r in misses:
        t = time.perf_counter()
        assert Procuration.objects.by_reference(r) is None
        durations.append(time.perf_counter() - t)
    print(f"absente by_reference (référence inconnue)               : {ms(durations)}")
    t = time.perf_counter()
    for r in sample:
        normalize_reference(typed_form(r))
    elapsed = time.perf_counter() - t
    print(f"normalize_reference seule : {elapsed / LOOKUPS * 1e6:.1f} µs par saisie")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT * FROM {Procuration._meta.db_table} WHERE reference = %s", [sample[0]])
        print("plan :", " / ".join(row[0].strip() for row in cursor.fetchall()))


def main() -> None:
    print(f"PostgreSQL {connection.cursor().connection.info.server_version} — {N:,} procurations, "
          f"{N_ELECTEURS:,} électeurs, {N_COMMUNES:,} communes")
    refs, e_ids, electeur_commune, scrutin = load()
    bench_generation(len(refs), e_ids, electeur_commune, scrutin)
    bench_lookups(refs)


if __name__ == "__main__":
    main()
