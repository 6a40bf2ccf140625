"""Loads the data of the load benchmark by COPY and writes what the load generator needs.

Run by bench/run_load.sh (after migrate), with BENCH_OUT pointing to a JSON file:
- BENCH_N procurations (default 1,000,000) over BENCH_COMMUNES communes and their electors, every
  status represented (10 % en attente for the counter lookups, 10 % validée par l'autorité for
  the mairie queues), one upcoming scrutin;
- for the three-step flow: BENCH_FLOW_COMMUNES communes (one mairie agent each), and per commune
  a pool of mandant/mandataire pairs of electors who hold no procuration yet, the mandant having
  a FranceConnect-like account (role mandant, état civil matching the elector);
- staff: BENCH_OFFICERS officers and one agent per flow commune, each with a password
  (production hasher) and a TOTP authenticator; the load generator logs them in through the
  real login form and the real TOTP step;
- mandant sessions: the FranceConnect login is an external redirect flow (OIDC provider, nonce,
  id_token); the benchmark does not measure it. This bench-only bootstrap writes a logged-in
  session row per mandant account (what django.contrib.auth.login() would store) and hands the
  session cookies to the load generator. Nothing of this lives in the production code.
"""

import datetime
import json
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from procuration import counts  # noqa: E402
from procuration.access import OIDC_BACKEND  # noqa: E402
from procuration.identity import FRANCE  # noqa: E402
from procuration.models import BureauDeVote, Commune, Electeur, Procuration, Role, Scrutin, Status, User  # noqa: E402
from procuration.reference import generate_reference  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000000"))
N_COMMUNES = int(os.environ.get("BENCH_COMMUNES", "1000"))
# As many electors as procurations: each elector is the mandant of one procuration and the mandataire
# of one (i ↦ 7i + 1 is a bijection modulo N_ELECTEURS), within the plafond of article L.73 (two
# procurations at most per mandataire, one of them established in France). A third as many made
# each elector the mandataire of three procurations of the same scrutin: a page's checks then read
# six times the rows France's register gives them (docs/performance.md).
N_ELECTEURS = int(os.environ.get("BENCH_ELECTEURS", str(max(N, 3000))))
FLOW_COMMUNES = int(os.environ.get("BENCH_FLOW_COMMUNES", "4"))
OFFICERS = int(os.environ.get("BENCH_OFFICERS", "4"))
POOL = int(os.environ.get("BENCH_POOL", "20000"))  # mandant/mandataire pairs (one demande each)
PASSWORD = "bench-Procuration-2026!"
OUT = Path(os.environ["BENCH_OUT"])
rng = random.Random(2026)


def copy_rows(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def defaults(model) -> dict:
    """Every NOT NULL column with the value Django would write by default."""
    return {f.column: f.get_default() for f in model._meta.concrete_fields if not (f.primary_key or f.null)}


def copy_search_keys(after_pk: int, chunk: int = 100_000) -> int:
    """The mairie's search keys (procuration.search) of the procurations loaded by COPY after
    `after_pk` (COPY bypasses Procuration.save(), which writes them): read back with their electors'
    noms_recherche by pk ranges, cut into words by procuration.search.words_of, COPYed. The count of keys."""
    from procuration.models import SearchKey
    from procuration.search import words_of

    written, last = 0, after_pk
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.commune_id, m.noms_recherche, d.noms_recherche FROM procuration_procuration p"
                " JOIN procuration_electeur m ON m.id = p.mandant_id JOIN procuration_electeur d ON d.id = p.mandataire_id"
                " WHERE p.id > %s ORDER BY p.id LIMIT %s", [last, chunk])
            batch = cursor.fetchall()
        if not batch:
            return written
        rows = [(commune_id, w, pk, role) for pk, commune_id, mandant, mandataire in batch
                for role, noms in ((False, mandant), (True, mandataire)) for w in sorted(words_of(noms))]
        copy_rows(SearchKey._meta.db_table, ["commune_id", "token", "procuration_id", "mandataire"], rows)
        written += len(rows)
        last = batch[-1][0]


def birthplace(i: int) -> str:
    """The commune of birth of elector i: one of 35,000 codes, as France's electors are born in its
    ≈ 35,000 communes. The login matches on the whole identité pivot (date, place and sexe of
    birth, then the names): with everyone born in one place, PostgreSQL expected dozens of electors
    per date and joined the communes and bureaux by hashing all of them on every page of the
    mandant's portal (docs/performance.md, « The login matched to the register »)."""
    return f"{10000 + (i * 7919) % 35000:05d}"


def print_plafond() -> None:
    """Prints the most procurations in force one mandataire holds (article L.73: two at most)."""
    from procuration.models.procuration import ACTIVE_FOR_PLAFOND

    most = (Procuration.objects.filter(status__in=ACTIVE_FOR_PLAFOND).values("mandataire_id")
            .annotate(n=Count("pk")).order_by("-n").values_list("n", flat=True).first())
    print(f"plafond (L.73) : au plus {most} procuration(s) en vigueur par mandataire", flush=True)


