"""Alerts the mairie agents choose to receive (mairie.AlertPreference).

- "Nouvelles arrivées": procurations validated by an authority and waiting for the mairie are
  announced in one grouped e-mail, at most one per ARRIVALS_INTERVAL per agent.
- "Inscriptions en retard": an ILE télédossier of the commune still waiting for the maire's decision
  five days after its filing (listes.rules.ile_decisions_overdue) is announced once to each agent,
  in one e-mail listing the newly overdue ones and the total.
- "Rappels": at J-7, J-2 and J-1 before each tour of a scrutin, while procurations for that tour
  are still waiting, one reminder per step (the last step reached is sent once, even if the
  periodic task ran late and skipped a day).

run() is called every few minutes by the beat schedule (settings.CELERY_BEAT_SCHEDULE).
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mairie.models import AlertPreference, IleOverdueNotice, ReminderSent
from mairie.registre import covers_tour
from procuration.models import Procuration, Role, Scrutin, Status, User
from procuration.outbox import schedule_email

ARRIVALS_INTERVAL = datetime.timedelta(hours=1)
REMINDER_STEPS = (7, 2, 1)  # days before the tour


def preference_for(user) -> AlertPreference:
    pref, _ = AlertPreference.objects.get_or_create(user=user)
    return pref


def reminder_step(days_left: int) -> int | None:
    """The step a reminder belongs to: 7 from J-7 to J-3, then 2, then 1; none on the day."""
    if days_left < 1 or days_left > REMINDER_STEPS[0]:
        return None
    return min(step for step in REMINDER_STEPS if step >= days_left)


def waiting_for_tour(commune_id: int, scrutin, tour: int):
    return Procuration.objects.filter(commune_id=commune_id, status=Status.VALIDEE_AUTORITE).filter(
        covers_tour(scrutin, tour)
    )


def _agents():
    return User.objects.filter(role=Role.AGENT_MAIRIE, is_active=True, commune__isnull=False).exclude(email="")


def _context(**extra):
    return {"site_url": settings.SITE_URL, "file_url": settings.SITE_URL + reverse("mairie:queue"), **extra}


def run(now=None) -> dict:
    now = now or timezone.now()
    counts = {"arrivees": 0, "rappels": 0, "inscriptions_en_retard": 0}
    agents = list(_agents().select_related("commune"))
    existing = set(AlertPreference.objects.filter(user__in=agents).values_list("user_id", flat=True))
    AlertPreference.objects.bulk_create(
        [AlertPreference(user=a, arrivals_cutoff=now) for a in agents if a.pk not in existing], ignore_conflicts=True
    )
    for agent in agents:
        if send_arrivals(agent, now):
            counts["arrivees"] += 1
        if send_ile_overdue(agent, now):
            counts["inscriptions_en_retard"] += 1
    today = timezone.localdate(now)
    horizon = today + datetime.timedelta(days=REMINDER_STEPS[0])
    scrutins = Scrutin.objects.filter(
        Q(date_tour1__gt=today, date_tour1__lte=horizon) | Q(date_tour2__gt=today, date_tour2__lte=horizon)
    )
    for scrutin in scrutins:
        for tour, date in ((1, scrutin.date_tour1), (2, scrutin.date_tour2)):
            step = reminder_step((date - today).days) if date else None
            if step is None:
                continue
            for agent in agents:
                if send_reminder(agent, scrutin, tour, step, now):
                    counts["rappels"] += 1
    return counts


def send_arrivals(agent, now) -> bool:
    with transaction.atomic():
        pref = AlertPreference.objects.select_for_update().filter(user=agent).first()
        if pref is None or not pref.nouvelles_arrivees:
            return False
        if pref.arrivals_sent_at and now - pref.arrivals_sent_at < ARRIVALS_INTERVAL:
            return False
        arrived = list(
            Procuration.objects.filter(
                commune_id=agent.commune_id, status=Status.VALIDEE_AUTORITE,
                autorite_at__gt=pref.arrivals_cutoff, autorite_at__lte=now,
            ).select_related("mandant").order_by("autorite_at")
        )
        if not arrived:
            return False
        waiting = Procuration.objects.filter(commune_id=agent.commune_id, status=Status.VALIDEE_AUTORITE).count()
        schedule_email(
            "mairie_arrivees", agent.email,
            _context(agent=agent, commune=agent.commune, arrived=arrived[:30], count=len(arrived), waiting=waiting),
            object_ref=f"mairie.AlertPreference:{pref.pk}",
        )
        pref.arrivals_sent_at = now
        pref.arrivals_cutoff = now
        pref.save(update_fields=["arrivals_sent_at", "arrivals_cutoff"])
    return True


def send_reminder(agent, scrutin, tour: int, step: int, now) -> bool:
    pref = AlertPreference.objects.filter(user=agent).first()
    if pref is None or not pref.rappels_scrutin:
        return False
    waiting = waiting_for_tour(agent.commune_id, scrutin, tour).count()
    if not waiting:
        return False
    try:
        with transaction.atomic():
            # The unique constraint is the arbiter: a second run of the same step sends nothing.
            ReminderSent.objects.create(user=agent, scrutin=scrutin, tour=tour, step=step, waiting=waiting, sent_at=now)
            schedule_email(
                "mairie_rappel", agent.email,
                _context(agent=agent, commune=agent.commune, scrutin=scrutin, tour=tour, step=step, waiting=waiting,
                         date=scrutin.date_tour1 if tour == 1 else scrutin.date_tour2),
                object_ref=f"procuration.Scrutin:{scrutin.pk}",
            )
    except IntegrityError:
        return False
    return True


def send_ile_overdue(agent, now) -> bool:
    """The commune's ILE télédossiers overdue for the maire's decision and not yet signalled to this
    agent, in one e-mail; each is then recorded (IleOverdueNotice) so it is announced once."""
    from listes.models import Teledossier
    from listes.rules import ILE_DECISION_DAYS, ile_decisions_overdue

    with transaction.atomic():
        pref = AlertPreference.objects.select_for_update().filter(user=agent).first()
        if pref is None or not pref.inscriptions_en_retard:
            return False
        overdue = ile_decisions_overdue(Teledossier.objects.filter(commune_id=agent.commune_id), now)
        new = list(
            overdue.exclude(pk__in=IleOverdueNotice.objects.filter(user=agent).values("teledossier_id"))
            .order_by("created_at", "pk")
        )
        if not new:
            return False
        IleOverdueNotice.objects.bulk_create([IleOverdueNotice(user=agent, teledossier=d, sent_at=now) for d in new])
        schedule_email(
            "mairie_ile_retard", agent.email,
            _context(agent=agent, commune=agent.commune, dossiers=new[:30], count=len(new), total=overdue.count(),
                     days=ILE_DECISION_DAYS, guichet_url=settings.SITE_URL + reverse("listes:home")
                     + "?demarche=ile&etat=retard"),
            object_ref=f"mairie.AlertPreference:{pref.pk}",
        )
    return True
