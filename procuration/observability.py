"""One JSON line per request and per Celery task, with a request id carried from the web
request into the tasks it schedules (docs/ops/operations.md).

- The request id comes from an incoming X-Request-ID when well-formed (what a load balancer or
  nginx's $request_id gives), else a new one; it is returned in the response's X-Request-ID.
- It is published in the header ``request_id`` of every task queued while the request runs
  (before_task_publish) and set again around the task's run (task_prerun / task_postrun), so
  every log line of both carries it.
- No personal data: the request line names the view and its URL pattern (not the path or the
  query string, which may hold a reference or a name searched), the status, the duration and the
  user's numeric id; the formatter keeps only plain values from a record's extras and never the
  request object.
- Probes (/healthz, /readyz) and /metrics are logged at DEBUG.
"""

import contextvars
import datetime
import json
import logging
import re
import time
import uuid

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from django.utils.functional import empty

from procuration import metrics

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

request_logger = logging.getLogger("procuration.request")
task_logger = logging.getLogger("procuration.task")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


# ------------------------------------------------------------------ formatting

# Attributes every LogRecord has: anything else was passed in `extra`.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
_PLAIN = (str, int, float, bool, type(None))


def _install_record_factory() -> None:
    """Every record gets the request id current where it is created, whatever handler takes it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory.stamps_request_id = True
    logging.setLogRecordFactory(factory)


_install_record_factory()


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (None outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_") and isinstance(value, _PLAIN):
                line.setdefault(key, value)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# ------------------------------------------------------------------ web requests


class RequestLogMiddleware:
    """First in MIDDLEWARE: sees every request, even those an inner middleware answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if WELL_FORMED.fullmatch(incoming) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - start
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match else "<unresolved>"
            metrics.observe_request(view, request.method, response.status_code, duration)
            request_logger.log(
                logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
                "%s %s %s", request.method, view, response.status_code,
                extra={
                    "event": "request",
                    "method": request.method,
                    "view": view,
                    "route": match.route if match else None,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 1),
                    "user_id": _user_id(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def _user_id(request) -> int | None:
    """The user's numeric id if a view already loaded the user (no query added here)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


# ------------------------------------------------------------------ Celery tasks

_running: dict[str, tuple[contextvars.Token, float]] = {}


@setup_logging.connect
def _celery_logs_like_django(**kwargs):
    """Worker and beat log through Django's LOGGING (JSON lines), not Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _publish_request_id(sender=None, headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _task_starts(sender=None, task_id=None, task=None, **kwargs):
    request = getattr(task, "request", None)
    request_id = (
        getattr(request, "request_id", None)
        or (getattr(request, "headers", None) or {}).get("request_id")
        or request_id_var.get()  # eager: the task runs inside the web request
        or new_request_id()  # beat or a shell queued it
    )
    _running[task_id] = (request_id_var.set(request_id), time.perf_counter())


@task_postrun.connect
def _task_ends(sender=None, task_id=None, task=None, state=None, **kwargs):
    token, start = _running.pop(task_id, (None, None))
    try:
        duration = time.perf_counter() - start if start is not None else 0.0
        name = getattr(task, "name", str(sender))
        metrics.observe_task(name, state or "UNKNOWN", duration)
        task_logger.info(
            "task %s %s", name, state,
            extra={"event": "task", "task": name, "task_id": task_id, "state": state,
                   "duration_ms": round(duration * 1000, 1)},
        )
    finally:
        if token is not None:
            try:
                request_id_var.reset(token)
            except ValueError:  # set in another context (cannot happen with prefork or threads)
                request_id_var.set(None)
