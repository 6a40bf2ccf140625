"""Bytes per established procuration (PostgreSQL) and per session / queued task (Redis).
Run through bench/capacity_sizes.sh (throw-away PostgreSQL and Redis); docs/ops/capacity.md keeps a run.

1. CAPACITY_K (default 300) procurations driven through the real domain flow: brouillon, soumettre
   by the mandant, valider_autorite by an OPJ, valider_mairie by the commune's agent, so events,
   outbox e-mails (sent by the eager task), audit entries and API change-log rows are written as in
   production. The communes, electors and staff exist before (the register is not a cost of a
   demande); the mandant's account is created with its demande. Every table of our apps is measured
   with pg_total_relation_size before and after: "raw" right after the flow (dead row versions of
   the updates included), "compact" after VACUUM FULL of those tables (the live rows: what a
   vacuumed table holds in the long run). Autovacuum is off during the run so it does not move
   the numbers.
2. CAPACITY_K sessions through Django's cached_db SessionStore holding what a logged-in staff session
   holds (auth keys, allauth's authentication record, the TOTP mark): Redis used_memory and the
   django_session table before and after.
3. CAPACITY_K send_outbox_email messages published to a throw-away queue on the broker: used_memory
   before and after, then the queue is deleted.
"""

import logging
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.cached_db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402

from procuration.access import TOTP_CHECKED_SESSION_KEY  # noqa: E402
from procuration.celery import app as celery_app  # noqa: E402
from procuration.models import Procuration, Status  # noqa: E402
from procuration.tasks import send_outbox_email  # noqa: E402
from tests.factories import (  # noqa: E402
    CommuneFactory,
    ElecteurFactory,
    ProcurationFactory,
    ScrutinFactory,
    UserFactory,
)

K = int(os.environ.get("CAPACITY_K", "300"))
N_COMMUNES = int(os.environ.get("CAPACITY_COMMUNES", "10"))
OUR_APPS = {"procuration", "mairie", "police", "mandant", "backoffice", "elus", "listes", "api"}
PROBE_QUEUE = "capacity-probe"


def app_tables() -> list[str]:
    from django.apps import apps

    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in OUR_APPS and not model._meta.proxy and model._meta.managed:
            tables.add(model._meta.db_table)
    return sorted(tables)


def sizes(tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            [tables],
        )
        result = dict(cursor.fetchall())
        cursor.execute("SELECT pg_database_size(current_database())")
        result["(pg_database_size)"] = cursor.fetchone()[0]
    return result


def vacuum_full(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        for t in tables:
            cursor.execute(f'VACUUM FULL "{t}"')


def used_memory(r: redis.Redis) -> int:
    return r.info("memory")["used_memory"]


def human(n: float) -> str:
    return f"{n:,.0f}".replace(",", " ")


def measure_procurations(tables: list[str]) -> None:
    scrutin = ScrutinFactory()
    communes = [CommuneFactory() for _ in range(N_COMMUNES)]
    agents = {c.pk: UserFactory(agent_mairie=True, commune=c, totp=False) for c in communes}
    policier = UserFactory(policier=True, first_name="Julie", last_name="Martin", totp=False)
    pairs = []
    for i in range(K):
        commune = communes[i % N_COMMUNES]
        pairs.append((ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)))

    vacuum_full(tables)
    before = sizes(tables)
    t = time.perf_counter()
    for i, (mandant, mandataire) in enumerate(pairs):
        account = UserFactory(username=f"capacity-mandant-{i}")
        p = ProcurationFactory(mandant=mandant, mandataire=mandataire, scrutin=scrutin,
                               email_contact=f"mandant{i}@example.fr")
        assert p.soumettre(by=account)
        assert p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="X123456")
        assert p.valider_mairie(by=agents[mandant.commune_id])
    elapsed = time.perf_counter() - t
    established = Procuration.objects.filter(status=Status.VALIDEE_MAIRIE, scrutin=scrutin).count()
    assert established == K, established
    raw = sizes(tables)
    vacuum_full(tables)
    compact = sizes(tables)

    with connection.cursor() as cursor:
        counts = {}
        for t_name in tables:
            cursor.execute(f'SELECT count(*) FROM "{t_name}"')
            counts[t_name] = cursor.fetchone()[0]

    print(f"== PostgreSQL : {K} procurations établies par le parcours du domaine ({elapsed:.1f} s) ==")
    print(f"{'table':<40} {'lignes':>8} {'brut o/proc.':>14} {'compact o/proc.':>16}")
    grown = sorted(tables, key=lambda n: compact.get(n, 0) - before.get(n, 0), reverse=True)
    total_raw = total_compact = 0
    for name in grown:
        d_raw = raw.get(name, 0) - before.get(name, 0)
        d_compact = compact.get(name, 0) - before.get(name, 0)
        total_raw += d_raw
        total_compact += d_compact
        if d_raw or d_compact:
            print(f"{name:<40} {counts[name]:>8} {human(d_raw / K):>14} {human(d_compact / K):>16}")
    print(f"{'TOTAL tables de nos apps (avec index, TOAST)':<49} {human(total_raw / K):>14} {human(total_compact / K):>16}")
    db = "(pg_database_size)"
    print(f"{'pg_database_size':<49} {human((raw[db] - before[db]) / K):>14} {human((compact[db] - before[db]) / K):>16}")


