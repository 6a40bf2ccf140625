"""Micro-benchmark of the form pages, in process: each main page of the flow rendered with the
DSFR templates (procuration.renderers.FormRenderer) and with the product's Python renderer
(FastFormRenderer), against the bare view of the load benchmark (one indexed SELECT through the
same middleware), in the same run. The machine is shared: only ratios are printed, medians of
several rounds, each round measuring every page with both renderers and the bare view.

Run by bench/form_render.sh (PostgreSQL and Redis on loopback, production settings). Options:
  --rounds 5 --requests 20      rounds, requests per page per round
  --profile PAGE                cProfile of PAGE (old and new renderer): top frames by own time
  --only NAME (repeatable)      only the pages whose name holds NAME
  --new-only                    the Python renderer only, against the bare view
  --baseline fragments          old column: the Python renderer without the {% per_process %}
                                fragments (TEMPLATE_FRAGMENTS_PER_PROCESS off), new: with them
  --renderer new / --callers P   with --profile: the Python renderer only; who calls P
  --queries PAGE                the SQL statements of one request of PAGE (count and text)
The state-changing POSTs (police and mairie validations, the récapitulatif that files the demande)
consume one object per request: each is made before the request, outside the time measured.
The floor pages (bench/load/bench_urls.py): an officer's session and user only, and the same plus
one audit entry, the cheapest authenticated and audited request of the stack.
Time is CPU time of this process (time.process_time: PostgreSQL's share is in its own process).
"""

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "load")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from browser import BrowserClient as Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from procuration.renderers import FastFormRenderer, FormRenderer  # noqa: E402

BARE = "vue nue (1 SELECT)"


