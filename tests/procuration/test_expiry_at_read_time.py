"""Expiry (arrêté du 31 mars 2021): a demande not validated within two calendar months is expirée the
moment its last day is over, for every reader, before the hourly task records it; the task records
it, destroys its data at once, and purges established procurations one year after their validity.

Frozen clock (time-machine, Paris time): submitted on 4 January 2027, the demande may be validated
up to 4 March 2027 included and is expirée from 5 March 00:00.
"""

import datetime
import re
import subprocess
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from mairie import listing
from procuration import checks
from procuration.celery import app
from procuration.exceptions import DomainError, TransitionError
from procuration.models import AnnulationMotif, OutboxEmail, Procuration, ProcurationEvent, Status
from procuration.tasks import expire_and_purge, send_outbox_email
from tests.api.conftest import Api, make_key
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.police._helpers import text
from tests.procuration.law import STATUSES

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SUBMITTED = (2027, 1, 4, 11, 0)
LAST_MINUTE = (2027, 3, 4, 23, 59, 59)
FIRST_MINUTE = (2027, 3, 5, 0, 0)


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


@pytest.fixture
def scrutin(db):
    return ScrutinFactory(date_tour1=datetime.date(2028, 6, 11), date_tour2=datetime.date(2028, 6, 18))


@pytest.fixture
def demande(mandant_electeur, mandant_user, scrutin):
    """The mandant's demande for both tours, submitted on 4 January 2027 and never validated."""
    with at(*SUBMITTED):
        p = ProcurationFactory(mandant=mandant_electeur, mandant_user=mandant_user, scrutin=scrutin,
                               email_contact="marie@example.fr")
        p.soumettre(by=mandant_user)
    return p


def badge(html: str) -> str:
    """The status badge of a mandant page (mandant/_status.html)."""
    return re.search(r'<span class="fr-badge[^"]*">([^<]*)</span>', html).group(1)


def assert_not_recorded(p):
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE
    assert not ProcurationEvent.objects.filter(procuration=p, to_status=Status.EXPIREE).exists()


# ------------------------------------------------------------------ read time: every reader
def test_an_expired_demande_shows_expiree_to_the_mandant_before_the_job_runs(client, mandant_user, demande, tmp_path):
    home, detail = reverse("mandant:home"), reverse("mandant:detail", args=[demande.pk])
    with at(*LAST_MINUTE):
        client.force_login(mandant_user)
        assert badge(text(client.get(home))) == "En attente de validation"
        page = text(client.get(detail))
        assert "au plus tard le 04/03/2027" in page and 'id="resilier"' in page
    with at(*FIRST_MINUTE):
        client.force_login(mandant_user)
        assert badge(text(client.get(home))) == "Expirée"
        page = text(client.get(detail))
        assert badge(page) == "Expirée" and "En attente de validation" not in badge(page)
        assert "la demande devait être validée au plus tard le 04/03/2027. Elle a expiré" in page
        assert 'id="resilier"' not in page
        # Nothing to withdraw any more: refused, and nothing changes.
        response = client.post(reverse("mandant:resilier", args=[demande.pk]), follow=True)
        assert "ne peut plus être résiliée (statut : Expirée)" in text(response)
        pdf = tmp_path / "r.pdf"
        pdf.write_bytes(client.get(reverse("mandant:recepisse", args=[demande.pk])).content)
        pdf_text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Statut au 05/03/2027 à 00:00 : Expirée" in " ".join(pdf_text.split())
    assert_not_recorded(demande)


