"""One function per e-mail. Each writes into the outbox inside the current transaction."""

from django.conf import settings
from django.urls import reverse

from procuration.outbox import schedule_email


def _context(p, **extra):
    return {
        "p": p,
        "site_url": settings.SITE_URL,
        "suivi_url": settings.SITE_URL + reverse("mandant:home"),
        "expires_on": p.expires_on(),
        **extra,
    }


def reference_issued(p):
    return schedule_email("reference_issued", p.email_contact, _context(p), procuration=p)


def validated_by_authority(p):
    return schedule_email("validated_by_authority", p.email_contact, _context(p), procuration=p)


def refused_by_authority(p):
    return schedule_email("refused_by_authority", p.email_contact, _context(p), procuration=p)


def mairie_decision(p):
    return schedule_email("mairie_decision", p.email_contact, _context(p), procuration=p)


def resiliation(p):
    return schedule_email("resiliation", p.email_contact, _context(p), procuration=p)


def resiliation_mairie(p):
    """The mairie's service is told that a procuration it recorded (or is about to) no longer holds."""
    return schedule_email("resiliation_mairie", p.commune.email_service, _context(p), procuration=p)


def mandataire_established(p):
    """The mandataire notice (notify_mandataire): a procuration given to them is established."""
    return schedule_email("mandataire_established", p.email_mandataire, _mandataire_context(p), procuration=p)


def mandataire_ended(p):
    """The mandataire notice: a procuration given to them has ended (résiliée, échue, invalidée...)."""
    return schedule_email("mandataire_ended", p.email_mandataire, _mandataire_context(p), procuration=p)


def _mandataire_context(p):
    """No more than the mandataire needs: who, for which scrutin or period, where to vote. Never the
    reference (it opens the mandant's dossier at the counter) nor the mandant's birth date or NNE."""
    return {
        "p": p, "site_url": settings.SITE_URL, "fin": _fin(p),
        "confiees_url": settings.SITE_URL + reverse("mandant:confiees"),
    }


def _fin(p) -> str:
    """How an established procuration ended, in words, for the mandataire."""
    from procuration.models import Status

    if p.status == Status.RESILIEE:
        return f"a été résiliée par {p.mandant.prenoms} {p.mandant.nom.upper()}"
    if p.status == Status.ECHUE:
        return "a pris fin : sa période de validité est terminée"
    if p.status == Status.INVALIDEE_MAIRIE:
        return f"a été invalidée par la mairie {p.commune.de_nom}"
    if p.status == Status.ANNULEE:
        from procuration.models.procuration import AnnulationMotif

        motif = AnnulationMotif(p.annulation_motif).label
        return f"est nulle de plein droit : {motif[0].lower()}{motif[1:]}"
    return "a pris fin"


def annulation(p):
    """The procuration is void by law (AnnulationMotif): the mandant is told why and what to do."""
    return schedule_email("annulation", p.email_contact, _context(p), procuration=p)


def annulation_mairie(p):
    """The mairie's service is told that a procuration it recorded is void: it strikes it from the registre."""
    return schedule_email("annulation_mairie", p.commune.email_service, _context(p), procuration=p)


def expired(p):
    return schedule_email("expired", p.email_contact, _context(p), procuration=p)


def staff_activation(user, url):
    """The single-use link where a new or reset staff account chooses its password."""
    from procuration.context_processors import PORTAL_NAMES
    from procuration.views import ROLE_HOME

    portal = ROLE_HOME[user.role].split(":")[0]
    return schedule_email("staff_activation", user.email, {
        "user": user, "url": url, "hours": settings.STAFF_ACTIVATION_LINK_HOURS, "portal_name": PORTAL_NAMES[portal],
        "login_url": settings.SITE_URL + reverse(f"{portal}:login"),
    }, object_ref=f"procuration.User:{user.pk}")


def staff_email_changed(user, old_email):
    """Tell the previous address of a staff account that its address was replaced (activation
    links go to the new one)."""
    return schedule_email("staff_email_changed", old_email, {
        "user": user, "old_email": old_email, "commune": user.commune,
    }, object_ref=f"procuration.User:{user.pk}")


def contact_message(*, to: str, commune, nom: str, email: str, sujet: str, message: str, reference: str = ""):
    """A message of the contact form, for a mairie's service or the national support."""
    context = {"commune": commune, "nom": nom, "email": email, "sujet": sujet, "message": message,
               "reference": reference, "site_url": settings.SITE_URL}
    return schedule_email("contact_message", to, context,
                          object_ref=f"procuration.Commune:{commune.pk}" if commune else "support")
