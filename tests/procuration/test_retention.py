"""Expiry, end of validity and purge of personal data (tasks.expire_and_purge), with time-machine."""

import datetime

import pytest
import time_machine

from procuration.models import IdentiteVerifiee, OutboxEmail, Procuration, ProcurationEvent, Status
from procuration.tasks import expire_and_purge
from tests.factories import ProcurationFactory, ScrutinFactory, UserFactory

T0 = datetime.datetime(2027, 1, 4, 10, 0, tzinfo=datetime.UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-r", policier=True)


def test_demande_expires_after_two_months_with_an_email(db, mailoutbox, django_capture_on_commit_callbacks):
    with at(T0):
        scrutin = ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=datetime.date(2027, 6, 20))
        p = ProcurationFactory(scrutin=scrutin, email_contact="marie@example.fr")
        p.soumettre()
    # Submitted on 4 January (Paris): may be validated up to 4 March included (two calendar months).
    last_minute = datetime.datetime(2027, 3, 4, 22, 59, 59, tzinfo=datetime.UTC)  # 23:59:59 in Paris
    with at(last_minute):
        assert expire_and_purge()["expirees"] == 0
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE
    with at(last_minute + datetime.timedelta(seconds=1)), django_capture_on_commit_callbacks(execute=True):
        assert expire_and_purge()["expirees"] == 1
    p.refresh_from_db()
    assert p.status == Status.EXPIREE
    assert p.ended_at == last_minute + datetime.timedelta(seconds=1)
    assert p.events.last().reason == "Non validée dans le délai de deux mois"
    assert [m.subject for m in mailoutbox if p.reference in m.subject]
    assert OutboxEmail.objects.filter(procuration=p, kind="expired").count() == 1
    # The next run expires nothing more and sends nothing more; the notice has left: the demande's data
    # are destroyed (tests/procuration/test_expiry_at_read_time.py).
    with at(T0 + datetime.timedelta(days=63)), django_capture_on_commit_callbacks(execute=True):
        assert expire_and_purge() == {"expirees": 0, "echues": 0, "purgees": 1}
    assert len([m for m in mailoutbox if m.subject == f"Demande de procuration {p.reference} expirée"]) == 1
    assert not Procuration.objects.filter(pk=p.pk).exists()


def test_validated_demande_does_not_expire(db, officer):
    with at(T0):
        scrutin = ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=datetime.date(2027, 6, 20))
        p = ProcurationFactory(scrutin=scrutin)
        p.soumettre()
        p.valider_autorite(by=officer)
    with at(T0 + datetime.timedelta(days=90)):
        assert expire_and_purge()["expirees"] == 0
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE


def test_old_brouillons_are_deleted(db):
    with at(T0):
        old = ProcurationFactory()
    with at(T0 + datetime.timedelta(days=30)):
        recent = ProcurationFactory()
    with at(T0 + datetime.timedelta(days=62)):
        expire_and_purge()
    assert not Procuration.objects.filter(pk=old.pk).exists()
    assert Procuration.objects.filter(pk=recent.pk).exists()


@pytest.mark.parametrize("trait", ["validee_autorite", "validee_mairie"])
def test_procuration_becomes_echue_after_its_validity(db, trait):
    end = datetime.date(2027, 6, 20)
    p = ProcurationFactory(**{trait: True}, scrutin=ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=end))
    with at(datetime.datetime(2027, 6, 20, 21, 0, tzinfo=datetime.UTC)):  # 23:00 in Paris, still the 20th
        assert expire_and_purge()["echues"] == 0
    with at(datetime.datetime(2027, 6, 21, 8, 0, tzinfo=datetime.UTC)):
        assert expire_and_purge()["echues"] == 1
    p.refresh_from_db()
    assert p.status == Status.ECHUE
    assert p.events.last().to_status == Status.ECHUE
    assert not OutboxEmail.objects.filter(procuration=p).exists()  # no e-mail for the natural end