def measure_sessions(r: redis.Redis) -> None:
    staff = UserFactory(agent_mairie=True, totp=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('django_session')")
        db_before = cursor.fetchone()[0]
    mem_before = used_memory(r)
    for _ in range(K):
        s = SessionStore()
        s[SESSION_KEY] = str(staff.pk)
        s[BACKEND_SESSION_KEY] = "procuration.auth.AuthenticationBackend"
        s[HASH_SESSION_KEY] = staff.get_session_auth_hash()
        s["account_authentication_methods"] = [
            {"method": "password", "at": time.time(), "username": staff.username},
            {"method": "mfa", "at": time.time(), "id": 1, "type": "totp"},
        ]
        s[TOTP_CHECKED_SESSION_KEY] = staff.pk
        s.create()  # row in django_session, copy in the cache
    mem_after = used_memory(r)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('django_session')")
        db_after = cursor.fetchone()[0]
    keys = r.dbsize()
    print(f"\n== Sessions cached_db : {K} sessions de personnel connecté ==")
    print(f"Redis used_memory : {human((mem_after - mem_before) / K)} o/session (base du cache : {keys} clés)")
    print(f"PostgreSQL django_session : {human((db_after - db_before) / K)} o/session")


def measure_broker(r: redis.Redis) -> None:
    mem_before = used_memory(r)
    for i in range(K):
        # send_task publishes even when CELERY_TASK_ALWAYS_EAGER is set: the message sits in the queue.
        celery_app.send_task(send_outbox_email.name, args=[1_000_000 + i], queue=PROBE_QUEUE)
    queued = r.llen(PROBE_QUEUE)
    mem_after = used_memory(r)
    # The queue is a Redis list plus kombu's binding set for its exchange (named after it).
    r.delete(PROBE_QUEUE, f"_kombu.binding.{PROBE_QUEUE}")
    print(f"\n== Broker : {queued} messages send_outbox_email en file ==")
    print(f"Redis used_memory : {human((mem_after - mem_before) / K)} o/tâche en file")
    assert queued == K, queued
    assert r.llen(PROBE_QUEUE) == 0


def main() -> None:
    for name in ("celery.app.trace", "procuration.task"):
        logging.getLogger(name).setLevel(logging.WARNING)  # one line per e-mail sent in-process
    warnings.filterwarnings("ignore", message="task_always_eager has no effect on send_task")
    with connection.cursor() as cursor:
        cursor.execute("ALTER SYSTEM SET autovacuum = off")
        cursor.execute("SELECT pg_reload_conf()")
    tables = app_tables()
    measure_procurations(tables)
    measure_sessions(redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]))
    measure_broker(redis.Redis.from_url(settings.CELERY_BROKER_URL))


if __name__ == "__main__":
    main()