def pair_of(i: int, n: int) -> tuple[int, int]:
    """(mandant, mandataire) of procuration i among n electors (indexes 0 … n − 1): the mandant
    i mod n, the mandataire step·i + 1 mod n with a step prime to n (a bijection: one procuration
    each as mandataire for n procurations), never the mandant itself."""
    step = next(s for s in (7, 11, 13, 17, 19, 23, 29) if math.gcd(s, n) == 1)
    mandant, mandataire = i % n, (i * step + 1) % n
    return mandant, mandataire if mandataire != mandant else (mandant + 1) % n


def electeur_rows(start: int, count: int, commune_of, name_of, bureau_of=lambda i: None):
    base = defaults(Electeur)
    columns = list(base) + ["bureau_id"]
    dob0 = datetime.date(1950, 1, 1)

    def rows():
        for i in range(start, start + count):
            row = dict(base)
            nom, prenoms, sexe = name_of(i)
            # noms_recherche as Electeur.save() keeps it (COPY bypasses save): the mairie's search
            # by name reads it.
            row.update(nne=f"{100000000 + i:09d}", nom=nom, prenoms=prenoms, sexe=sexe,
                       noms_recherche=Electeur(nom=nom, prenoms=prenoms).search_key(),
                       date_naissance=dob0 + datetime.timedelta(days=i % 18000), commune_id=commune_of(i),
                       bureau_id=bureau_of(i), code_lieu_naissance=birthplace(i), code_pays_naissance=FRANCE)
            yield [row[c] for c in columns]

    return columns, rows()


