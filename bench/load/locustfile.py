"""Locust scenario of the load benchmark (run by bench/run_load.sh, headless, fixed duration).

User classes (chosen on the command line, one phase per locust run):
- flow: MandantUser files a demande (3 steps + confirmation) and hands the reference to an
  OfficerUser, who looks it up at the counter and validates it, then hands the procuration to
  the MairieUser of its commune, who opens the queue and the procuration and validates it.
  A flow is complete when the mairie's validation is done.
- lookup: CounterUser types references of demandes en attente at the counter (the lookup alone).
- bare: BareUser calls the bench-only bare view (one indexed SELECT), the ceiling.

Staff log in in on_start through the real login form and TOTP step (codes computed from the
secrets the loader wrote). Mandants start from a bootstrapped session (see load_data.py).
Measurements start once every user has finished on_start: the per-request samples and the
completed flows are written to BENCH_RESULT (JSON) at the end; locust's own --csv is kept too,
with ("cpu") the CPU seconds of each group of processes in BENCH_CPU_GROUPS and of locust itself,
sampled at the edges of the window (bench/load/cpu.py).
"""

import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import random
import re
import struct
import sys
import time
from collections import defaultdict, deque
from urllib.parse import urlencode

import gevent
import gevent.lock
from locust import FastHttpUser, LoadTestShape, constant, constant_pacing, events, task  # noqa: F401

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu  # noqa: E402  (bench/load/cpu.py)

DATA = json.loads(open(os.environ["BENCH_DATA"]).read())
HOST = os.environ.get("BENCH_HOST", "127.0.0.1")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REFERENCE_RE = re.compile(r'id="reference"[^>]*>\s*([A-Z0-9]{6})\s*<')

# Shared state of the single locust process (gevent: no locks needed).
# A later phase starts further in the pool (BENCH_MANDANT_OFFSET): a couple files only once.
mandant_pool = iter(DATA["mandants"][int(os.environ.get("BENCH_MANDANT_OFFSET", "0")):])
to_police: deque = deque()  # (reference, commune index)
to_mairie: dict = defaultdict(deque)  # commune index -> procuration pk
officers = iter(DATA["officers"])
FLOOR = "plancher (session d'agent + 1 entrée d'audit)"
PAGE_FLOOR = "plancher page (formulaire du guichet, GET /police/)"
LOGIN_LOCK = gevent.lock.Semaphore(1)  # staff log in one after the other, as at the start of a shift
agents = iter(DATA["agents"])
STATE = {"expected": int(os.environ.get("BENCH_EXPECTED", "1")), "ready": 0, "start": None, "stop": None, "flows": 0, "filed": 0, "police": 0}
SAMPLES: dict = defaultdict(list)  # request name -> response times (ms), measured window only
STEPS: dict = defaultdict(list)  # step name -> durations (ms), sum of the step's requests
FAILURES: dict = defaultdict(int)
# CPU of the server's processes (run_load.sh passes their root pids) and of locust itself, sampled at
# the edges of the measured window (bench/load/cpu.py).
CPU_GROUPS = {**cpu.groups_from_env(os.environ.get("BENCH_CPU_GROUPS", "")), "locust": os.getpid()}
CPU: dict = {}


def _cpu_sample(edge: str) -> None:
    if edge not in CPU and (edge == "before" or "before" in CPU):
        CPU[edge] = cpu.snapshot(CPU_GROUPS)


def measuring() -> bool:
    return STATE["start"] is not None


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kw):
    if not measuring():
        return
    if exception:
        FAILURES[name] += 1
    else:
        SAMPLES[name].append(response_time)


@events.quitting.add_listener
def _write(environment, **kw):
    STATE["stop"] = STATE["stop"] or time.time()
    _cpu_sample("after")
    out = os.environ.get("BENCH_RESULT")
    if not out:
        return
    window = (STATE["stop"] - STATE["start"]) if STATE["start"] else 0
    with open(out, "w") as fh:
        json.dump({"window": window, "state": STATE, "samples": SAMPLES, "steps": STEPS,
                   "failures": FAILURES, "cpu": cpu.diff(CPU["before"], CPU["after"]) if "after" in CPU else None},
                  fh)


@events.test_stop.add_listener
def _stop(environment, **kw):
    STATE["stop"] = STATE["stop"] or time.time()
    _cpu_sample("after")


ENV = {}
MEASURE_SECONDS = float(os.environ.get("BENCH_MEASURE_SECONDS", "60"))


