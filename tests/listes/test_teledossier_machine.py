"""The télédossier's state machine (listes.models), move by move and from every state: what each move
does when allowed (state, event, e-mail, closing date, return value) and the exact refusal otherwise.
Expectations are literal tables, not read from listes.models.TRANSITIONS."""

import datetime

import pytest
import time_machine

from api.models import Change
from listes.models import Teledossier, TeledossierEvent
from procuration.exceptions import DomainError, TransitionError
from procuration.models import OutboxEmail
from tests.factories import UserFactory

AT = datetime.datetime(2027, 1, 11, 10, 30, tzinfo=datetime.UTC)

# can(name) by démarche and état: the rule, written out.
CAN = {
    ("ile", "transmis"): {"recevoir": True, "clore": False, "accepter": True, "refuser": True},
    ("ile", "recu"): {"recevoir": False, "clore": False, "accepter": True, "refuser": True},
    ("ile", "clos"): {"recevoir": False, "clore": False, "accepter": False, "refuser": False},
    ("rco", "transmis"): {"recevoir": True, "clore": True, "accepter": False, "refuser": False},
    ("rco", "recu"): {"recevoir": False, "clore": True, "accepter": False, "refuser": False},
    ("rco", "clos"): {"recevoir": False, "clore": False, "accepter": False, "refuser": False},
}

CLOS_ILE = "Une demande d'inscription se clôt en l'acceptant ou en la refusant."
NOT_RCO = "Cette action ne concerne que les demandes d'inscription sur les listes électorales."


def deposer(commune, demarche="ile", usager=None, **extra):
    usager = usager or UserFactory()
    data = dict(demarche=demarche, commune=commune, nom="LEROY", prenoms="Anne", sexe="F",
                date_naissance=datetime.date(1990, 3, 4), lieu_naissance="Albi", adresse="3 rue des Lilas",
                code_postal="81190", ville="Almayrac")
    data.update(extra)
    return Teledossier.deposer(usager=usager, pieces=[], **data)


def in_state(commune, agent, demarche, etat):
    d = deposer(commune, demarche)
    if etat == "recu":
        assert d.recevoir(by=agent, comment="Reçu.") is True
    elif etat == "clos":
        closing = d.refuser(by=agent, motif="Pièce illisible.") if demarche == "ile" else d.clore(by=agent, comment="Fin.")
        assert closing is True
    assert d.etat == etat
    return d


def move(d, name, agent):
    if name == "refuser":
        return d.refuser(by=agent, motif="Justificatif de domicile trop ancien.", comment="Votre demande est refusée.")
    return getattr(d, name)(by=agent, comment=f"Commentaire de l'action {name}.")


def emails(d):
    return list(OutboxEmail.objects.filter(object_ref=f"listes.Teledossier:{d.pk}").order_by("pk")
                .values_list("kind", flat=True))


@pytest.mark.parametrize("demarche, etat", list(CAN))
def test_can_by_demarche_and_etat(commune, agent_listes, demarche, etat):
    d = in_state(commune, agent_listes, demarche, etat)
    assert {name: d.can(name) for name in ("recevoir", "clore", "accepter", "refuser")} == CAN[(demarche, etat)]
    assert d.est_clos is (etat == "clos")
    assert d.est_ile is (demarche == "ile")


