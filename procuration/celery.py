import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

app = Celery("procuration")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from procuration import observability  # noqa: E402, F401 - connects the task signals (request id, logs)
