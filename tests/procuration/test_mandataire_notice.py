"""Mandataire notice: when a procuration is established, and when it ends, the mandataire is informed
by e-mail if the mandant gave their address (optional), through the outbox in the transition's own
transaction; the L.75 résiliation e-mails both sides. Expectations come from tests/procuration/law.py."""

import datetime

import pytest
import time_machine
from django.db import transaction

from procuration.exceptions import DomainError
from procuration.models import IdentiteVerifiee, OutboxEmail, Procuration, Status, Verificateur
from procuration.models.procuration import ENDED_AFTER_ESTABLISHMENT, AnnulationMotif
from procuration.registry import RadiationMotif, radier_electeur
from procuration.tasks import expire_and_purge
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.procuration.law import LAW, MANDATAIRE_NOTICE_ENDS, PLAFOND_STATUSES, STATUSES
from tests.procuration.test_transitions import call, users  # noqa: F401 (fixture)

ADDRESS = "paul.lambert@example.fr"


def mandataire_kinds(p) -> list[str]:
    return list(OutboxEmail.objects.filter(procuration=p, to=ADDRESS).order_by("pk").values_list("kind", flat=True))


def expected_kind(name: str, source: str, target: str) -> str | None:
    if name == "annuler":  # test_transitions.call voids by the mandataire's death: nobody to tell
        return None
    if source not in PLAFOND_STATUSES and target in PLAFOND_STATUSES:
        return "mandataire_established"
    if source in PLAFOND_STATUSES and target in MANDATAIRE_NOTICE_ENDS:
        return "mandataire_ended"
    return None


def test_every_move_that_ends_an_established_procuration_is_in_the_law_and_the_code():
    """The "ends" set is one named constant: any move leaving an established status (a new void status
    included) must be in it, in the law's table and in the code."""
    leaving = {target for sources, target in LAW.values()
               if sources & PLAFOND_STATUSES and target not in PLAFOND_STATUSES}
    assert leaving == MANDATAIRE_NOTICE_ENDS
    assert set(ENDED_AFTER_ESTABLISHMENT) == MANDATAIRE_NOTICE_ENDS


CASES = [(name, status) for name in LAW for status in sorted(STATUSES) if status in LAW[name][0]]


@pytest.mark.parametrize("name,status", CASES)
def test_mandataire_is_emailed_on_every_move_that_establishes_or_ends_the_procuration(
    name, status, users, django_capture_on_commit_callbacks  # noqa: F811
):
    p = (ProcurationFactory(email_mandataire=ADDRESS) if status == Status.BROUILLON
         else ProcurationFactory(en_attente=True, status=status, email_mandataire=ADDRESS))
    with django_capture_on_commit_callbacks(execute=True):
        assert call(p, name, users)[0] is True
    kind = expected_kind(name, status, LAW[name][1])
    assert mandataire_kinds(p) == ([kind] if kind else []), (name, status)


def test_mandataire_is_emailed_when_the_procuration_is_established(
    users, mailoutbox, django_capture_on_commit_callbacks  # noqa: F811
):
    commune = CommuneFactory(nom="Almayrac", code_insee="81005")
    mandant = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", nne="111222333",
                              date_naissance=datetime.date(1980, 5, 12))
    p = ProcurationFactory(en_attente=True, mandant=mandant, email_mandataire=ADDRESS,
                           scrutin=ScrutinFactory(libelle="Municipales"))
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=users["policier"], piece_type="cni", piece_numero_fin="1234")
    [message] = [m for m in mailoutbox if m.to == [ADDRESS]]
    assert message.subject == "Une procuration vous est confiée"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Marie Claire DUPONT" in body and "Municipales" in body and "Bureau n° 1" in body
        assert "/mandant/confiees/" in body
    assert "commune d'Almayrac" in message.body and "mairie d'Almayrac" in message.body
    assert "commune d&#x27;Almayrac" in html
    # No more personal data than needed: not the reference (it opens the dossier at the counter),
    # not the mandant's NNE, birth date or contact address.
    for secret in (p.reference, "111222333", "12/05/1980", p.email_contact):
        assert secret not in message.body and secret not in html
    # The mairie's validation afterwards changes nothing for the mandataire: one notice only.
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_mairie(by=users["agent"])
    assert mandataire_kinds(p) == ["mandataire_established"]


