"""Celery tasks of the mairie portal. They take primary keys and re-read their rows."""

import logging

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from mairie import alerts, registre
from mairie.models import ExportJob

logger = logging.getLogger(__name__)


def _progress(job_pk: int, value: int) -> None:
    ExportJob.objects.filter(pk=job_pk).update(progress=max(0, min(100, value)))


@shared_task(acks_late=True)
def build_registre(job_pk: int) -> str:
    """Build the registre file of an export job, updating its progress as bureaux are done."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",)).select_related("commune", "scrutin", "bureau")
            .filter(pk=job_pk, state=ExportJob.State.PENDING, kind=ExportJob.Kind.REGISTRE).first()
        )
        if job is None:
            return "skipped"
        job.state = ExportJob.State.RUNNING
        job.save(update_fields=["state"])
    try:
        # Collecting the rows is the first 20 %, rendering the rest.
        read_at = timezone.now()
        secs = registre.sections(
            job.commune, job.scrutin, job.tour, job.bureau, job.nouveaux_seulement,
            on_section=lambda i, n: _progress(job_pk, 20 * i // max(n, 1)),
        )
        if job.format == ExportJob.Format.CSV:
            content = registre.build_csv(secs)
        else:
            content = registre.build_pdf(
                secs, commune=job.commune, scrutin=job.scrutin, tour=job.tour,
                on_page=lambda i, n: _progress(job_pk, 20 + 75 * i // max(n, 1)),
            )
        with transaction.atomic():
            job.file.save(job.filename, ContentFile(content), save=False)
            job.total = sum(len(s.rows) for s in secs)
            job.state = ExportJob.State.DONE
            job.progress = 100
            job.finished_at = timezone.now()
            job.save(update_fields=["file", "total", "state", "progress", "finished_at"])
            registre.record_prints(job, secs, read_at=read_at)
    except Exception as exc:
        logger.exception("Registre export %s failed", job_pk)
        ExportJob.objects.filter(pk=job_pk).update(
            state=ExportJob.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return "failed"
    return "done"


@shared_task(acks_late=True)
def build_list(job_pk: int) -> str:
    """The CSV of the filtered queue or of search results, read again from the job's filters with
    the requester's scope (mairie.listing), progress updated every 200 rows."""
    from mairie import listing

    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",)).select_related("commune", "requested_by")
            .filter(pk=job_pk, state=ExportJob.State.PENDING).exclude(kind=ExportJob.Kind.REGISTRE).first()
        )
        if job is None:
            return "skipped"
        job.state = ExportJob.State.RUNNING
        job.save(update_fields=["state"])
    try:
        content, total = listing.build_csv(
            listing.queryset_for_export(job),
            on_progress=lambda done, n: _progress(job_pk, 95 * done // max(n, 1)),
        )
        with transaction.atomic():
            job.file.save(job.filename, ContentFile(content), save=False)
            job.total = total
            job.state = ExportJob.State.DONE
            job.progress = 100
            job.finished_at = timezone.now()
            job.save(update_fields=["file", "total", "state", "progress", "finished_at"])
    except Exception as exc:
        logger.exception("List export %s failed", job_pk)
        ExportJob.objects.filter(pk=job_pk).update(
            state=ExportJob.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return "failed"
    return "done"


@shared_task
def send_mairie_alerts() -> dict:
    """Grouped "new arrivals" e-mails (at most one an hour per agent) and J-7/J-2/J-1 reminders."""
    return alerts.run()