@events.init.add_listener
def _init(environment, **kw):
    ENV["environment"] = environment


def _end_of_window() -> None:
    gevent.sleep(MEASURE_SECONDS)
    STATE["stop"] = time.time()
    _cpu_sample("after")
    ENV["environment"].runner.quit()


def ready() -> None:
    """Once every user has logged in, measure for BENCH_MEASURE_SECONDS, then stop locust."""
    STATE["ready"] += 1
    if STATE["ready"] >= STATE["expected"] and STATE["start"] is None:
        _cpu_sample("before")
        STATE["start"] = time.time()
        gevent.spawn(_end_of_window)


def totp(secret: str) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class BenchUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    insecure = True

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    acc = 0.0  # milliseconds spent in the current step's requests

    def get(self, path, name, expect=200):
        t = time.perf_counter()
        try:
            return self._get(path, name, expect)
        finally:
            self.acc += (time.perf_counter() - t) * 1000

    def post(self, path, name, data, expect=302):
        t = time.perf_counter()
        try:
            return self._post(path, name, data, expect)
        finally:
            self.acc += (time.perf_counter() - t) * 1000

    def _get(self, path, name, expect):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != expect:
                r.failure(f"{r.status_code} au lieu de {expect}")
                raise StepFailed(name)
            return r

    def _post(self, path, name, data, expect):
        body = urlencode({**data, "csrfmiddlewaretoken": self.csrf()})
        with self.client.post(path, name=name, data=body, headers=FORM, allow_redirects=False,
                              catch_response=True) as r:
            if r.status_code != expect:
                r.failure(f"{r.status_code} au lieu de {expect}")
                raise StepFailed(name)
            return r

    def staff_login(self, portal: str, account: dict) -> None:
        """The real login: password form, then the TOTP step (allauth MFA)."""
        with LOGIN_LOCK:
            self._staff_login(portal, account)

    def _staff_login(self, portal: str, account: dict) -> None:
        self.get(f"/{portal}/connexion/", "login")
        self.post(f"/{portal}/connexion/", "login", {"login": account["username"], "password": account["password"]})
        r = self.get("/comptes/2fa/authenticate/", "login")
        for _ in range(3):  # a code already used in this 30 s period is refused: wait for the next one
            r = self.client.post("/comptes/2fa/authenticate/", name="login", allow_redirects=False, headers=FORM,
                                 data=urlencode({"code": totp(account["totp_secret"]),
                                                 "csrfmiddlewaretoken": self.csrf()}))
            if r.status_code == 302:
                return
            gevent.sleep(10)
        raise RuntimeError(f"connexion impossible pour {account['username']}")


class StepFailed(Exception):
    pass


def timed(fn):
    """Run a step's requests; record the sum of their response times as the step's duration."""

    def wrapper(self):
        self.acc = 0.0
        try:
            done = fn(self)
        except StepFailed:
            return
        if done and measuring():
            STEPS[done].append(self.acc)

    wrapper.__name__ = fn.__name__
    return wrapper


class MandantUser(BenchUser):
    """Step 1: the mandant files the demande (validité, mandataire, récapitulatif, confirmation)."""

    fixed_count = int(os.environ.get("BENCH_MANDANTS", "6"))
    # Paced phase: each mandant starts a demande every BENCH_PACE seconds (an offered rate of
    # BENCH_MANDANTS / BENCH_PACE demandes per second, whatever the answers' speed).
    wait_time = constant_pacing(float(os.environ["BENCH_PACE"])) if os.environ.get("BENCH_PACE") else constant(0)

    def on_start(self):
        ready()

    @task
    @timed
    def demande(self):
        try:
            m = next(mandant_pool)
        except StopIteration:
            gevent.sleep(1)
            return None
        self.client.cookiejar.clear()
        self.client.cookiejar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", m["session"], None, False, HOST, False, False, "/", True, False, None, False, None,
            None, {}))
        self.get("/mandant/demande/validite/", "1 mandant 1 GET validite")
        self.post("/mandant/demande/validite/", "1 mandant 2 POST validite", {
            "portee": "scrutin", "scrutin": DATA["scrutin"], "tour1": "on", "tour2": "on", "etablissement": "france"})
        self.get("/mandant/demande/mandataire/", "1 mandant 3 GET mandataire")
        self.post("/mandant/demande/mandataire/", "1 mandant 4 POST mandataire",
                  {"mode": "nne", "nne": m["nne"], "date_naissance_nne": m["dob"]})
        self.get("/mandant/demande/recapitulatif/", "1 mandant 5 GET recapitulatif")
        r = self.post("/mandant/demande/recapitulatif/", "1 mandant 6 POST recapitulatif",
                      {"email_contact": "mandant.bench@example.fr", "attestation": "on"})
        confirmation = r.headers["Location"]  # /mandant/procurations/<pk>/confirmation/
        r = self.get(confirmation, "1 mandant 7 GET confirmation")
        found = REFERENCE_RE.search(r.text)
        if not found:
            raise StepFailed("référence absente")
        # The reference goes to the officer; the pk, to the mairie agent (who would click it in the queue).
        to_police.append((found.group(1), m["commune"], int(confirmation.strip("/").split("/")[-2])))
        if measuring():
            STATE["filed"] += 1
        return "1 mandant"


