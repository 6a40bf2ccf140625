"""The embedded default (`bash scripts/run.sh`: SQLite, tasks in process, the local mailbox) runs the
same outbox as production: an e-mail written in a transaction is in the mailbox after the commit."""

import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
from django.db import transaction
from procuration.models import OutboxEmail
from procuration.outbox import enqueue
from procuration.tasks import send_outbox_email

with transaction.atomic():  # as procuration.outbox.schedule_email: the drain asked for after the commit
    first = OutboxEmail.objects.create(kind="otp", to="lea@example.fr", subject="Code", body_text="123456")
    transaction.on_commit(lambda: enqueue(first.pk))
assert OutboxEmail.objects.get(pk=first.pk).state == "sent", OutboxEmail.objects.values().get(pk=first.pk)
second = OutboxEmail.objects.create(kind="otp", to="jean@example.fr", subject="Code", body_text="123456")
assert send_outbox_email.apply(args=(second.pk,)).get() == "sent"  # by its key: a retry, a re-queued row
assert send_outbox_email.apply(args=(second.pk,)).get() == "skipped"  # never sent twice
rows = list(OutboxEmail.objects.order_by("pk").values_list("state", "attempts", "claimed_by"))
assert rows == [("sent", 1, ""), ("sent", 1, "")], rows
print("ok")
"""


def test_the_embedded_default_sends_its_emails_to_the_local_mailbox(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DEBUG": "true", "SECRET_KEY": "test-only"}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER",
                 "REDIS_CACHE_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_BACKEND"):
        env.pop(name, None)
    run = {"cwd": settings.BASE_DIR, "env": env, "capture_output": True, "text": True, "timeout": 300}
    for step in (["migrate", "--noinput", "-v0"], ["shell", "-c", SCRIPT]):
        done = subprocess.run([sys.executable, "manage.py", *step], **run)
        assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "ok"
    mails = "".join(path.read_text() for path in (tmp_path / "mail").iterdir())
    assert "To: lea@example.fr" in mails and "To: jean@example.fr" in mails
