"""L.75: the mandant may revoke at any time, but revoking an established procuration takes effect
only once the mandant's identity is checked (at the counter, or online with a certified France
Identité login). Online without that check it is only a request: the procuration stays in force."""

import pytest

from procuration import checks
from procuration.exceptions import DomainError, TransitionError
from procuration.models import IdentiteVerifiee, OutboxEmail, ProcurationEvent, Status, Verificateur
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory
from tests.procuration.law import PLAFOND_STATUSES, RESILIATION_NEEDS_IDENTITY, STATUSES


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(RESILIATION_NEEDS_IDENTITY))
def test_resiliation_of_an_established_procuration_without_identity_check_is_refused(status):
    p = ProcurationFactory(en_attente=True, status=status)
    with pytest.raises(DomainError) as excinfo:
        p.resilier(reason="Je voterai moi-même")
    assert excinfo.value.code == "identite"
    p.refresh_from_db()
    assert p.status == status and p.ended_at is None
    assert not OutboxEmail.objects.exists() and not ProcurationEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(STATUSES))
def test_online_resiliation_request_keeps_the_procuration_in_force(status):
    """demander_resiliation: only from a procuration an authority established; the status stays
    (so it still counts towards the plafond), the request is logged, nothing is e-mailed."""
    p = ProcurationFactory() if status == "brouillon" else ProcurationFactory(en_attente=True, status=status)
    mandant = UserFactory(username="mandant-r")
    if status not in RESILIATION_NEEDS_IDENTITY:
        with pytest.raises(TransitionError):
            p.demander_resiliation(by=mandant)
        p.refresh_from_db()
        assert p.resiliation_demandee_at is None
        return
    assert p.demander_resiliation(by=mandant) is True
    p.refresh_from_db()
    assert p.status == status and status in PLAFOND_STATUSES and p.resiliation_en_attente
    event = ProcurationEvent.objects.get(procuration=p)
    assert (event.from_status, event.to_status, event.actor) == (status, status, mandant)
    assert not OutboxEmail.objects.exists()
    assert p.demander_resiliation(by=mandant) is False  # asked once
    assert ProcurationEvent.objects.filter(procuration=p).count() == 1


@pytest.mark.django_db
def test_resiliation_takes_effect_with_the_identity_checked_frees_the_plafond_and_emails_both_sides(
    django_capture_on_commit_callbacks,
):
    officer = UserFactory(username="opj-r", policier=True)
    mandataire = ElecteurFactory()
    first = ProcurationFactory(validee_mairie=True, mandataire=mandataire, email_contact="m@example.fr")
    second = ProcurationFactory(en_attente=True, mandataire=mandataire, scrutin=first.scrutin, etablissement="france")
    # The plafond: one established in France already.
    assert next(r for r in checks.evaluate(second) if r.code == "plafond").ok is False
    first.demander_resiliation()
    with django_capture_on_commit_callbacks(execute=True):
        assert first.resilier(by=officer, reason="Résiliation confirmée au guichet",
                              identite=IdentiteVerifiee(Verificateur.AUTORITE, by=officer, piece_type="cni"))
    first.refresh_from_db()
    assert first.status == Status.RESILIEE and first.ended_at is not None and not first.resiliation_en_attente
    sent = dict(OutboxEmail.objects.filter(procuration=first).values_list("kind", "to"))
    assert sent == {"resiliation": "m@example.fr", "resiliation_mairie": first.commune.email_service}
    assert officer.officer_label in first.events.last().reason
    assert second.valider_autorite(by=officer, piece_type="cni")  # the plafond is free again: it stands
    second.refresh_from_db()
    assert second.status == Status.VALIDEE_AUTORITE


@pytest.mark.django_db
def test_a_pending_demande_is_withdrawn_at_once_without_identity_check():
    p = ProcurationFactory(en_attente=True, email_contact="m@example.fr")
    assert p.resilier(reason="Demande retirée") is True
    assert p.status == Status.RESILIEE
    assert list(OutboxEmail.objects.values_list("kind", flat=True)) == ["resiliation"]