def main() -> None:
    t0 = time.perf_counter()
    communes = Commune.objects.bulk_create(
        [Commune(code_insee=f"B{i:04d}", nom=f"Commune {i}", departement="99") for i in range(N_COMMUNES)],
        batch_size=5000,
    )
    commune_ids = [c.pk for c in communes]
    bureaux = BureauDeVote.objects.bulk_create(
        [BureauDeVote(commune_id=cid, numero=n, nom=f"Bureau {n}") for cid in commune_ids for n in (1, 2)],
        batch_size=5000,
    )
    bureau_ids = {}
    for b in bureaux:
        bureau_ids.setdefault(b.commune_id, []).append(b.pk)

    # The national register: N_ELECTEURS electors (NNE 100000000 + i), names unique per elector.
    columns, rows = electeur_rows(
        0, N_ELECTEURS, lambda i: commune_ids[i % N_COMMUNES], lambda i: (f"NOM{i}", f"Prenom{i % 700}", "FM"[i % 2]),
        lambda i: bureau_ids[commune_ids[i % N_COMMUNES]][i % 2],
    )
    copy_rows(Electeur._meta.db_table, columns, rows)
    first = Electeur.objects.order_by("pk").values_list("pk", flat=True).first()
    print(f"communes {N_COMMUNES:,} + électeurs {N_ELECTEURS:,} : {time.perf_counter() - t0:.1f} s", flush=True)

    t1 = timezone.localdate() + datetime.timedelta(days=40)
    scrutin = Scrutin.objects.create(type="municipales", libelle="Municipales (bench)", date_tour1=t1,
                                     date_tour2=t1 + datetime.timedelta(days=7))

    # The procurations: every status, mandants and mandataires among the electors.
    t = time.perf_counter()
    refs: set[str] = set()
    while len(refs) < N:
        refs.add(generate_reference())
    refs_list = list(refs)
    base = defaults(Procuration)
    pcols = list(base) + ["reference", "scrutin_id", "submitted_at", "autorite_at", "mairie_at"]
    now = timezone.now()
    statuses = [Status.VALIDEE_MAIRIE] * 6 + [Status.VALIDEE_AUTORITE, Status.EN_ATTENTE, Status.RESILIEE,
                                              Status.ECHUE]
    en_attente = []

    def procurations():
        for i in range(N):
            mandant, mandataire = (first + k for k in pair_of(i, N_ELECTEURS))
            status = statuses[i % len(statuses)]
            if status == Status.EN_ATTENTE and len(en_attente) < 50000:
                en_attente.append(refs_list[i])
            row = dict(base)
            row.update(
                status=status, mandant_id=mandant, mandataire_id=mandataire,
                commune_id=commune_ids[(i % N_ELECTEURS) % N_COMMUNES], email_contact=f"m{i}@example.fr",
                tour1=True, tour2=True, valid_from=t1, valid_until=t1 + datetime.timedelta(days=7),
                etablissement="france", created_at=now, reference=refs_list[i], scrutin_id=scrutin.pk,
                submitted_at=now, autorite_at=None if status == Status.EN_ATTENTE else now,
                mairie_at=now if status == Status.VALIDEE_MAIRIE else None,
            )
            yield [row[c] for c in pcols]

    copy_rows(Procuration._meta.db_table, pcols, procurations())
    print(f"{N:,} procurations (COPY, index et contraintes en place) : {time.perf_counter() - t:.1f} s", flush=True)
    print_plafond()
    t = time.perf_counter()
    keys = counts.rebuild()  # COPY bypasses the transitions: the dashboard's figures from the rows
    print(f"comptes par commune, scrutin et statut : {keys:,} ({time.perf_counter() - t:.1f} s)", flush=True)
    t = time.perf_counter()
    keys = copy_search_keys(0)
    print(f"{keys:,} clés de recherche (COPY) : {time.perf_counter() - t:.1f} s", flush=True)

    # The flow's pools: fresh electors in the flow communes, never mandant nor mandataire.
    t = time.perf_counter()
    flow_communes = commune_ids[:FLOW_COMMUNES]
    start = N_ELECTEURS
    pair = lambda i: (i - start) // 2  # noqa: E731  # pair index: mandant 2k, mandataire 2k+1
    columns, rows = electeur_rows(
        start, 2 * POOL, lambda i: flow_communes[pair(i) % FLOW_COMMUNES],
        lambda i: (f"FLUX{pair(i)}", "Jeanne Marie", "F") if (i - start) % 2 == 0 else (f"MDT{pair(i)}", "Paul", "M"),
        lambda i: bureau_ids[flow_communes[pair(i) % FLOW_COMMUNES]][0],
    )
    copy_rows(Electeur._meta.db_table, columns, rows)
    pool_electeurs = {
        e["nne"]: e for e in Electeur.objects.filter(nne__gte=f"{100000000 + start:09d}").values(
            "pk", "nne", "nom", "prenoms", "sexe", "date_naissance", "commune_id", "code_lieu_naissance")
    }
    ucols_base = defaults(User)
    ucols = list(ucols_base) + ["birthdate", "commune_id"]
    date_joined = timezone.now()

    def mandant_users():
        for k in range(POOL):
            e = pool_electeurs[f"{100000000 + start + 2 * k:09d}"]
            row = dict(ucols_base)
            row.update(username=f"fc-bench-{k}", password="!" + get_random_string(40), first_name=e["prenoms"],
                       last_name=e["nom"], email=f"fc-bench-{k}@example.fr", role=Role.MANDANT, gender="F",
                       birthdate=e["date_naissance"], birthplace=e["code_lieu_naissance"], birthcountry=FRANCE,
                       identity_provider="franceconnect", date_joined=date_joined,
                       is_active=True, commune_id=None)
            yield [row[c] for c in ucols]

    copy_rows(User._meta.db_table, ucols, mandant_users())
    users = {u.username: u for u in User.objects.filter(username__startswith="fc-bench-")}
    expire = timezone.now() + datetime.timedelta(days=1)
    store = SessionStore()
    sessions, mandants = [], []
    for k in range(POOL):
        u = users[f"fc-bench-{k}"]
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: OIDC_BACKEND,
                HASH_SESSION_KEY: u.get_session_auth_hash()}
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        mdt = pool_electeurs[f"{100000000 + start + 2 * k + 1:09d}"]
        mandants.append({"session": key, "commune": flow_communes.index(mdt["commune_id"]),
                         "nne": mdt["nne"], "dob": mdt["date_naissance"].isoformat()})
    Session.objects.bulk_create(sessions, batch_size=5000)
    print(f"flux : {POOL:,} couples mandant/mandataire et sessions mandant : {time.perf_counter() - t:.1f} s", flush=True)

    # Staff with TOTP (production hasher: one hash per account here, one per login in the load).
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def staff(username, **fields):
        u = User(username=username, first_name="Agent", last_name=username.upper(), email=f"{username}@example.fr",
                 **fields)
        u.set_password(PASSWORD)
        u.save()
        secret = generate_totp_secret()
        TOTP.activate(u, secret)
        return {"username": username, "password": PASSWORD, "totp_secret": secret}

    officers = [staff(f"opj-bench-{k}", role=Role.POLICIER, qualite="OPJ", unite="Commissariat bench",
                      matricule=f"B{k:06d}") for k in range(OFFICERS)]
    agents = [dict(staff(f"mairie-bench-{k}", role=Role.AGENT_MAIRIE, commune_id=cid), commune=k)
              for k, cid in enumerate(flow_communes)]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if connection.get_autocommit() else cursor.execute("ANALYZE")
    rng.shuffle(en_attente)
    OUT.write_text(json.dumps({
        "scrutin": scrutin.pk, "officers": officers, "agents": agents, "mandants": mandants,
        "lookup_refs": en_attente[:20000],
        "nnes": [f"{100000000 + rng.randrange(N_ELECTEURS):09d}" for _ in range(20000)],
        "n_procurations": Procuration.objects.count(), "n_electeurs": Electeur.objects.count(),
    }))
    print(f"chargement total : {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