class Bench:
    """The data of one commune: a mandant with a demande under way, an officer, a mairie agent,
    a reference waiting at the counter and 60 procurations waiting for the mairie."""

    def __init__(self):
        from procuration.access import OIDC_BACKEND, logs_in_with_oidc
        from procuration.models import Electeur, Procuration, Status
        from tests.factories import (
            BureauDeVoteFactory,
            CommuneFactory,
            ElecteurFactory,
            ProcurationFactory,
            ScrutinFactory,
            UserFactory,
        )

        def client_for(user):
            client = Client()
            client.force_login(user, OIDC_BACKEND if logs_in_with_oidc(user) else None)
            return client

        commune = CommuneFactory(nom="Almayrac", code_insee="81005")
        bureau = BureauDeVoteFactory(commune=commune, numero=1)
        today = timezone.localdate()
        scrutin = ScrutinFactory(date_tour1=today + datetime.timedelta(days=30),
                                 date_tour2=today + datetime.timedelta(days=44))
        e = ElecteurFactory(commune=commune, bureau=bureau, nom="DUPONT", prenoms="Marie Claire",
                            date_naissance="1980-05-12")
        mandant = UserFactory(username="mandant-bench", first_name=e.prenoms, last_name=e.nom,
                              birthdate=e.date_naissance, gender=e.sexe, birthplace=e.code_lieu_naissance,
                              birthcountry=e.code_pays_naissance, email="marie.dupont@example.fr")
        mandataire = ElecteurFactory(commune=commune, bureau=bureau, date_naissance="1975-03-02")
        self.bare_nne = mandataire.nne
        policier = UserFactory(username="opj-bench", policier=True)
        agent = UserFactory(username="agent-bench", role="agent_mairie", commune=commune)

        self.mandant, self.policier, self.agent = client_for(mandant), client_for(policier), client_for(agent)
        self.client_for, self.commune, self.bureau, self.scrutin = client_for, commune, bureau, scrutin
        self.policier_user = policier
        self.anonymous = Client()
        # The mandant's demande up to the récapitulatif (the session keeps each step).
        r = self.mandant.post(reverse("mandant:demande_validite"), {
            "portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "tour2": "on", "etablissement": "france"})
        assert r.status_code == 302, r.content.decode()[:2000]
        r = self.mandant.post(reverse("mandant:demande_mandataire"), {
            "mode": "nne", "nne": mandataire.nne, "date_naissance_nne": "1975-03-02"})
        assert r.status_code == 302, r.content.decode()[:2000]

        self.reference = ProcurationFactory(en_attente=True, mandant__commune=commune, scrutin=scrutin).reference
        # The mandant's own demande already filed (another scrutin: the demande above is no doublon),
        # for its confirmation and its page (« suivi »).
        later = ScrutinFactory(date_tour1=today + datetime.timedelta(days=200),
                               date_tour2=today + datetime.timedelta(days=214))
        self.own_pk = ProcurationFactory(en_attente=True, mandant=e, mandant_user=mandant, scrutin=later,
                                         mandataire=mandataire).pk
        self.scrutin_pk = scrutin.pk
        self.mandataire = (mandataire.nne, "1975-03-02")
        electeurs = Electeur.objects.bulk_create([
            Electeur(nne=f"{700000000 + i:09d}", nom=f"NOM{i}", prenoms="Jean", sexe="M",
                     date_naissance=datetime.date(1970, 1, 1), commune=commune, bureau=bureau)
            for i in range(120)
        ])
        now = timezone.now()
        Procuration.objects.bulk_create([
            Procuration(reference=f"Q{i:05d}", status=Status.VALIDEE_AUTORITE, mandant=electeurs[2 * i],
                        mandataire=electeurs[2 * i + 1], commune=commune, scrutin=scrutin, tour1=True, tour2=True,
                        valid_from=scrutin.date_tour1, valid_until=scrutin.date_tour2, submitted_at=now,
                        autorite_at=now - datetime.timedelta(minutes=i), autorite_label="MARTIN Julie")
            for i in range(60)
        ])
        self.waiting_pk = Procuration.objects.filter(reference="Q00000").values_list("pk", flat=True).get()
        r = self.policier.post(reverse("police:home"), {"reference": self.reference})
        assert r.status_code == 302, r.content.decode()[:2000]
        self.fiche_url = r.url

    def pages(self):
        """name -> (is a flow page, request function): each returns the response, checked."""
        def get(client, url, status=200):
            def run():
                response = client.get(url)
                assert response.status_code == status, (url, response.status_code)
                return response
            return run

        def lookup():
            response = self.policier.post(reverse("police:home"), {"reference": self.reference})
            assert response.status_code == 302, response.status_code
            return response

        def posted(make, status=302):
            """A POST that changes state: make() (untimed, run.prepare) returns (client, url, data) for a new object."""
            pending = []

            def prepare():
                pending.append(make())

            def run():
                if not pending:
                    prepare()
                client, url, data = pending.pop()
                response = client.post(url, data)
                # The message it leaves is read by the page it redirects to, not fetched here: without
                # this, each POST of the same client would carry and re-sign every earlier one.
                client.cookies.pop("messages", None)
                if response.status_code != status:
                    import re

                    errors = re.findall(r'(?:fr-error-text|fr-alert)[^>]*>([^<]*(?:<[^/][^>]*>[^<]*)?)', response.content.decode())
                    raise AssertionError((url, response.status_code, errors))
                return response
            run.prepare = prepare
            return run

        def post(client, url, data, status=302):
            def run():
                response = client.post(url, data)
                assert response.status_code == status, (url, response.status_code, response.content[:2000])
                return response
            return run

        queue = get(self.agent, reverse("mairie:queue"))
        return {
            BARE: (False, get(self.anonymous, f"/bench/nu/{self.bare_nne}/")),
            "plancher : session d'agent (vue de banc)": (False, get(self.policier, "/bench/agent/")),
            "plancher : session d'agent + 1 entrée d'audit (vue de banc)": (False, get(self.policier, "/bench/audit/")),
            "demande : validité": (True, get(self.mandant, reverse("mandant:demande_validite"))),
            "demande : mandataire": (True, get(self.mandant, reverse("mandant:demande_mandataire"))),
            "demande : récapitulatif": (True, get(self.mandant, reverse("mandant:demande_recapitulatif"))),
            "demande : validité (POST, 302)": (True, post(self.mandant, reverse("mandant:demande_validite"), {
                "portee": "scrutin", "scrutin": self.scrutin_pk, "tour1": "on", "tour2": "on",
                "etablissement": "france"})),
            "demande : mandataire (POST, 302)": (True, post(self.mandant, reverse("mandant:demande_mandataire"), {
                "mode": "nne", "nne": self.mandataire[0], "date_naissance_nne": self.mandataire[1]})),
            "demande : confirmation": (True, get(self.mandant, reverse("mandant:confirmation", args=[self.own_pk]))),
            "suivi (ma procuration)": (False, get(self.mandant, reverse("mandant:detail", args=[self.own_pk]))),
            "guichet (formulaire)": (True, get(self.policier, reverse("police:home"))),
            "guichet : recherche (POST, 302)": (True, lookup),
            "guichet : fiche (2 formulaires)": (True, get(self.policier, self.fiche_url)),
            "CERFA police": (False, get(self.policier, reverse("police:cerfa"))),
            "CERFA mairie": (False, get(self.agent, reverse("mairie:cerfa"))),
            "file de la mairie (50 lignes)": (True, queue),
            "fiche mairie (2 formulaires)": (True, get(self.agent, reverse("mairie:detail", args=[self.waiting_pk]))),
            "guichet : validation (POST, 302)": (True, posted(self.new_counter_validation)),
            "mairie : validation (POST, 302)": (True, posted(self.new_mairie_validation)),
            "demande : envoi (POST récapitulatif, 302)": (True, posted(self.new_demande)),
        }

    def new_counter_validation(self):
        from police.services import fiche_token
        from tests.factories import ProcurationFactory

        p = ProcurationFactory(en_attente=True, mandant__commune=self.commune, scrutin=self.scrutin)
        return (self.policier, reverse("police:procuration", args=[fiche_token(self.policier_user, p.pk)]),
                {"action": "valider", "piece_type": "cni", "piece_numero_fin": "AB12"})

    def new_mairie_validation(self):
        from tests.factories import ProcurationFactory

        p = ProcurationFactory(validee_autorite=True, mandant__commune=self.commune, scrutin=self.scrutin)
        return self.agent, reverse("mairie:validate", args=[p.pk]), {}

    def new_demande(self):
        """A new mandant (and mandataire) with the demande's two first steps in the session."""
        from procuration.access import OIDC_BACKEND
        from tests.factories import ElecteurFactory, UserFactory

        # A date of birth of its own: electeur_for_pivot reads every elector born that day, at that place, of
        # that sexe; one shared date would make each demande read all the previous mandants.
        self.demandes = getattr(self, "demandes", 0) + 1
        e = ElecteurFactory(commune=self.commune, bureau=self.bureau,
                            date_naissance=datetime.date(1940, 1, 1) + datetime.timedelta(days=self.demandes))
        mandataire = ElecteurFactory(commune=self.commune, bureau=self.bureau, date_naissance="1975-03-02")
        user = UserFactory(first_name=e.prenoms, last_name=e.nom, birthdate=e.date_naissance, gender=e.sexe,
                           birthplace=e.code_lieu_naissance, birthcountry=e.code_pays_naissance,
                           email=f"m{e.nne}@example.fr")
        client = Client()
        client.force_login(user, OIDC_BACKEND)
        r = client.post(reverse("mandant:demande_validite"), {
            "portee": "scrutin", "scrutin": self.scrutin.pk, "tour1": "on", "tour2": "on", "etablissement": "france"})
        assert r.status_code == 302, r.content.decode()[:2000]
        r = client.post(reverse("mandant:demande_mandataire"), {
            "mode": "nne", "nne": mandataire.nne, "date_naissance_nne": "1975-03-02"})
        assert r.status_code == 302, r.content.decode()[:2000]
        return client, reverse("mandant:demande_recapitulatif"), {"email_contact": user.email, "attestation": "on"}


class SwitchRenderer(FormRenderer):
    """settings.FORM_RENDERER for the bench: delegates to one of two long-lived renderers (each
    keeps its template engine and cached loader), so the bench can switch per request."""

    current = None

    def render(self, template_name, context, request=None):
        return SwitchRenderer.current.render(template_name, context, request)


RENDERERS = {"old": FormRenderer(), "new": FastFormRenderer()}


BASELINE = {"mode": "templates"}


def use(label) -> None:
    if BASELINE["mode"] == "fragments":  # old: the Python renderer, the {% per_process %} fragments off
        SwitchRenderer.current = RENDERERS["new"]
        settings.TEMPLATE_FRAGMENTS_PER_PROCESS = label != "old"  # no setting_changed: the kept fragments stay
    else:
        SwitchRenderer.current = RENDERERS[label]


def columns() -> tuple[str, str]:
    return ("sans fragments", "avec fragments") if BASELINE["mode"] == "fragments" else ("gabarits DSFR", "rendu Python")


def cpu(run, label) -> float:
    use(label)
    if hasattr(run, "prepare"):  # a state-changing POST: its object is made outside the time measured
        run.prepare()
    start = time.process_time()
    run()
    return time.process_time() - start


def measure(bench, rounds: int, requests: int, only: list[str] | None = None, new_only: bool = False):
    """Per round and page: `requests` triples (bare view, page with the templates, page in Python),
    interleaved, in rotating order, so a drift of the shared machine hits the three alike.
    `only`: the pages whose name holds one of these strings; `new_only`: pairs (bare view, page in
    Python), the template renderer left out (the old column then repeats the new one)."""
    pages = bench.pages()
    bare = pages.pop(BARE)[1]
    if only:
        pages = {name: page for name, page in pages.items() if any(o.lower() in name.lower() for o in only)}
    labels = ("bare", "new") if new_only else ("bare", "old", "new")
    ratios = {name: {"old": [], "new": [], "gain": []} for name in pages}
    for round_ in range(rounds):
        for name, (_flow, run) in pages.items():
            samples = {label: [] for label in labels}
            cpu(bare, "new")
            for label in labels[1:]:
                cpu(run, label)  # warm: templates compiled, caches filled
            for i in range(requests):
                order = labels[i % len(labels):] + labels[:i % len(labels)]
                for label in order:
                    samples[label].append(cpu(bare, "new") if label == "bare" else cpu(run, label))
            m = {label: statistics.median(values) for label, values in samples.items()}
            m.setdefault("old", m["new"])
            ratios[name]["old"].append(m["old"] / m["bare"])
            ratios[name]["new"].append(m["new"] / m["bare"])
            ratios[name]["gain"].append(m["old"] / m["new"])
        print(f"  manche {round_ + 1}/{rounds} faite", file=sys.stderr)
    return pages, {name: {k: statistics.median(v) for k, v in r.items()} for name, r in ratios.items()}


def queue_phases(bench, requests: int, json_out: str | None = None):
    """Where the mairie queue's CPU goes: the checks of the page (procuration.checks.evaluate_page),
    the template (mairie.views.render), the rest (middleware, session, user, rows, paginator), each
    timed by wrapping the function the view calls, over `requests` requests (medians)."""
    import mairie.views
    from procuration import checks

    spent = {}

    def timed(key, function):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0) + time.process_time() - start
        return wrapper

    run = bench.pages()["file de la mairie (50 lignes)"][1]
    bare = bench.pages()[BARE][1]
    SwitchRenderer.current = RENDERERS["new"]
    evaluate_page, render = checks.evaluate_page, mairie.views.render
    empty = []

    def render_twice(request, template, context, *args, **kwargs):
        response = timed("gabarit", render)(request, template, context, *args, **kwargs)
        start = time.process_time()  # the same page without its rows: what every page of the portal pays
        render(request, template, {**context, "rows": []})
        empty.append(time.process_time() - start)
        return response

    checks.evaluate_page, mairie.views.render = timed("checks", evaluate_page), render_twice
    # The page (its pks and the count: mairie.listing.queue_page), the rows (their columns by those
    # pks, read and nested: procuration.rows) and the filter fields (kept per process:
    # mairie.queue_rows.filters_html), all part of "the rest".
    columns = mairie.views.QUEUE_ROW_COLUMNS
    columns.by_pk = timed("lignes", columns.by_pk)
    queue_page = mairie.views.listing.queue_page
    mairie.views.listing.queue_page = timed("page", queue_page)
    filters_html = mairie.views.queue_rows.filters_html
    mairie.views.queue_rows.filters_html = timed("filtres", filters_html)
    samples = {"total": [], "checks": [], "gabarit": [], "bare": [], "empty": [], "lignes": [], "filtres": [],
               "page": []}
    try:
        run()
        for _ in range(requests):
            spent.clear()
            empty.clear()
            samples["bare"].append(cpu(bare, "new"))
            samples["total"].append(cpu(run, "new") - (empty[-1] if empty else 0))
            for key in ("checks", "gabarit", "lignes", "filtres", "page"):
                samples[key].append(spent[key])
            samples["empty"].append(empty[-1])
    finally:
        checks.evaluate_page, mairie.views.render = evaluate_page, render
        del columns.by_pk
        mairie.views.listing.queue_page = queue_page
        mairie.views.queue_rows.filters_html = filters_html
    m = {key: statistics.median(values) for key, values in samples.items() if key != "empty"}
    rest = m["total"] - m["checks"] - m["gabarit"]  # lignes and filtres included
    print(f"\nFile de la mairie, 50 lignes ({requests} requêtes, médianes, rendu Python) : "
          f"{m['total'] / m['bare']:.1f} × la vue nue (cible ≤ 3 ×)")
    for key, value in (("pré-contrôles (checks.evaluate_page)", m["checks"]), ("gabarit mairie/queue.html", m["gabarit"]),
                       ("le reste (middlewares, session, lignes, pagination)", rest)):
        print(f"- {key} : {value / m['total']:.0%} du CPU de la page, {value / m['bare']:.1f} × la vue nue")
    fixed = statistics.median(samples["empty"])
    print(f"- dont le gabarit sans ses lignes (en-tête, menu, pied de page) : {fixed / m['total']:.0%}, "
          f"{fixed / m['bare']:.1f} × la vue nue")
    for key, label in (("page", "dans le reste : la page (ses pks et le compte, une requête)"),
                       ("lignes", "dans le reste : les lignes (leurs colonnes par leurs pks, lues et imbriquées)"),
                       ("filtres", "dans le reste : les champs de filtre (gardés par processus)")):
        print(f"- {label} : {m[key] / m['total']:.0%}, {m[key] / m['bare']:.1f} × la vue nue")
    if json_out:  # for bench/load/report.py (bench/run_load.sh)
        Path(json_out).write_text(json.dumps({
            "requests": requests, "ratio": m["total"] / m["bare"], "checks": m["checks"] / m["total"],
            "gabarit": m["gabarit"] / m["total"], "rest": rest / m["total"]}))


def verdicts(name: str, flow: bool, new_ratio: float) -> str:
    if name.startswith("guichet : recherche"):
        share = 1 / new_ratio  # requests/s of the lookup ÷ requests/s of the bare view
        return f"guichet / vue nue = {share:.0%} (cible ≥ 75 %) {'PASS' if share >= 0.75 else 'MISS'}"
    if name.startswith("plancher"):
        return f"débit ÷ vue nue ≈ {1 / new_ratio:.0%} (le mieux qu'une requête authentifiée de ce genre puisse faire)"
    if name.startswith("file de la mairie"):
        return f"CPU ≤ 3 × vue nue : {'PASS' if new_ratio <= 3 else 'MISS'}"
    if flow:
        # Flow efficiency ≥ 40 %: a flow request may cost on average 2.5 bare requests.
        return f"≤ 2,5 × (efficacité du parcours ≥ 40 %, indicatif) : {'PASS' if new_ratio <= 2.5 else 'MISS'}"
    return ""


def report(pages, ratios, rounds, requests):
    print(f"\nRendu des pages de formulaire, en processus : {rounds} manches × {requests} triplets (vue nue, "
          f"gabarits DSFR, rendu Python) entrelacés par page ; CPU de ce processus ; rapports à la vue nue, "
          f"médiane des manches\n")
    old, new = columns()
    print(f"| page | {old} | {new} | gain | cible de l'issue 16 |\n|---|---|---|---|---|")
    print(f"| {BARE} | 1 | 1 | — | plafond |")
    for name, (flow, _run) in pages.items():
        r = ratios[name]
        print(f"| {name} | {r['old']:.2f} × | {r['new']:.2f} × | {r['gain']:.2f} × | {verdicts(name, flow, r['new'])} |")


def find_page(pages, page: str):
    matches = [name for name in pages if page.lower() in name.lower()]
    assert matches, f"page inconnue : {page} (pages : {', '.join(pages)})"
    return matches


def queries(bench, page: str):
    """The SQL statements of one request of the page (after one request to warm it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = bench.pages()
    for part in page.split(","):
        name = find_page(pages, part.strip())[0]
        run = pages[name][1]
        run()
        if hasattr(run, "prepare"):
            run.prepare()
        with CaptureQueriesContext(connection) as captured:
            run()
        print(f"\n### {name} : {len(captured)} instructions SQL\n")
        for q in captured:
            print(f"- {q['sql'][:300]}")


def profile(bench, page: str, requests: int, top: int, renderers=("old", "new"), callers: str | None = None,
            dump: str | None = None):
    pages = bench.pages()
    matches = find_page(pages, page)
    _flow, run = pages[matches[0]]
    for label, key in zip(columns(), ("old", "new")):
        if key not in renderers:
            continue
        use(key)
        run()
        for _ in range(requests if hasattr(run, "prepare") else 0):
            run.prepare()  # the objects the POSTs consume, made before the profile starts
        profiler = cProfile.Profile(time.process_time)  # CPU: waits on PostgreSQL and Redis are not ours
        profiler.enable()
        for _ in range(requests):
            run()
        profiler.disable()
        if dump:  # the raw stats, for pstats (e.g. print_callees of one middleware)
            profiler.dump_stats(f"{dump}.{key}.prof")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = stats.total_tt
        print(f"\n### {matches[0]} — {label} : {total / requests * 1000:.1f} ms de CPU par requête sous cProfile (horloge CPU du processus)")
        print("\nPar temps propre (tottime) :\n")
        stats.sort_stats("tottime").print_stats(top)
        print(_trim(out.getvalue()))
        out.truncate(0)
        out.seek(0)
        print("Par temps cumulé (cumtime), hors enveloppes :\n")
        stats.sort_stats("cumtime").print_stats(top * 8)
        print(_trim(out.getvalue(), skip_wrappers=True, keep=top))
        if callers:
            out.truncate(0)
            out.seek(0)
            stats.print_callers(callers)
            print("```\n" + out.getvalue().replace(str(ROOT) + "/", "").replace(
                sys.prefix + "/lib/python3.11/site-packages/", "") + "\n```")


def _trim(text: str, skip_wrappers: bool = False, keep: int = 0) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    body = [line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/python3.11/site-packages/", "")
            for line in lines[start + 1:]]
    if skip_wrappers:  # the test client, middleware and decorators wrap everything: keep the informative frames
        wrappers = ("django/test/", "django/core/handlers", "django/utils/deprecation.py", "functools",
                    "contextlib", "django/middleware", "procuration/access.py", "{built-in method builtins.exec}",
                    "bench/form_render.py", "django/views/decorators", "whitenoise", "procuration/middleware",
                    "django/template/base.py", "django/template/loader_tags.py", "django/template/backends",
                    "django/template/loader.py", "django/shortcuts.py", "django/template/defaulttags.py",
                    "allauth/account/middleware.py", "procuration/observability.py")
        body = [line for line in body if not any(w in line for w in wrappers)][:keep]
    return "```\n" + "\n".join([lines[start], *body]) + "\n```"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", action="append", help="cProfile of this page (repeatable)")
    parser.add_argument("--renderer", choices=("both", "new"), default="both",
                        help="with --profile: both renderers (default) or the product's Python renderer only")
    parser.add_argument("--dump", help="with --profile: also write the raw cProfile stats to DUMP.<n>.<renderer>.prof")
    parser.add_argument("--callers", help="with --profile: who calls the functions matching this pattern")
    parser.add_argument("--queries", help="print the SQL statements of one request of these pages (comma-separated)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--queue-phases", action="store_true", help="where the mairie queue's CPU goes")
    parser.add_argument("--json", help="with --queue-phases: write the ratios to this file")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() once the data is loaded, as gunicorn.conf.py does in each worker")
    parser.add_argument("--only", action="append", help="only the pages whose name holds this (repeatable)")
    parser.add_argument("--new-only", action="store_true", help="the Python renderer only (no template column)")
    parser.add_argument("--baseline", choices=["templates", "fragments"], default="templates",
                        help="old column: django-dsfr's templates (default), or the page without its "
                             "{% per_process %} fragments (both with the Python renderer)")
    args = parser.parse_args()
    # No setup_test_environment(): it instruments every template render (a signal and a copy of the
    # context each, for the test client), which would weigh on the templates more than on Python.
    # The mandataire step's POST is measured again and again by one user: lift its lookup limit.
    override_settings(FORM_RENDERER="__main__.SwitchRenderer", MANDANT_LOOKUPS_PER_WINDOW=10**9).enable()
    SwitchRenderer.current = RENDERERS["new"]
    BASELINE["mode"] = args.baseline
    bench = Bench()
    if args.gc_freeze:
        import gc

        gc.freeze()
    if args.queries:
        queries(bench, args.queries)
        return
    if args.profile:
        for page in args.profile:
            profile(bench, page, args.requests, args.top, ("new",) if args.renderer == "new" else ("old", "new"),
                    args.callers, args.dump and f"{args.dump}.{args.profile.index(page)}")
        return
    if args.queue_phases:
        queue_phases(bench, args.requests * args.rounds, args.json)
        return
    pages, ratios = measure(bench, args.rounds, args.requests, args.only, args.new_only)
    report(pages, ratios, args.rounds, args.requests)
    if not args.only:
        queue_phases(bench, args.requests * args.rounds)


if __name__ == "__main__":
    main()