def test_an_expired_demande_does_not_block_a_new_one_for_the_same_tour(mandant_electeur, mandant_user, demande,
                                                                        scrutin):
    """One procuration per tour binds the mandant (checks.raise_for_demande at soumettre): a demande
    en attente does, up to its last day; the day after it no longer does, job or no job."""
    with at(*LAST_MINUTE):
        second = ProcurationFactory(mandant=mandant_electeur, mandant_user=mandant_user, scrutin=scrutin)
        with pytest.raises(DomainError) as excinfo:
            second.soumettre(by=mandant_user)
        assert excinfo.value.code == "doublon" and demande.reference in excinfo.value.message
    second.refresh_from_db()
    assert second.status == Status.BROUILLON
    with at(*FIRST_MINUTE):
        assert checks.evaluate(second)[3].ok  # the live check of the mandant's form says so too
        assert second.soumettre(by=mandant_user)
    second.refresh_from_db()
    assert second.status == Status.EN_ATTENTE and second.reference != demande.reference
    assert_not_recorded(demande)


def test_an_expired_demande_cannot_be_validated_refused_withdrawn_or_voided_before_the_job_runs(demande, policier):
    """The state machine judges the effective status: only the task's `expirer` moves it (a void by
    law, `annuler`, only ends a demande still pending: an expired one is already over)."""
    with at(*FIRST_MINUTE):
        for move in (
            lambda: demande.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234"),
            lambda: demande.refuser_autorite(by=policier, motif="personne_absente"),
            lambda: demande.resilier(by=demande.mandant_user),
            lambda: demande.annuler(motif=AnnulationMotif.DECES_MANDATAIRE),
        ):
            with pytest.raises(TransitionError) as excinfo:
                move()
            assert "dont le statut est « Expirée »" in excinfo.value.message
    assert_not_recorded(demande)
    assert demande.autorite_at is None and demande.refus_motif == "" and demande.annulation_motif == ""


def test_the_mairie_sees_an_expired_demande_as_expiree_before_the_job_runs(client, agent_mairie, demande):
    search, dossier = reverse("mairie:search"), reverse("mairie:detail", args=[demande.pk])
    with at(*LAST_MINUTE):
        client.force_login(agent_mairie)
        assert f'data-reference="{demande.reference}"' in text(client.get(search, {"q": demande.reference,
                                                                                   "status": "en_attente"}))
    with at(*FIRST_MINUTE):
        client.force_login(agent_mairie)
        found = {s: f'data-reference="{demande.reference}"' in text(client.get(search, {"q": demande.reference,
                                                                                        "status": s}))
                 for s in ("en_attente", "expiree")}
        assert found == {"en_attente": False, "expiree": True}
        assert '<strong id="status">Expirée</strong>' in text(client.get(dossier))
        home = text(client.get(reverse("mairie:home")))
        assert "<td>Expirée</td><td>1</td>" in home and "<td>En attente de validation</td>" not in home
        queue = listing.queue_queryset(agent_mairie, listing.queue_form(agent_mairie, {"status": "expiree"}))
        assert list(queue) == [demande]
        assert listing.csv_row(queue[0])[1] == "Expirée"
    assert_not_recorded(demande)


def test_the_api_gives_an_expired_demande_as_expiree_before_the_job_runs(commune, commune_admin, demande):
    from api.models import Scope

    api = Api(make_key(commune, [Scope.PROCURATIONS_READ], commune_admin))
    url = reverse("api:procuration", args=[demande.pk])
    with at(*LAST_MINUTE):
        assert api.get(url).json()["status"] == "en_attente"
    with at(*FIRST_MINUTE):
        body = api.get(url).json()
        assert (body["status"], body["status_label"]) == ("expiree", "Expirée")
        listed = {s: [r["id"] for r in api.get("/api/v1/procurations/", {"status": s}).json()["results"]]
                  for s in ("en_attente", "expiree")}
        assert listed == {"en_attente": [], "expiree": [demande.pk]}
    assert_not_recorded(demande)


