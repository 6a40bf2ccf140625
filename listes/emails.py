"""One function per e-mail of the listes portal. Each writes into the outbox inside the current transaction."""

from django.conf import settings
from django.urls import reverse

from procuration.outbox import schedule_email


def _context(d, **extra):
    return {
        "d": d,
        "site_url": settings.SITE_URL,
        "espace_url": settings.SITE_URL + reverse("listes:usager_dossier", args=[d.numero]),
        "guichet_url": settings.SITE_URL + reverse("listes:dossier", args=[d.numero]),
        **extra,
    }


def _ref(d) -> str:
    return f"listes.Teledossier:{d.pk}"


def depot_usager(d):
    """Confirmation to the usager, with the télédossier number."""
    return schedule_email("listes_depot", d.email, _context(d), object_ref=_ref(d))


def nouveau_teledossier(d):
    """To the commune's service instructeur: the number and a link to the guichet de suivi.
    Without a service address, each active agent of the commune's guichet is written to."""
    from procuration.models import Role, User

    recipients = [d.commune.email_service] if d.commune.email_service else list(
        User.objects.filter(role=Role.AGENT_LISTES, commune_id=d.commune_id, is_active=True)
        .exclude(email="").values_list("email", flat=True)
    )
    return [
        schedule_email("listes_nouveau_teledossier", to, _context(d), object_ref=_ref(d)) for to in recipients
    ]


def changement_etat(d, event):
    """To the usager: the new state and the mairie's comment."""
    return schedule_email("listes_changement_etat", d.email, _context(d, event=event), object_ref=_ref(d))


def decision(d, event):
    """To the usager: the ILE decision; a refusal carries its reason and the recours."""
    return schedule_email("listes_decision", d.email, _context(d, event=event), object_ref=_ref(d))
