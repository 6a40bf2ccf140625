"""Prometheus metrics (docs/ops/operations.md).

Counted as they happen (procuration/observability.py calls observe_*):
- procuration_http_requests_total{view,method,status} and
  procuration_http_request_duration_seconds{view} (histogram);
- procuration_celery_tasks_total{task,state} and procuration_celery_task_duration_seconds{task}.

Read at scrape time (StateCollector, a few indexed queries and one Redis round trip):
- procuration_outbox_messages{state="pending"|"failed"} and
  procuration_outbox_oldest_pending_age_seconds;
- procuration_celery_queue_length{queue} (LLEN of the broker's list);
- procuration_procurations{status} (COUNT … GROUP BY status on an index, kept
  METRICS_STATUS_CACHE_SECONDS in the process: at a million rows it is the one costly read).

Multi-process servers (gunicorn with several workers): set PROMETHEUS_MULTIPROC_DIR to an empty
directory, the same for every worker of the node and wiped at each start; prometheus_client then
keeps each process's values in files there and /metrics adds them up (``multiprocess`` mode).
Without it, each process answers for itself only.
"""

import ipaddress
import os
import threading
import time

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# In multiprocess mode the values live in files, whatever registry the metrics are declared in.
_registry = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

http_requests = Counter(
    "procuration_http_requests", "HTTP requests answered, per view and status.", ["view", "method", "status"],
    registry=_registry,
)
http_latency = Histogram(
    "procuration_http_request_duration_seconds", "Time to answer a request, per view.", ["view"],
    buckets=LATENCY_BUCKETS, registry=_registry,
)
celery_tasks = Counter(
    "procuration_celery_tasks", "Celery tasks run, per task and final state.", ["task", "state"], registry=_registry,
)
celery_task_latency = Histogram(
    "procuration_celery_task_duration_seconds", "Time a task ran, per task.", ["task"],
    buckets=LATENCY_BUCKETS, registry=_registry,
)


# The labelled children of each view, method and status, kept by this process: labels() checks and
# converts its arguments and takes a lock on every call; the set of views is bounded (URL names).
_request_children: dict[tuple, tuple] = {}


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    key = (view, method, status)
    children = _request_children.get(key)
    if children is None:
        children = (http_requests.labels(view, method, str(status)), http_latency.labels(view))
        if len(_request_children) < 4096:  # the method is the client's: never an unbounded dict here
            _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def observe_task(task: str, state: str, seconds: float) -> None:
    celery_tasks.labels(task, state).inc()
    celery_task_latency.labels(task).observe(seconds)


# ------------------------------------------------------------------ read at scrape time


class StateCollector:
    """Gauges read from PostgreSQL and Redis when Prometheus scrapes."""

    def __init__(self):
        self._status_counts: tuple[float, dict[str, int]] = (0.0, {})
        self._lock = threading.Lock()

    def describe(self):
        return []  # collected lazily: nothing is read when the collector is registered

    def collect(self):
        yield from self._outbox()
        yield from self._queues()
        yield from self._procurations()

    def _outbox(self):
        from procuration.models import OutboxEmail

        pending = OutboxEmail.objects.filter(state=OutboxEmail.State.PENDING).aggregate(n=Count("pk"), oldest=Min("created_at"))
        failed = OutboxEmail.objects.filter(state=OutboxEmail.State.FAILED).count()
        messages = GaugeMetricFamily("procuration_outbox_messages", "E-mails in the outbox not sent, per state.",
                                     labels=["state"])
        messages.add_metric(["pending"], pending["n"])
        messages.add_metric(["failed"], failed)
        yield messages
        age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
        yield GaugeMetricFamily("procuration_outbox_oldest_pending_age_seconds",
                                "Age of the oldest e-mail waiting to be sent (0 when none).", value=max(age, 0.0))

    def _queues(self):
        from procuration.health import redis_client

        broker = settings.CELERY_BROKER_URL
        if not broker.startswith(("redis://", "rediss://", "unix://")):
            return
        import redis

        family = GaugeMetricFamily("procuration_celery_queue_length", "Tasks waiting in the broker, per queue.",
                                   labels=["queue"])
        try:
            client = redis_client(broker)
            for queue in settings.METRICS_CELERY_QUEUES:
                # kombu keeps one list per priority step: "celery", then "celery\x06\x163", …
                keys = [queue] + [f"{queue}\x06\x16{step}" for step in (3, 6, 9)]
                with client.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.llen(key)
                    family.add_metric([queue], sum(pipe.execute()))
        except (redis.exceptions.RedisError, OSError):
            return  # Redis down: no sample (readyz says so); the scrape itself still answers
        yield family

    def _procurations(self):
        from procuration.models import Procuration, Status

        with self._lock:
            read_at, counts = self._status_counts
            if time.monotonic() - read_at >= settings.METRICS_STATUS_CACHE_SECONDS or not counts:
                rows = Procuration.objects.order_by().values_list("status").annotate(n=Count("pk"))
                counts = {status: 0 for status in Status.values} | dict(rows)
                self._status_counts = (time.monotonic(), counts)
        family = GaugeMetricFamily("procuration_procurations", "Procurations per status.", labels=["status"])
        for status, n in sorted(counts.items()):
            family.add_metric([status], n)
        yield family

    def forget(self):
        with self._lock:
            self._status_counts = (0.0, {})


state_collector = StateCollector()
if not MULTIPROCESS:
    _registry.register(state_collector)


def exposition() -> bytes:
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(state_collector)
        return generate_latest(registry)
    return generate_latest(_registry)


def allowed(request) -> bool:
    """Loopback and METRICS_ALLOWED_IPS only, and never a request relayed by a proxy (a proxy on
    the same host connects from loopback on behalf of anyone: it adds X-Forwarded-For)."""
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_X_REAL_IP" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


@never_cache
def metrics_view(request):
    if not allowed(request):
        raise Http404  # checked first: others learn nothing, not even the allowed methods
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
