import datetime
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from mairie import alerts
from mairie.models import AlertPreference
from mairie.tasks import send_mairie_alerts
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(day, hour, minute=0):
    return datetime.datetime(2027, 3, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def run(mailoutbox, django_capture_on_commit_callbacks):
    """Run the periodic task at a frozen instant; return the e-mails it sent."""

    def _run(when):
        before = len(mailoutbox)
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            send_mairie_alerts.delay()
        return mailoutbox[before:]

    return _run


def test_task_is_in_the_beat_schedule():
    assert any(e["task"] == "mairie.tasks.send_mairie_alerts" for e in settings.CELERY_BEAT_SCHEDULE.values())


def test_grouped_arrivals_at_most_one_email_per_hour_per_agent(run, commune, agent_mairie, agent_mairie_b):
    quiet = UserFactory(username="agent-quiet", agent_mairie=True, commune=commune)
    scrutin = ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=datetime.date(2027, 6, 20))

    def arrive(when):
        with time_machine.travel(when, tick=False):
            return ProcurationFactory(validee_autorite=True, commune=commune, scrutin=scrutin,
                                      mandant=ElecteurFactory(commune=commune))

    assert run(at(1, 10)) == []  # nothing has arrived yet
    AlertPreference.objects.filter(user=quiet).update(nouvelles_arrivees=False)
    first = arrive(at(1, 10, 2))
    sent = run(at(1, 10, 5))
    assert [m.to for m in sent] == [[agent_mairie.email]]
    assert sent[0].subject == "1 nouvelle procuration à contrôler — mairie d'Almayrac"
    assert first.reference in sent[0].body

    second = arrive(at(1, 10, 20))
    assert run(at(1, 10, 25)) == []  # less than an hour after the last e-mail
    sent = run(at(1, 11, 6))
    assert len(sent) == 1
    assert second.reference in sent[0].body and first.reference not in sent[0].body
    assert "2 procurations en attente de contrôle au total." in sent[0].body
    assert run(at(1, 12, 30)) == []  # nothing new


def test_reminders_at_j7_j2_j1_once_each_while_items_wait(run, commune, agent_mairie, agent_mairie_b):
    scrutin = ScrutinFactory(libelle="Municipales 2027", date_tour1=datetime.date(2027, 3, 14),
                             date_tour2=datetime.date(2027, 3, 21))
    run(at(1, 8))  # preferences created
    AlertPreference.objects.filter(user=agent_mairie).update(nouvelles_arrivees=False)
    with time_machine.travel(at(2, 9), tick=False):
        p = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=scrutin, tour2=False,
                               mandant=ElecteurFactory(commune=commune))

    def subjects(when):
        return [m.subject for m in run(when) if m.to == [agent_mairie.email]]

    assert subjects(at(6, 9)) == []  # J-8
    assert subjects(at(7, 9)) == ["Rappel — scrutin dans 7 jours ou moins : 1 procuration en attente (Almayrac)"]
    assert subjects(at(7, 15)) == []  # same step, already sent
    assert subjects(at(9, 9)) == []  # J-5: still the J-7 step
    assert subjects(at(12, 9)) == ["Rappel urgent — scrutin dans 2 jours : 1 procuration en attente (Almayrac)"]
    sent = run(at(13, 9))
    assert [m.subject for m in sent] == ["Dernier rappel — scrutin demain : 1 procuration en attente (Almayrac)"]
    assert "le scrutin a lieu demain" in sent[0].body and "dimanche 14 mars 2027" in sent[0].body
    assert subjects(at(13, 18)) == []
    assert subjects(at(14, 9)) == []  # the day itself; tour 2 has nothing waiting
    # The other commune has nothing waiting: its agent got nothing.
    assert p.commune_id != agent_mairie_b.commune_id


