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


def expired(p):
    return schedule_email("expired", p.email_contact, _context(p), procuration=p)