class OfficerUser(BenchUser):
    """Step 2: the officer types the reference at the counter, checks the ID and validates."""

    fixed_count = int(os.environ.get("BENCH_OFFICER_USERS", "3"))

    def on_start(self):
        self.staff_login("police", next(officers))
        ready()

    @task
    @timed
    def valider(self):
        if not to_police:
            gevent.sleep(0.05)
            return None
        reference, commune, pk = to_police.popleft()
        self.get("/police/", "2 police 1 GET guichet")
        r = self.post("/police/", "2 police 2 POST reference", {"reference": reference})
        url = r.headers["Location"]
        self.get(url, "2 police 3 GET procuration")
        self.post(url, "2 police 4 POST valider", {"action": "valider", "piece_type": "cni",
                                                  "piece_numero_fin": "AB12"})
        to_mairie[commune].append(pk)
        if measuring():
            STATE["police"] += 1
        return "2 police"


class MairieUser(BenchUser):
    """Step 3: the mairie agent opens the queue, then the procuration, and validates it."""

    fixed_count = int(os.environ.get("BENCH_MAIRIE_USERS", "2"))

    def on_start(self):
        self.account = next(agents)
        self.commune = self.account["commune"]
        self.staff_login("mairie", self.account)
        ready()

    @task
    @timed
    def valider(self):
        queue = to_mairie[self.commune]
        if not queue:
            gevent.sleep(0.05)
            return None
        pk = queue.popleft()
        self.get("/mairie/file/", "3 mairie 1 GET file")
        self.get(f"/mairie/procurations/{pk}/", "3 mairie 2 GET procuration")
        self.post(f"/mairie/procurations/{pk}/valider/", "3 mairie 3 POST valider", {})
        self.get(f"/mairie/procurations/{pk}/", "3 mairie 4 GET procuration (retour)")
        if measuring():
            STATE["flows"] += 1
        return "3 mairie"


class OfficerSessionUser(BenchUser):
    """An officer logged in at the counter before measuring: the lookup and the floor alike."""

    abstract = True
    fixed_count = int(os.environ.get("BENCH_LOOKUP_USERS", "8"))

    def on_start(self):
        self.staff_login("police", next(officers))
        self.get("/police/", "login")
        ready()


class CounterUser(OfficerSessionUser):
    """The counter lookup alone: a reference typed, the procuration found (302 to its page)."""

    @task
    def lookup(self):
        try:
            self.post("/police/", "recherche au guichet", {"reference": random.choice(DATA["lookup_refs"])})
        except StepFailed:
            pass


class FloorUser(OfficerSessionUser):
    """The floor of an audited request: an officer's session and user, one audit entry, nothing else
    (/bench/audit/, bench-only). The lookup can cost no less (docs/performance.md)."""

    @task
    def floor(self):
        try:
            self.get("/bench/audit/", FLOOR)
        except StepFailed:
            pass


class PageFloorUser(OfficerSessionUser):
    """The floor of an HTML page: the counter's form (GET /police/), the cheapest real page of the
    portals — an officer's session and user, the DSFR page around a one-field form, its CSRF token,
    no query of its own. Every page of the flow costs at least this (docs/performance.md)."""

    @task
    def page(self):
        try:
            self.get("/police/", PAGE_FLOOR)
        except StepFailed:
            pass


class BareUser(BenchUser):
    """The ceiling: a bare view doing one indexed SELECT, through the same stack."""

    fixed_count = int(os.environ.get("BENCH_BARE_USERS", "8"))

    def on_start(self):
        ready()

    @task
    def bare(self):
        try:
            self.get(f"/bench/nu/{random.choice(DATA['nnes'])}/", "vue nue (1 SELECT indexé)")
        except StepFailed:
            pass