def test_no_reminder_once_nothing_waits_or_when_opted_out(run, commune, agent_mairie):
    scrutin = ScrutinFactory(date_tour1=datetime.date(2027, 3, 14), date_tour2=None)
    run(at(1, 8))
    with time_machine.travel(at(2, 9), tick=False):
        p = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=scrutin, mandant=ElecteurFactory(commune=commune))
    AlertPreference.objects.filter(user=agent_mairie).update(rappels_scrutin=False, nouvelles_arrivees=False)
    assert run(at(7, 9)) == []
    AlertPreference.objects.filter(user=agent_mairie).update(rappels_scrutin=True)
    with time_machine.travel(at(8, 9), tick=False):
        p.valider_mairie(by=agent_mairie)
    assert run(at(12, 9)) == []


def test_reminder_step():
    assert [alerts.reminder_step(d) for d in (9, 8, 7, 5, 3, 2, 1, 0, -1)] == [None, None, 7, 7, 7, 2, 1, None, None]


def test_agent_chooses_alerts(client, agent_mairie):
    client.force_login(agent_mairie)
    assert client.get(reverse("mairie:alertes")).status_code == 200
    client.post(reverse("mairie:alertes"), {"rappels_scrutin": "on"})
    pref = AlertPreference.objects.get(user=agent_mairie)
    assert (pref.nouvelles_arrivees, pref.rappels_scrutin) == (False, True)


def test_inscriptions_non_decidees_apres_5_jours_dans_les_alertes_de_la_commune(run, commune, agent_mairie,
                                                                              agent_mairie_b, mandant_user):
    """An ILE still undecided 5 days after its filing (L.18) is announced once to each agent of the
    commune (listes.rules.ile_decisions_overdue), not to another commune's, not after opting out."""
    from listes.models import Teledossier

    quiet = UserFactory(username="agent-quiet-ile", agent_mairie=True, commune=commune)

    def ile(numero, filed, **kw):
        with time_machine.travel(filed, tick=False):
            return Teledossier.objects.create(
                numero=numero, demarche="ile", commune=kw.pop("commune", commune), usager=mandant_user,
                email="u@example.fr", nom="DURAND", prenoms="Léa", sexe="F", date_naissance=datetime.date(2000, 1, 1),
                lieu_naissance="Albi", adresse="1 rue", code_postal="81190", ville="Almayrac", **kw)

    first = ile("A-9-RETARD01", at(1, 10))
    ile("A-9-AILLEURS", at(1, 10), commune=agent_mairie_b.commune)
    ile("A-9-DECIDEE1", at(1, 10), etat="clos", decision="refusee", motif_refus="x")
    assert run(at(1, 11)) == []  # preferences are created on the first run
    AlertPreference.objects.filter(user=quiet).update(inscriptions_en_retard=False)
    assert [m for m in run(at(6, 9, 59)) if "inscription" in m.subject] == []  # 4 days 23 h 59: in time
    sent = {m.to[0]: m for m in run(at(6, 10)) if "inscription" in m.subject}
    assert set(sent) == {agent_mairie.email, agent_mairie_b.email}  # each commune its own; not the opted-out
    assert "A-9-AILLEURS" in sent[agent_mairie_b.email].body and first.numero not in sent[agent_mairie_b.email].body
    sent = [sent[agent_mairie.email]]
    assert sent[0].subject == "1 inscription non décidée après 5 jours — mairie d'Almayrac"
    assert first.numero in sent[0].body and "A-9-AILLEURS" not in sent[0].body and "A-9-DECIDEE1" not in sent[0].body
    assert "article L.18" in sent[0].body and "etat=retard" in sent[0].body
    assert [m for m in run(at(6, 12)) if "inscription" in m.subject] == []  # announced once
    second = ile("A-9-RETARD02", at(2, 8))
    sent = [m for m in run(at(7, 8, 5)) if "inscription" in m.subject]
    assert [m.to for m in sent] == [[agent_mairie.email]] and second.numero in sent[0].body and first.numero not in sent[0].body
    assert "2 demandes d'inscription en retard au total." in sent[0].body
