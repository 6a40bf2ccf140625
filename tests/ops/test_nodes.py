"""Several nodes on one PostgreSQL and one Redis: two gunicorn instances behind nginx, two Celery
workers and two beats, as separate processes (docs/ops/capacity.md, README « The full stack »).

The nodes use the test database (the tests are transaction=True, so what they write is
committed and seen by the nodes), the Redis cache database of the tests (sessions' copies and
rate limits are shared, as in production) and a broker database of their own, so that the
in-process test worker of tests/conftest.py never takes their tasks.
"""

import datetime
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils.crypto import get_random_string
from prometheus_client.parser import text_string_to_metric_families

from procuration.beat import LOCK_KEY
from procuration.models import OutboxEmail, Procuration, Status
from tests.conftest import Client, SmtpSink
from tests.factories import ElecteurFactory, ScrutinFactory, UserFactory
from tests.services import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BROKER_DB = 5
LOOKUP_LIMIT = 3


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, tmp: Path, secret_key: str, smtp_port: int):
        info = connection.settings_dict
        redis_port = os.environ["REDIS_PORT"]
        self.tmp = tmp
        self.broker_url = f"redis://127.0.0.1:{redis_port}/{BROKER_DB}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{info['USER']}@{info['HOST']}:{info['PORT']}/{info['NAME']}",
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false", "SECRET_KEY": secret_key, "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false", "SECURE_HSTS_SECONDS": "0",
            "STATIC_MANIFEST": "false", "WHITENOISE_USE_FINDERS": "true",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "POLICE_LOOKUP_LIMIT": str(LOOKUP_LIMIT),
            "OUTBOX_STUCK_AFTER_SECONDS": "3600",
            "BEAT_LOCK_TTL_SECONDS": "3", "BEAT_LOCK_RETRY_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.web = {}

    def start(self, name, args, **env):
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=log,
                                            start_new_session=True)

    def log(self, name) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def start_web(self, name, workers, **env):
        port = free_port()
        self.web[name] = f"http://127.0.0.1:{port}"
        self.start(name, [str(ROOT / ".venv/bin/gunicorn"), "procuration.wsgi:application", "--bind",
                          f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"], **env)

    def start_nginx(self):
        port = free_port()
        upstreams = "\n".join(f"server {url.removeprefix('http://')} max_fails=1 fail_timeout=60s;"
                              for url in self.web.values())
        d = self.tmp
        (d / "nginx.conf").write_text(f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/nginx-body; proxy_temp_path {d}/nginx-proxy;
  fastcgi_temp_path {d}/nginx-fcgi; uwsgi_temp_path {d}/nginx-uwsgi; scgi_temp_path {d}/nginx-scgi;
  upstream app {{ {upstreams} }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Request-ID $request_id;
      proxy_next_upstream error timeout;
    }}
  }}
}}
""")
        self.start("nginx", ["nginx", "-c", str(d / "nginx.conf"), "-e", str(d / "nginx-error.log")])
        self.front = f"http://127.0.0.1:{port}"

    def start_celery(self, name, *args):
        self.start(name, [str(ROOT / ".venv/bin/celery"), "-A", "procuration", *args])

    def kill(self, name):
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def answers(url) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, django_db_setup, django_db_blocker):
    if not (os.environ.get("REDIS_PORT") and os.environ.get("PG_BIN")):
        pytest.skip("run through scripts/test.sh")
    if not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is installed by scripts/test.sh")
    secret = get_random_string(50)
    sink = SmtpSink().start()
    broker = redis.Redis.from_url(f"redis://127.0.0.1:{os.environ['REDIS_PORT']}/{BROKER_DB}")
    broker.flushdb()
    tmp = tmp_path_factory.mktemp("cluster")
    with django_db_blocker.unblock():
        c = Cluster(tmp, secret, sink.port)
    c.sink, c.broker = sink, broker
    try:
        # Node A has two gunicorn workers sharing their metrics (multiprocess mode), node B one.
        c.start_web("web-a", 2, PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics-a"))
        c.start_web("web-b", 1)
        c.start_nginx()
        for name in ("worker-1", "worker-2"):
            c.start_celery(name, "worker", "-P", "threads", "-c", "2", "-n", f"{name}@%h", "--without-gossip",
                           "--without-mingle", "--without-heartbeat")
        for name in ("beat-1", "beat-2"):
            c.start_celery(name, "beat", "-s", str(tmp / f"{name}-schedule"))
        for name, url in (*c.web.items(), ("nginx", c.front)):
            assert wait_until(lambda url=url: answers(url + "/healthz"), timeout=120), c.log(name)[-3000:]
        with override_settings(SECRET_KEY=secret):  # sessions made by the tests' client open on the nodes
            yield c
    finally:
        c.stop()
        sink.stop()
        broker.flushdb()


# ------------------------------------------------------------------ helpers


def logged_in(user) -> requests.Session:
    """A browser session for `user`: the session row made by Django's test client (same database,
    same cache, same SECRET_KEY as the nodes)."""
    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    return http


def csrf_post(http, base, path, data, **kw):
    page = http.get(base + path, timeout=20, allow_redirects=False)
    assert page.status_code == 200, (path, page.status_code)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return http.post(base + path, data={**data, "csrfmiddlewaretoken": token}, timeout=20,
                     allow_redirects=False, headers={"Referer": base + path})


def mandant_with_mandataire(commune, n):
    electeur = ElecteurFactory(commune=commune, nom=f"NOM{n}", prenoms=f"Prenom{n}", sexe="F",
                               date_naissance=datetime.date(1980, 1, 1) + datetime.timedelta(days=n))
    user = UserFactory(username=f"node-mandant-{n}", first_name=electeur.prenoms, last_name=electeur.nom,
                       birthdate=electeur.date_naissance, gender=electeur.sexe,
                       birthplace=electeur.code_lieu_naissance, birthcountry=electeur.code_pays_naissance)
    mandataire = ElecteurFactory(commune=commune, nne=f"{700000000 + n}", sexe="M",
                                 date_naissance=datetime.date(1970, 1, 1) + datetime.timedelta(days=n))
    return user, mandataire


VALIDITE = reverse("mandant:demande_validite")
MANDATAIRE = reverse("mandant:demande_mandataire")
RECAP = reverse("mandant:demande_recapitulatif")


def steps_1_and_2(http, base, scrutin, mandataire):
    r = csrf_post(http, base, VALIDITE, {"portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "tour2": "on",
                                         "etablissement": "france"})
    assert r.status_code == 302 and r.headers["Location"] == MANDATAIRE, r.text[:500]
    r = csrf_post(http, base, MANDATAIRE, {"mode": "nne", "nne": mandataire.nne,
                                           "date_naissance_nne": mandataire.date_naissance.isoformat()})
    assert r.status_code == 302 and r.headers["Location"] == RECAP, r.text[:500]


def metric(body, name, **labels):
    return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


# ------------------------------------------------------------------ the tests


def test_a_session_opened_on_one_node_goes_on_on_the_other(cluster, commune):
    scrutin = ScrutinFactory()
    user, mandataire = mandant_with_mandataire(commune, 1)
    http = logged_in(user)
    a, b = cluster.web["web-a"], cluster.web["web-b"]
    # Step 1 on A, step 2 on B (it needs step 1's choice, kept in the session), step 3 on A.
    r = csrf_post(http, a, VALIDITE, {"portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "tour2": "on",
                                      "etablissement": "france"})
    assert r.status_code == 302 and r.headers["Location"] == MANDATAIRE
    r = csrf_post(http, b, MANDATAIRE, {"mode": "nne", "nne": mandataire.nne,
                                        "date_naissance_nne": mandataire.date_naissance.isoformat()})
    assert r.status_code == 302 and r.headers["Location"] == RECAP
    r = csrf_post(http, a, RECAP, {"email_contact": "m1@example.fr", "attestation": "on"})
    assert r.status_code == 302
    p = Procuration.objects.get(mandant_user=user)
    assert p.status == Status.EN_ATTENTE and p.mandataire == mandataire
    # Its e-mail is sent once, by one of the two workers.
    assert len(cluster.sink.wait_for(1, timeout=60)) >= 1
    assert wait_until(lambda: OutboxEmail.objects.get(procuration=p).state == "sent", timeout=60)
    assert [m["To"] for m in cluster.sink.messages].count("m1@example.fr") == 1


def test_rate_limits_count_across_nodes(cluster, policier):
    http = logged_in(policier)
    nodes = [cluster.web["web-a"], cluster.web["web-b"]]
    home = reverse("police:home")
    codes = [csrf_post(http, nodes[i % 2], home, {"reference": "ZZZZZZ"}).status_code for i in range(LOOKUP_LIMIT + 2)]
    # Each node alone would allow LOOKUP_LIMIT lookups: together they allowed LOOKUP_LIMIT.
    assert codes == [200] * LOOKUP_LIMIT + [429, 429], codes


def test_an_outbox_email_raced_by_both_workers_is_sent_once(cluster, commune):
    from procuration.celery import app

    messages = [OutboxEmail.objects.create(kind="reference", to=f"race{i}@example.fr", subject=f"Course {i}",
                                           body_text="b") for i in range(4)]
    before = len(cluster.sink.messages)
    # Five deliveries of each message, taken by both workers at once, published to the nodes'
    # broker (a Celery app's broker argument loses to CELERY_BROKER_URL: pass the connection).
    with app.connection_for_write(cluster.broker_url) as broker:
        for _ in range(5):
            for m in messages:
                app.send_task("procuration.tasks.send_outbox_email", args=[m.pk], connection=broker)
    assert cluster.broker.llen("celery") + cluster.broker.hlen("unacked") > 0 or \
        OutboxEmail.objects.filter(state="sent").exists()
    assert wait_until(lambda: OutboxEmail.objects.filter(state="sent").count() == 4, timeout=120)
    assert wait_until(lambda: cluster.broker.llen("celery") == 0 and cluster.broker.hlen("unacked") == 0,
                      timeout=120)
    received = sorted(m["To"] for m in cluster.sink.messages[before:])
    assert received == [f"race{i}@example.fr" for i in range(4)]
    logs = cluster.log("worker-1") + cluster.log("worker-2")
    assert "worker-1@" in cluster.log("worker-1") and logs.count('"state": "SUCCESS"') >= 20


def test_killing_a_web_node_mid_load_loses_no_demande_and_a_retry_never_doubles(cluster, commune):
    """Demandes submitted through nginx while node B is killed: the browser retries a failed POST
    (a 502, or the connection cut); every mandant ends with exactly one procuration."""
    scrutin = ScrutinFactory()
    people = [mandant_with_mandataire(commune, 100 + i) for i in range(12)]
    sessions = []
    for user, mandataire in people:
        http = logged_in(user)
        steps_1_and_2(http, cluster.front, scrutin, mandataire)  # through nginx, any node
        sessions.append(http)
    submitted = []

    def submit(http):
        # Like a browser: the form's page is loaded once, then the same POST (same CSRF token) is sent
        # again after a 502 or a cut connection. A retry must not re-read the page: if the lost attempt
        # did commit, the draft is gone and the page now redirects. The client retries for up to ≈ 20 s:
        # nginx may still send a few requests to the dead node before it marks it down, and a loaded CI
        # machine answers slowly.
        token = None
        for _attempt in range(40):
            try:
                if token is None:
                    page = http.get(cluster.front + RECAP, timeout=20, allow_redirects=False)
                    if page.status_code != 200:
                        time.sleep(0.5)
                        continue
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
                r = http.post(cluster.front + RECAP, timeout=20, allow_redirects=False,
                              headers={"Referer": cluster.front + RECAP},
                              data={"email_contact": "n@example.fr", "attestation": "on",
                                    "csrfmiddlewaretoken": token})
            except requests.RequestException:
                time.sleep(0.5)
                continue
            if r.status_code == 302 or (r.status_code == 200 and "déjà une procuration" in r.text):
                submitted.append(r.status_code)
                return r.status_code
            if r.status_code >= 500:
                time.sleep(0.5)
                continue
            return r.status_code
        return None

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(submit, http) for http in sessions]
        assert wait_until(lambda: len(submitted) >= 3, timeout=120)
        cluster.kill("web-b")
        results = [f.result(timeout=300) for f in futures]
    assert None not in results, results
    for user, _ in people:
        assert Procuration.objects.filter(mandant_user=user).exclude(status=Status.BROUILLON).count() == 1, user

    # Double submit: the same POST sent twice at once (double click, or a retry racing the first).
    user, mandataire = mandant_with_mandataire(commune, 200)
    http = logged_in(user)
    steps_1_and_2(http, cluster.front, scrutin, mandataire)
    page = http.get(cluster.front + RECAP, timeout=20)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    data = {"email_contact": "d@example.fr", "attestation": "on", "csrfmiddlewaretoken": token}
    with ThreadPoolExecutor(2) as pool:
        answers_ = list(pool.map(lambda _: http.post(cluster.web["web-a"] + RECAP, data=data, timeout=30,
                                                     allow_redirects=False), range(2)))
    assert all(r.status_code in (200, 302) for r in answers_) and any(r.status_code == 302 for r in answers_)
    assert Procuration.objects.filter(mandant_user=user).exclude(status=Status.BROUILLON).count() == 1


def test_only_one_beat_runs_and_the_other_takes_over_when_it_dies(cluster):
    def lock_lines(name):
        return [line for line in cluster.log(name).splitlines() if "Beat lock" in line]

    assert wait_until(lambda: all(lock_lines(n) for n in ("beat-1", "beat-2")), timeout=60)
    holders = [n for n in ("beat-1", "beat-2") if "taken" in lock_lines(n)[0]]
    assert len(holders) == 1, {n: lock_lines(n) for n in ("beat-1", "beat-2")}
    holder = holders[0]
    other = "beat-2" if holder == "beat-1" else "beat-1"
    assert "held by another beat" in lock_lines(other)[0]
    assert cluster.broker.get(LOCK_KEY) is not None
    cluster.kill(holder)
    assert wait_until(lambda: any("taken" in line for line in lock_lines(other)), timeout=60), lock_lines(other)


def test_metrics_add_up_the_workers_of_a_node(cluster):
    a = cluster.web["web-a"]
    before = metric(requests.get(a + "/metrics", timeout=10).text, "procuration_http_requests_total",
                    view="accessibilite", status="200")
    for _ in range(10):  # new connections: spread over node A's two workers
        assert requests.get(a + reverse("accessibilite"), timeout=10).status_code == 200
    body = requests.get(a + "/metrics", timeout=10).text
    assert metric(body, "procuration_http_requests_total", view="accessibilite", status="200") - before == 10
    # Through nginx (X-Forwarded-For set): refused.
    assert requests.get(cluster.front + "/metrics", timeout=10).status_code == 404