# (démarche, état, move) -> the état reached, or the exception and its exact message; "same" for a replay
# that changes nothing and says so (False).
OUTCOMES = {
    ("ile", "transmis", "recevoir"): "recu",
    ("ile", "transmis", "clore"): (DomainError, CLOS_ILE),
    ("ile", "transmis", "accepter"): "clos",
    ("ile", "transmis", "refuser"): "clos",
    ("ile", "recu", "recevoir"): "same",
    ("ile", "recu", "clore"): (DomainError, CLOS_ILE),
    ("ile", "recu", "accepter"): "clos",
    ("ile", "recu", "refuser"): "clos",
    ("ile", "clos", "recevoir"): (TransitionError, "Impossible de marquer comme reçu un dossier dont l'état est « Dossier clos »."),
    ("ile", "clos", "clore"): (TransitionError, "Impossible de clore un dossier dont l'état est « Dossier clos »."),
    ("ile", "clos", "accepter"): (TransitionError, "Impossible d'accepter un dossier dont l'état est « Dossier clos »."),
    ("ile", "clos", "refuser"): (TransitionError, "Impossible de refuser un dossier dont l'état est « Dossier clos »."),
    ("rco", "transmis", "recevoir"): "recu",
    ("rco", "transmis", "clore"): "clos",
    ("rco", "transmis", "accepter"): (DomainError, NOT_RCO),
    ("rco", "transmis", "refuser"): (DomainError, NOT_RCO),
    ("rco", "recu", "recevoir"): "same",
    ("rco", "recu", "clore"): "clos",
    ("rco", "recu", "accepter"): (DomainError, NOT_RCO),
    ("rco", "recu", "refuser"): (DomainError, NOT_RCO),
    ("rco", "clos", "recevoir"): (TransitionError, "Impossible de marquer comme reçu un dossier dont l'état est « Dossier clos »."),
    ("rco", "clos", "clore"): (TransitionError, "Impossible de clore un dossier dont l'état est « Dossier clos »."),
    ("rco", "clos", "accepter"): (TransitionError, "Impossible d'accepter un dossier dont l'état est « Dossier clos »."),
    ("rco", "clos", "refuser"): (TransitionError, "Impossible de refuser un dossier dont l'état est « Dossier clos »."),
}


@pytest.mark.parametrize("demarche, etat, name", list(OUTCOMES))
def test_each_move_from_each_state(commune, agent_listes, demarche, etat, name):
    d = in_state(commune, agent_listes, demarche, etat)
    before = (d.etat, d.closed_at, d.decision, d.electeur_id, d.events.count(), emails(d),
              Change.objects.filter(object_id=d.pk).count())
    expected = OUTCOMES[(demarche, etat, name)]
    with time_machine.travel(AT, tick=False):
        if isinstance(expected, tuple):
            error, message = expected
            with pytest.raises(error) as excinfo:
                move(d, name, agent_listes)
            assert type(excinfo.value) is error
            assert excinfo.value.message.endswith(message)
            assert excinfo.value.message.startswith(("Impossible de ", "Impossible d'")) == (error is TransitionError)
            result = None
        else:
            result = move(d, name, agent_listes)
    d.refresh_from_db()
    after = (d.etat, d.closed_at, d.decision, d.electeur_id, d.events.count(), emails(d),
             Change.objects.filter(object_id=d.pk).count())
    if expected == "same" or isinstance(expected, tuple):
        assert result is (False if expected == "same" else None)
        assert after == before  # nothing written, nobody e-mailed
        return
    assert result is True
    assert d.etat == expected
    event = d.events.order_by("pk").last()
    assert (event.action, event.from_state, event.to_state, event.actor) == (name, etat, expected, agent_listes)
    assert event.at == AT
    assert d.events.count() == before[4] + 1
    assert Change.objects.filter(object_id=d.pk, event=f"teledossier.{name}", state=expected).count() == 1
    kind = "listes_decision" if name in ("accepter", "refuser") else "listes_changement_etat"
    assert emails(d) == before[5] + [kind]
    if expected == "clos":
        assert d.closed_at == AT
    else:
        assert d.closed_at is None
    assert d.decision == {"accepter": "acceptee", "refuser": "refusee"}.get(name, "")
    assert (d.electeur_id is not None) is (name == "accepter")


