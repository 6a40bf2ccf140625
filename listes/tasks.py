"""Celery tasks of the listes portal."""

from celery import shared_task


@shared_task
def purge_listes() -> dict:
    """The retention purge of télédossiers and pièces (listes.retention, docs/listes.md)."""
    from listes.retention import purge

    return purge()
