"""The lifetime of a demande: two calendar months (arrêté du 31 mars 2021).

The one home of the rule: the counter, the mandant's pages, the e-mails and the beat task
(tasks.expire_and_purge) all ask `demande_expires_on`.

Expiry is true the moment the last day is over, not when the hourly task records it: a demande
still « en attente » past its last day *is* expirée. `effective_status` (one row, in Python:
`Procuration.statut_effectif`) and `effective_status_q` / `effective_status_expression` (the same
rule in SQL: `ProcurationQuerySet.statut_effectif_in`, the counts) derive it at read time wherever
status matters; the task only records it (`Procuration.expirer`, with its event and e-mail) and
destroys the demande's data. A delay in months ends on the day of the
last month with the same number as the starting day, or on that month's last day when it has no
such number (code de procédure civile, art. 641): a demande submitted on 4 January may be
validated up to 4 March included, one submitted on 31 December up to 28 February (29 in a leap
year). It expires the day after.
"""

import calendar
import datetime
from collections.abc import Iterable

from django.db import models
from django.utils import timezone

DEMANDE_LIFETIME_MONTHS = 2


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def demande_expires_on(submitted_at: datetime.datetime | datetime.date) -> datetime.date:
    """The last day (Paris time) on which a demande submitted (or a brouillon created) at
    `submitted_at` may still be validated."""
    day = timezone.localdate(submitted_at) if isinstance(submitted_at, datetime.datetime) else submitted_at
    return add_months(day, DEMANDE_LIFETIME_MONTHS)


def is_past(submitted_at, today: datetime.date | None = None) -> bool:
    """True once the demande's last day is over."""
    return demande_expires_on(submitted_at) < (today or timezone.localdate())


def expired_before(today: datetime.date | None = None) -> datetime.datetime:
    """The moment before which every demande submitted has expired by `today`: the start (Paris
    time) of the first day whose demandes are still valid. `demande_expires_on` grows with the
    day of submission, so that day is the first one, scanning from three months back, that
    `is_past` does not reject. For the beat task's query."""
    today = today or timezone.localdate()
    day = add_months(today, -(DEMANDE_LIFETIME_MONTHS + 1))
    while is_past(day, today):
        day += datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# ------------------------------------------------------------------ the effective status
# Status values written out (models/procuration.py imports this module): « en attente » and « expirée ».
EN_ATTENTE, EXPIREE = "en_attente", "expiree"


def effective_status(status: str, submitted_at, today: datetime.date | None = None) -> str:
    """The status as the law sees it now: a demande en attente past its last day is expirée, recorded
    or not."""
    if status == EN_ATTENTE and submitted_at is not None and is_past(submitted_at, today):
        return EXPIREE
    return status


def expired_unrecorded_q(today: datetime.date | None = None) -> models.Q:
    """The demandes still « en attente » in the table whose last day is over: expirées for everyone,
    until the task records it."""
    return models.Q(status=EN_ATTENTE, submitted_at__lt=expired_before(today))


def effective_status_q(statuses: Iterable[str], today: datetime.date | None = None) -> models.Q:
    """The rows whose effective status is one of `statuses` (effective_status, in SQL)."""
    statuses = {str(s) for s in statuses}
    expired = expired_unrecorded_q(today)
    q = models.Q(status__in=statuses - {EN_ATTENTE})
    if EN_ATTENTE in statuses:
        q |= models.Q(status=EN_ATTENTE) & ~expired
    if EXPIREE in statuses:
        q |= expired
    return q


def effective_status_expression(today: datetime.date | None = None) -> models.Case:
    """effective_status as a column, for counts per status (values(statut=…).annotate(…))."""
    return models.Case(
        models.When(expired_unrecorded_q(today), then=models.Value(EXPIREE)),
        default=models.F("status"), output_field=models.CharField(),
    )