@pytest.mark.parametrize(("submitted", "last_day"), [
    ((2027, 1, 4, 11, 0), (2027, 3, 4)),
    ((2026, 12, 31, 23, 30), (2027, 2, 28)),  # no 31 February
    ((2027, 12, 31, 0, 10), (2028, 2, 29)),  # leap year
])
def test_the_effective_status_is_the_same_for_one_row_and_for_a_list(db, submitted, last_day):
    """Procuration.statut_effectif (Python) and ProcurationQuerySet.statut_effectif_in (SQL) agree on
    both sides of the last day, from the one rule of procuration.expiry."""
    with at(*submitted):
        p = ProcurationFactory(en_attente=True)
    for moment, expected in (((*last_day, 23, 59, 59), Status.EN_ATTENTE),
                             ((*(datetime.date(*last_day) + datetime.timedelta(days=1)).timetuple()[:3], 0, 0),
                              Status.EXPIREE)):
        with at(*moment):
            p.refresh_from_db()
            assert p.statut_effectif == expected
            assert list(Procuration.objects.statut_effectif_in(expected).values_list("pk", flat=True)) == [p.pk]
            other = Status.EXPIREE if expected == Status.EN_ATTENTE else Status.EN_ATTENTE
            assert not Procuration.objects.statut_effectif_in(other).exists()
            counts = {r["statut"]: r["n"] for r in Procuration.objects.counts_by_statut_effectif()}
            assert counts == {expected: 1}


@pytest.mark.parametrize("status", sorted(STATUSES - {"brouillon", "en_attente"}))
def test_only_a_demande_en_attente_expires_at_read_time(db, status):
    """Submitted on 4 January, read on 1 June: only a demande « en attente » becomes expirée; a
    procuration annulée, échue, refusée, validée... keeps its own status, for one row and in SQL."""
    with at(*SUBMITTED):
        p = ProcurationFactory(en_attente=True, status=status)
    with at(2027, 6, 1, 12, 0):
        p.refresh_from_db()
        assert p.statut_effectif == status
        assert list(Procuration.objects.statut_effectif_in(status).values_list("pk", flat=True)) == [p.pk]
        assert {r["statut"]: r["n"] for r in Procuration.objects.counts_by_statut_effectif()} == {status: 1}


# ------------------------------------------------------------------ the job: record, destroy, purge
@pytest.mark.django_db(transaction=True)
def test_an_expired_demandes_personal_data_are_destroyed_at_expiry(client, mandant_user, demande, mailoutbox):
    """Real commits (transaction=True): the notice is sent right after the expiry commits (in-process tasks,
    the embedded default), so the same run destroys the demande."""
    with at(*LAST_MINUTE):
        assert expire_and_purge() == {"expirees": 0, "echues": 0, "purgees": 0}
    assert_not_recorded(demande)
    mailoutbox.clear()  # the reference, at submission
    with at(*FIRST_MINUTE):
        assert expire_and_purge() == {"expirees": 1, "echues": 0, "purgees": 1}
    # The mandant was told, then the demande was destroyed in the same run: its row, its e-mails, the
    # personal fields of its events (the chain keeps what happened, pseudonymised).
    assert [m.subject for m in mailoutbox] == [f"Demande de procuration {demande.reference} expirée"]
    assert not Procuration.objects.filter(pk=demande.pk).exists()
    assert not OutboxEmail.objects.filter(procuration_id=demande.pk).exists()
    events = ProcurationEvent.objects.filter(dossier=demande.pk).order_by("seq")
    assert [e.to_status for e in events] == [Status.EN_ATTENTE, Status.EXPIREE]
    assert all(e.purged and e.reason == "" and e.procuration_id is None for e in events)
    with at(*FIRST_MINUTE):
        client.force_login(mandant_user)
        assert demande.reference not in text(client.get(reverse("mandant:home")))


