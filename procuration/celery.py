import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

app = Celery("procuration")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from procuration import observability  # noqa: E402, F401 - connects the task signals (request id, logs)


# A worker's database connection lives as a web request's does: kept between tasks for
# DB_CONN_MAX_AGE seconds, closed when broken or left unusable (CONN_HEALTH_CHECKS), which is what
# Django's close_old_connections does around each request. Celery's own Django fixup closes it
# around every task unless CELERY_DB_REUSE_MAX is set (procuration/settings.py), and then every
# CELERY_DB_REUSE_MAX tasks whatever its state; before, each e-mail of the outbox paid a new
# PostgreSQL backend (fork, authentication, time zone, cold catalog caches: issue 16,
# docs/performance.md). Eager tasks (the embedded default, the tests) run inside the caller's
# request or transaction: their connection is the caller's, left alone.
def _database_as_for_a_request(sender=None, task=None, **kwargs):
    if getattr(getattr(task or sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


task_prerun.connect(_database_as_for_a_request, weak=False, dispatch_uid="procuration.db.prerun")
task_postrun.connect(_database_as_for_a_request, weak=False, dispatch_uid="procuration.db.postrun")