def test_mandataire_is_emailed_once_when_the_commune_validates_automatically(
    users, django_capture_on_commit_callbacks  # noqa: F811
):
    p = ProcurationFactory(en_attente=True, email_mandataire=ADDRESS)
    p.commune.auto_validation = True
    p.commune.save()
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=users["policier"])
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE
    assert mandataire_kinds(p) == ["mandataire_established"]


def test_mandataire_is_emailed_when_a_procuration_established_online_with_france_identite(
    db, django_capture_on_commit_callbacks,
):
    p = ProcurationFactory(email_mandataire=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        p.etablir(IdentiteVerifiee.france_identite(p.mandant), by=None)
    assert mandataire_kinds(p) == ["mandataire_established"]


def test_mandataire_is_told_when_the_mandants_radiation_voids_an_established_procuration(
    users, mailoutbox, django_capture_on_commit_callbacks  # noqa: F811
):
    p = ProcurationFactory(validee_mairie=True, email_mandataire=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        radier_electeur(p.mandant, RadiationMotif.RADIATION)
    p.refresh_from_db()
    assert (p.status, p.annulation_motif) == (Status.ANNULEE, AnnulationMotif.RADIATION_MANDANT)
    assert mandataire_kinds(p) == ["mandataire_ended"]
    [message] = [m for m in mailoutbox if m.to == [ADDRESS]]
    assert "est nulle de plein droit : le mandant a été radié de la liste électorale" in message.body


def test_no_notice_for_a_procuration_void_at_once_over_the_plafond(
    users, django_capture_on_commit_callbacks  # noqa: F811
):
    """L.73: the act that would establish it voids it: the mandataire, who keeps the earlier ones, is
    told neither « confiée » nor « fin »."""
    mandataire = ElecteurFactory()
    for _ in range(2):
        earlier = ProcurationFactory(en_attente=True, mandataire=mandataire, etablissement="etranger",
                                     scrutin=ScrutinFactory())
        users["policier"].unite_a_l_etranger = True
        assert earlier.valider_autorite(by=users["policier"], piece_type="passeport") is True
    later = ProcurationFactory(en_attente=True, mandataire=mandataire, email_mandataire=ADDRESS,
                               scrutin=ScrutinFactory())
    with django_capture_on_commit_callbacks(execute=True):
        assert later.valider_autorite(by=users["policier"], piece_type="passeport") is True
    later.refresh_from_db()
    assert (later.status, later.annulation_motif) == (Status.ANNULEE, AnnulationMotif.PLAFOND)
    assert mandataire_kinds(later) == []


def test_mandataire_is_emailed_when_the_procuration_ends_with_its_validity(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    end = datetime.date(2027, 6, 20)
    p = ProcurationFactory(validee_mairie=True, email_mandataire=ADDRESS,
                           scrutin=ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=end))
    with time_machine.travel(datetime.datetime(2027, 6, 21, 8, 0, tzinfo=datetime.UTC), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert expire_and_purge()["echues"] == 1
    [message] = [m for m in mailoutbox if m.to == [ADDRESS]]
    assert message.subject == "Fin d'une procuration qui vous était confiée"
    assert "sa période de validité est terminée, le 21/06/2027" in message.body
    assert "Vous ne pouvez plus voter au nom de cette personne." in message.body
    # The mandant is not e-mailed for the natural end (unchanged).
    assert [m.kind for m in OutboxEmail.objects.filter(procuration=p)] == ["mandataire_ended"]


def test_resiliation_emails_both_sides_the_mandant_the_mairie_and_the_mandataire(
    users, mailoutbox, django_capture_on_commit_callbacks  # noqa: F811
):
    """L.75: when the résiliation takes effect (identity checked at the counter), both sides are told."""
    commune = CommuneFactory(nom="Almayrac", code_insee="81005")
    mandant = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire")
    p = ProcurationFactory(validee_mairie=True, mandant=mandant, email_contact="marie@example.fr",
                           email_mandataire=ADDRESS)
    p.demander_resiliation()
    assert mandataire_kinds(p) == []  # only a request: still in force, nothing to tell the mandataire
    officer = users["policier"]
    with django_capture_on_commit_callbacks(execute=True):
        p.resilier(by=officer, identite=IdentiteVerifiee(Verificateur.AUTORITE, by=officer, piece_type="cni"))
    sent = {(m.kind, m.to) for m in OutboxEmail.objects.filter(procuration=p)}
    assert sent == {("resiliation", "marie@example.fr"), ("resiliation_mairie", p.commune.email_service),
                    ("mandataire_ended", ADDRESS)}
    [message] = [m for m in mailoutbox if m.to == [ADDRESS]]
    assert "a été résiliée par Marie Claire DUPONT" in message.body
    assert "commune d'Almayrac" in message.body


def test_mairie_invalidation_tells_the_mandataire_with_the_communes_name_elided(
    users, mailoutbox, django_capture_on_commit_callbacks  # noqa: F811
):
    commune = CommuneFactory(nom="Le Mans", code_insee="72181")
    p = ProcurationFactory(validee_autorite=True, mandant=ElecteurFactory(commune=commune), email_mandataire=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        p.invalider_mairie(by=users["agent"], motif="autre", detail="Homonyme")
    [message] = [m for m in mailoutbox if m.to == [ADDRESS]]
    assert "a été invalidée par la mairie du Mans" in message.body and "commune du Mans" in message.body
    assert "Homonyme" not in message.body  # the motif is the mandant's business


def test_no_notice_without_the_mandataires_address(users, django_capture_on_commit_callbacks):  # noqa: F811
    p = ProcurationFactory(en_attente=True)
    assert p.email_mandataire == ""
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=users["policier"])
        p.resilier(identite=IdentiteVerifiee.france_identite(p.mandant))
    assert not OutboxEmail.objects.filter(procuration=p, kind__startswith="mandataire_").exists()


def test_the_notice_commits_with_the_transition_or_not_at_all(users):  # noqa: F811
    """Written in the transition's transaction: a rollback leaves no notice behind."""
    p = ProcurationFactory(en_attente=True, email_mandataire=ADDRESS)
    with pytest.raises(DomainError), transaction.atomic():
        p.valider_autorite(by=users["policier"])
        assert mandataire_kinds(p) == ["mandataire_established"]
        raise DomainError("annulé")
    assert mandataire_kinds(p) == []
    assert Procuration.objects.get(pk=p.pk).status == Status.EN_ATTENTE


def test_the_purge_destroys_the_mandataires_address(db, django_capture_on_commit_callbacks):
    """Personal data like the others: the retention purge deletes the row and its e-mails."""
    end = datetime.date(2027, 6, 20)
    p = ProcurationFactory(validee_mairie=True, email_mandataire=ADDRESS,
                           scrutin=ScrutinFactory(date_tour1=datetime.date(2027, 6, 13), date_tour2=end))
    with time_machine.travel(datetime.datetime(2027, 6, 21, 8, 0, tzinfo=datetime.UTC), tick=False):
        expire_and_purge()
    assert OutboxEmail.objects.filter(to=ADDRESS).exists()
    with time_machine.travel(datetime.datetime(2028, 6, 22, 8, 0, tzinfo=datetime.UTC), tick=False):
        expire_and_purge()
    assert not Procuration.objects.filter(pk=p.pk).exists()
    assert not OutboxEmail.objects.filter(to=ADDRESS).exists()


@pytest.mark.django_db(transaction=True)
def test_mandataire_notice_reaches_the_mandataire_through_the_worker_and_smtp(celery_worker, smtp_sink):
    """End to end with the real components: the outbox row committed with the validation, the Celery
    worker on Redis, the SMTP server on loopback."""
    from tests.factories import UserFactory
    from tests.services import wait_until

    officer = UserFactory(username="opj-n", policier=True)
    p = ProcurationFactory(en_attente=True, email_contact="", email_mandataire=ADDRESS)
    assert p.valider_autorite(by=officer, piece_type="cni")
    message = OutboxEmail.objects.get(procuration=p)
    assert (message.kind, message.to) == ("mandataire_established", ADDRESS)
    [received] = smtp_sink.wait_for(1, timeout=60)
    from email.header import decode_header, make_header

    assert received["To"] == ADDRESS
    assert str(make_header(decode_header(received["Subject"]))) == "Une procuration vous est confiée"
    assert wait_until(lambda: OutboxEmail.objects.get(pk=message.pk).state == OutboxEmail.State.SENT)