def test_an_expired_demande_waits_for_its_notice_before_being_destroyed(demande, mailoutbox):
    """The e-mail that tells the mandant is still in the outbox (broker slow or down): the data stay until
    it has left, then the next run destroys them."""
    with at(*FIRST_MINUTE):
        assert expire_and_purge() == {"expirees": 1, "echues": 0, "purgees": 0}  # on_commit never ran
    demande.refresh_from_db()
    assert demande.status == Status.EXPIREE
    notice = OutboxEmail.objects.get(procuration=demande, kind="expired", state=OutboxEmail.State.PENDING)
    with at(2027, 3, 5, 0, 30):
        assert send_outbox_email(notice.pk) == "sent"
    with at(2027, 3, 5, 1, 0):
        assert expire_and_purge()["purgees"] == 1
    assert not Procuration.objects.filter(pk=demande.pk).exists()
    assert len(mailoutbox) == 1


def test_the_scheduled_task_expires_destroys_and_purges_on_both_sides_of_each_limit(
    db, demande, django_capture_on_commit_callbacks
):
    """The beat schedule (procuration/settings.py, sent by procuration.beat.SingleBeatScheduler) runs the
    task every hour; run as the worker runs it, it records the expiry and destroys the demande, and purges
    an established procuration one year after the end of its validity, not a day before."""
    entry = settings.CELERY_BEAT_SCHEDULE["expire-and-purge"]
    assert entry == {"task": "procuration.tasks.expire_and_purge", "schedule": 3600.0}
    task = app.tasks[entry["task"]]
    # Established for 1 and 2 June 2027 (valid until 2 June 2027), ended: kept PROCURATION_RETENTION_DAYS
    # (365) days, through 1 June 2028 (2028 is leap), purged from 2 June.
    established = ProcurationFactory(validee_mairie=True, status=Status.ECHUE, portee="duree", scrutin=None,
                                     tour1=False, tour2=False, valid_from=datetime.date(2027, 6, 1),
                                     valid_until=datetime.date(2027, 6, 2),
                                     mandant=ElecteurFactory(commune=demande.commune))
    with at(*LAST_MINUTE):
        assert task.apply().get() == {"expirees": 0, "echues": 0, "purgees": 0}
    with at(*FIRST_MINUTE), django_capture_on_commit_callbacks(execute=True):
        assert task.apply().get() == {"expirees": 1, "echues": 0, "purgees": 0}  # the notice leaves after commit
    with at(2027, 3, 5, 1, 0):
        assert task.apply().get() == {"expirees": 0, "echues": 0, "purgees": 1}  # the next hour
    assert not Procuration.objects.filter(pk=demande.pk).exists()
    with at(2028, 6, 1, 23, 59, 59):  # valid_until + 365 days = 1 June 2028: not yet
        assert task.apply().get()["purgees"] == 0
    assert Procuration.objects.filter(pk=established.pk).exists()
    with at(2028, 6, 2, 0, 0):
        assert task.apply().get()["purgees"] == 1
    assert not Procuration.objects.filter(pk=established.pk).exists()


def test_the_mandants_list_shows_every_expired_demande_without_a_query_per_row(client, mandant_user, mandant_electeur):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        with at(*SUBMITTED):
            for _ in range(n):
                ProcurationFactory(en_attente=True, mandant=mandant_electeur, mandant_user=mandant_user)

    def home():
        with at(*FIRST_MINUTE):
            client.force_login(mandant_user)
            client.get(reverse("mandant:home"))  # the session's first request
            with CaptureQueriesContext(connection) as queries:
                html = text(client.get(reverse("mandant:home")))
        return len(queries), html.count('fr-badge--warning">Expirée</span>')

    add(1)
    one = home()
    add(4)
    assert home() == (one[0], 5) and one[1] == 1


def test_the_mandataires_death_after_expiry_voids_nothing_of_an_expired_demande(demande):
    """The register voids a demande pending (procuration.registry.radier_electeur); one past its two months is
    already expirée, recorded or not: nothing to void, and the import does not fail on it."""
    from procuration.registry import RadiationMotif, radier_electeur

    with at(*FIRST_MINUTE):
        assert radier_electeur(demande.mandataire, RadiationMotif.DECES) == []
    assert_not_recorded(demande)
    assert demande.annulation_motif == ""