def test_a_refusal_without_comment_sends_the_motif_and_with_one_sends_the_comment(commune, agent_listes):
    d = deposer(commune)
    assert d.refuser(by=agent_listes, motif="  Domicile hors de la commune.  ") is True
    d.refresh_from_db()
    assert (d.motif_refus, d.events.last().comment) == ("Domicile hors de la commune.", "Domicile hors de la commune.")
    d2 = deposer(commune)
    d2.refuser(by=agent_listes, motif="Domicile hors de la commune.", comment="Nous ne pouvons pas vous inscrire.")
    d2.refresh_from_db()
    assert (d2.motif_refus, d2.events.last().comment) == ("Domicile hors de la commune.",
                                                          "Nous ne pouvons pas vous inscrire.")


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_a_move_without_comment_changes_nothing(commune, agent_listes, comment):
    d = deposer(commune, "rco")
    for name in ("recevoir", "clore"):
        with pytest.raises(DomainError, match="Rédigez un commentaire pour l'usager"):
            getattr(d, name)(by=agent_listes, comment=comment)
    d.refresh_from_db()
    assert (d.etat, d.events.count()) == ("transmis", 1)


def test_the_usager_sees_only_the_comments_not_the_filing(commune, agent_listes):
    d = deposer(commune, "rco")
    assert list(d.comments()) == []
    d.recevoir(by=agent_listes, comment="  Dossier reçu.  ")
    assert [e.comment for e in d.comments()] == ["Dossier reçu."]
    assert [e.comment for e in TeledossierEvent.objects.filter(teledossier=d).order_by("pk")] == ["", "Dossier reçu."]


def test_the_instance_moved_is_the_row_read_under_lock(commune, agent_listes):
    """A move reads the row again: a stale instance (another agent closed it) is refused, and a
    replay leaves the instance as the row is."""
    d = deposer(commune, "rco")
    stale = Teledossier.objects.get(pk=d.pk)
    d.clore(by=agent_listes, comment="Fin.")
    with pytest.raises(TransitionError):
        stale.recevoir(by=agent_listes, comment="Reçu.")
    assert stale.etat == "transmis"  # unchanged when refused
    d2 = deposer(commune, "rco")
    stale2 = Teledossier.objects.get(pk=d2.pk)
    d2.recevoir(by=agent_listes, comment="Reçu.")
    assert stale2.recevoir(by=agent_listes, comment="Encore.") is False
    assert stale2.etat == "recu" and stale2.closed_at is None


@pytest.mark.parametrize("name, args", [
    ("recevoir", ("Reçu.",)),
    ("clore", ("Fin.",)),
    ("accepter", ("Bienvenue.",)),
    # Two texts: positionally, the motif notified and the comment could be swapped without a word.
    ("refuser", ("Votre demande est refusée.", "Justificatif de domicile trop ancien.")),
])
def test_a_move_takes_the_agent_and_its_texts_by_keyword_only(commune, agent_listes, name, args):
    d = deposer(commune, "rco" if name in ("recevoir", "clore") else "ile")
    filed = emails(d)
    with pytest.raises(TypeError, match="positional argument"):
        getattr(d, name)(agent_listes, *args)
    d.refresh_from_db()
    assert (d.etat, d.decision, d.motif_refus, d.events.count(), emails(d)) == ("transmis", "", "", 1, filed)
    # The same move by keyword is made (its body runs, so scripts/mutation.sh's selection of the tests
    # for a mutant of this signature includes this test).
    keywords = ({"motif": "Justificatif de domicile trop ancien.", "comment": "Votre demande est refusée."}
                if name == "refuser" else {"comment": args[0]})
    assert getattr(d, name)(by=agent_listes, **keywords) is True
    d.refresh_from_db()
    assert (d.events.count(), d.motif_refus) == (
        2, "Justificatif de domicile trop ancien." if name == "refuser" else "")


def test_filing_takes_the_usager_and_the_pieces_by_keyword_only(commune, mandant_b):
    data = dict(demarche="rco", commune=commune, nom="LEROY", prenoms="Anne", sexe="F",
                date_naissance=datetime.date(1990, 3, 4), lieu_naissance="Albi", adresse="3 rue des Lilas",
                code_postal="81190", ville="Almayrac")
    with pytest.raises(TypeError, match="positional argument"):
        Teledossier.deposer(mandant_b, [], **data)
    assert not Teledossier.objects.exists()
    assert Teledossier.deposer(usager=mandant_b, pieces=[], **data).usager == mandant_b