def test_expired_demandes_are_purged_at_expiry_and_refused_ones_after_the_delay(
    db, settings, officer, django_capture_on_commit_callbacks
):
    settings.PROCURATION_PURGE_EXPIRED_AFTER_DAYS = 7
    with at(T0):
        scrutin = ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=datetime.date(2027, 6, 20))
        expired = ProcurationFactory(en_attente=True, scrutin=scrutin)
        with django_capture_on_commit_callbacks(execute=True):  # its notice is sent
            expired.expirer()
        refused = ProcurationFactory(en_attente=True, scrutin=scrutin)
        refused.refuser_autorite(by=officer, motif="personne_absente")
        kept = ProcurationFactory(en_attente=True, scrutin=scrutin)
    with at(T0 + datetime.timedelta(days=6)):
        expire_and_purge()
    # The expired demande's data are destroyed at once (its notice has left), the refused one's are kept.
    assert list(Procuration.objects.filter(pk__in=[expired.pk, refused.pk]).values_list("pk", flat=True)) == [refused.pk]
    with at(T0 + datetime.timedelta(days=8)):
        expire_and_purge()
    assert not Procuration.objects.filter(pk__in=[expired.pk, refused.pk]).exists()
    # Its e-mails go with it; its transition log stays in its hash chain, without the personal fields
    # (tests/procuration/test_audit_trail.py); nothing else is touched.
    assert not ProcurationEvent.objects.filter(procuration_id__in=[expired.pk, refused.pk]).exists()
    events = ProcurationEvent.objects.filter(dossier__in=[expired.pk, refused.pk])
    assert events.count() == 2 and all(e.purged and e.reason == "" and e.salt == "" for e in events)
    assert not OutboxEmail.objects.filter(procuration_id__in=[expired.pk, refused.pk]).exists()
    assert Procuration.objects.filter(pk=kept.pk).exists()


@pytest.mark.parametrize("ending", ["echoir", "resilier"])
def test_established_procuration_is_kept_one_year_after_its_end(db, ending):
    end = datetime.date(2027, 6, 20)
    p = ProcurationFactory(validee_mairie=True, scrutin=ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=end))
    with at(datetime.datetime(2027, 6, 1, 8, 0, tzinfo=datetime.UTC)):
        if ending == "resilier":  # L.75: established, so revoked with the identity checked
            p.resilier(identite=IdentiteVerifiee.france_identite(p.mandant))
        else:
            p.echoir()
    mandant_pk = p.mandant_id
    one_year_later = datetime.datetime(2028, 6, 20, 8, 0, tzinfo=datetime.UTC)  # 366 days (2028 is leap)
    with at(one_year_later - datetime.timedelta(days=1)):
        expire_and_purge()
    assert Procuration.objects.filter(pk=p.pk).exists()
    with at(one_year_later + datetime.timedelta(days=1)):
        assert expire_and_purge()["purgees"] >= 1
    assert not Procuration.objects.filter(pk=p.pk).exists()
    assert not ProcurationEvent.objects.filter(procuration_id=p.pk).exists()
    assert ProcurationEvent.objects.filter(dossier=p.pk, purged=True).count() == 1  # the chain stays
    # The register (Electeur) is not personal data of the procuration: it stays.
    from procuration.models import Electeur

    assert Electeur.objects.filter(pk=mandant_pk).exists()


@pytest.mark.parametrize("trait", ["validee_autorite", "validee_mairie"])
def test_live_procurations_are_never_purged(db, trait):
    """A procuration abroad valid three years, validated at T0: two years later, well past the
    one-year retention counted from its validation, it is still in force, so neither closed nor
    purged (retention runs from the end of validity)."""
    with at(T0):
        p = ProcurationFactory(**{trait: True}, portee="duree", scrutin=None, tour1=False, tour2=False,
                               etablissement="etranger", valid_from=datetime.date(2027, 1, 10),
                               valid_until=datetime.date(2030, 1, 9))
    with at(T0 + datetime.timedelta(days=2 * 365)):
        assert expire_and_purge() == {"expirees": 0, "echues": 0, "purgees": 0}
    assert Procuration.objects.filter(pk=p.pk, status=trait).exists()
