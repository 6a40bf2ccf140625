"""Every transition from every status: allowed moves work, the others raise.

The expectations are the law's table written out in tests/procuration/law.py, never read from production
(procuration.models.procuration.TRANSITIONS): a wrong table in the code must fail these tests."""

import datetime

import pytest
from django.utils import timezone

from procuration.exceptions import DomainError, TransitionError
from procuration.models import (
    AnnulationMotif,
    IdentiteVerifiee,
    InvalidationMotif,
    OutboxEmail,
    Procuration,
    ProcurationEvent,
    RefusMotif,
    Status,
    Verificateur,
)
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory
from tests.procuration.law import LAW, RESILIATION_NEEDS_IDENTITY, STATUSES

EMAIL_KIND = {
    "soumettre": "reference_issued",
    "valider_autorite": "validated_by_authority",
    "refuser_autorite": "refused_by_authority",
    "valider_mairie": "mairie_decision",
    "invalider_mairie": "mairie_decision",
    "resilier": "resiliation",
    "expirer": "expired",
    "echoir": None,
    "annuler": "annulation",
}


def make(status: str) -> Procuration:
    if status == Status.BROUILLON:
        return ProcurationFactory()
    return ProcurationFactory(en_attente=True, status=status)


def call(p: Procuration, name: str, users: dict):
    """Call transition `name` with the arguments a portal would give; returns (result, actor)."""
    if name == "soumettre":
        return p.soumettre(by=users["mandant"]), users["mandant"]
    if name == "valider_autorite":
        return p.valider_autorite(by=users["policier"], piece_type="cni", piece_numero_fin="X123456"), users["policier"]
    if name == "refuser_autorite":
        return p.refuser_autorite(by=users["policier"], motif=RefusMotif.PIECE_INVALIDE), users["policier"]
    if name == "valider_mairie":
        return p.valider_mairie(by=users["agent"]), users["agent"]
    if name == "invalider_mairie":
        return p.invalider_mairie(by=users["agent"], motif=InvalidationMotif.AUTRE, detail="Homonyme"), users["agent"]
    if name == "resilier":
        if p.status in RESILIATION_NEEDS_IDENTITY:  # L.75: established, so revoked at the counter
            identite = IdentiteVerifiee(Verificateur.AUTORITE, by=users["policier"], piece_type="cni")
            return p.resilier(by=users["policier"], identite=identite, reason="Je voterai moi-même"), users["policier"]
        return p.resilier(by=users["mandant"], reason="Je voterai moi-même"), users["mandant"]
    if name == "expirer":
        return p.expirer(), None
    if name == "echoir":
        return p.echoir(), None
    if name == "annuler":  # void by law: an event of the register, no one decides it
        return p.annuler(motif=AnnulationMotif.DECES_MANDATAIRE), None
    raise AssertionError(name)


@pytest.fixture
def users(db):
    return {
        "mandant": UserFactory(username="mandant-t"),
        "policier": UserFactory(username="opj-t", policier=True, first_name="Julie", last_name="Martin"),
        "agent": UserFactory(username="agent-t", agent_mairie=True),
    }


CASES = [(name, status) for name in LAW for status in sorted(STATUSES)]


def test_the_statuses_are_those_of_the_table():
    """A status added in the code must be placed in the law's table above."""
    assert set(Status.values) == STATUSES


@pytest.mark.parametrize(("name", "status"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_transition_from_every_status(name, status, users, django_capture_on_commit_callbacks):
    sources, target = LAW[name]
    p = make(status)
    before = {f.attname: getattr(p, f.attname) for f in Procuration._meta.concrete_fields}

    if status in sources:
        result, actor = call(p, name, users)
        assert result is True
        p.refresh_from_db()
        assert p.status == target
        event = ProcurationEvent.objects.get(procuration=p)
        assert (event.from_status, event.to_status) == (status, target)
        assert event.actor_id == (actor.pk if actor else None)
        if name in ("refuser_autorite", "invalider_mairie", "resilier", "expirer", "echoir", "annuler"):
            assert event.reason
        kinds = list(OutboxEmail.objects.filter(procuration=p).values_list("kind", flat=True))
        expected = [EMAIL_KIND[name]] if EMAIL_KIND[name] else []
        if name == "resilier" and status in RESILIATION_NEEDS_IDENTITY:
            expected.append("resiliation_mairie")  # the mairie strikes it from its registre
        if name == "annuler" and status == "validee_mairie":
            expected.append("annulation_mairie")  # the mairie had it on its registre
        assert sorted(kinds) == sorted(expected)
        terminal = target in (Status.REFUSEE_AUTORITE, Status.INVALIDEE_MAIRIE, Status.RESILIEE, Status.EXPIREE,
                              Status.ECHUE, Status.ANNULEE)
        assert (p.ended_at is not None) == terminal
        if target != Status.EN_ATTENTE:
            assert p.reference == before["reference"]
        else:
            assert p.reference and p.submitted_at
    elif status == target:
        result, _ = call(p, name, users)
        assert result is False
        assert not ProcurationEvent.objects.filter(procuration=p).exists()
        assert not OutboxEmail.objects.filter(procuration=p).exists()
    else:
        with pytest.raises(TransitionError) as excinfo:
            call(p, name, users)
        # « de » elided before a vowel: « Impossible d'invalider (mairie) », « Impossible d'annuler »
        verb = {"invalider_mairie": "d'invalider (mairie)", "annuler": "d'annuler", "resilier": "de résilier"}.get(name)
        assert str(excinfo.value).startswith(f"Impossible {verb} " if verb else "Impossible de ")
        assert Status(status).label in str(excinfo.value)
        p.refresh_from_db()
        assert {f.attname: getattr(p, f.attname) for f in Procuration._meta.concrete_fields} == before
        assert not ProcurationEvent.objects.filter(procuration=p).exists()
        assert not OutboxEmail.objects.filter(procuration=p).exists()


@pytest.mark.parametrize("name", list(LAW))
def test_repeating_an_allowed_move_returns_false_and_logs_once(name, users):
    sources, target = LAW[name]
    p = make(sorted(sources)[0])
    assert call(p, name, users)[0] is True
    assert call(p, name, users)[0] is False
    assert ProcurationEvent.objects.filter(procuration=p).count() == 1
    assert OutboxEmail.objects.filter(procuration=p).count() <= 1


def test_stale_instance_is_rechecked_under_lock(users):
    """The method re-reads the row: a copy loaded before another move cannot redo an old move."""
    p = ProcurationFactory(en_attente=True)
    stale = Procuration.objects.get(pk=p.pk)
    p.refuser_autorite(by=users["policier"], motif=RefusMotif.PERSONNE_ABSENTE)
    with pytest.raises(TransitionError):
        stale.valider_autorite(by=users["policier"], piece_type="cni")
    stale.refresh_from_db()
    assert stale.status == Status.REFUSEE_AUTORITE


def test_validation_must_name_the_officer_unless_france_identite(users):
    p = ProcurationFactory(en_attente=True)
    with pytest.raises(DomainError, match="officier"):
        p.valider_autorite(by=None)
    assert p.valider_autorite(by=None, france_identite=True) is True
    p.refresh_from_db()
    assert p.origine == "france_identite"
    assert p.autorite_by is None and "France Identité" in p.autorite_label


def test_motifs_are_checked_before_anything_changes(users):
    p = ProcurationFactory(en_attente=True)
    with pytest.raises(DomainError, match="Motif de refus inconnu"):
        p.refuser_autorite(by=users["policier"], motif="n-importe-quoi")
    with pytest.raises(DomainError, match="Précisez"):
        p.refuser_autorite(by=users["policier"], motif=RefusMotif.AUTRE, detail="  ")
    v = ProcurationFactory(validee_autorite=True)
    with pytest.raises(DomainError, match="Précisez"):
        v.invalider_mairie(by=users["agent"], motif=InvalidationMotif.AUTRE)
    p.refresh_from_db()
    v.refresh_from_db()
    assert (p.status, v.status) == (Status.EN_ATTENTE, Status.VALIDEE_AUTORITE)


# ------------------------------------------------------------------ e-mail content


def test_submission_email_gives_the_reference(users, mailoutbox, django_capture_on_commit_callbacks):
    p = ProcurationFactory(email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.soumettre(by=users["mandant"])
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["marie@example.fr"]
    assert p.reference in mailoutbox[0].subject
    assert p.reference in mailoutbox[0].body
    assert OutboxEmail.objects.get(procuration=p).state == OutboxEmail.State.SENT


def test_validation_email_names_officer_quality_and_date(users, mailoutbox, django_capture_on_commit_callbacks):
    officer = UserFactory(username="apj-x", policier=True, qualite="APJ", first_name="Karim", last_name="Benali")
    p = ProcurationFactory(en_attente=True, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=officer, piece_type="passeport", piece_numero_fin="12AB34")
    p.refresh_from_db()
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "BENALI" in body and "Karim" in body
    assert "Agent de police judiciaire" in body
    assert timezone.localtime(p.autorite_at).strftime("%d/%m/%Y") in body
    html = mailoutbox[0].alternatives[0][0]
    assert "BENALI" in html


def test_mairie_invalidation_email_gives_the_reason_in_plain_words(users, mailoutbox, django_capture_on_commit_callbacks):
    p = ProcurationFactory(validee_autorite=True, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.invalider_mairie(by=users["agent"], motif=InvalidationMotif.PLAFOND_ATTEINT)
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "Le mandataire détient déjà le nombre maximal de procurations" in body
    assert "plafond_atteint" not in body


def test_mairie_validation_email_names_the_mandataire(users, mailoutbox, django_capture_on_commit_callbacks):
    p = ProcurationFactory(validee_autorite=True, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_mairie(by=users["agent"])
    assert len(mailoutbox) == 1
    assert p.mandataire.nom.upper() in mailoutbox[0].body
    assert "a enregistré votre procuration" in mailoutbox[0].body


def test_no_email_without_contact_address(users, django_capture_on_commit_callbacks):
    p = ProcurationFactory(en_attente=True, email_contact="")
    p.valider_autorite(by=users["policier"])
    assert not OutboxEmail.objects.exists()


# ------------------------------------------------------------------ automatic validation by the commune


def test_commune_auto_validation_when_every_check_passes(users, django_capture_on_commit_callbacks):
    p = ProcurationFactory(en_attente=True)
    p.commune.auto_validation = True
    p.commune.save()
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=users["policier"])
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE
    last = p.events.last()
    assert last.actor is None and "automatique" in last.reason
    assert list(p.emails.order_by("pk").values_list("kind", flat=True)) == ["validated_by_authority", "mairie_decision"]


def test_no_auto_validation_when_a_check_fails(users, django_capture_on_commit_callbacks):
    p = ProcurationFactory(en_attente=True)
    p.commune.auto_validation = True
    p.commune.save()
    p.mandant.inscrit = False  # radiated since the demande: the agent must look at it
    p.mandant.save()
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=users["policier"])
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE


def test_auto_validation_happens_in_the_authoritys_own_call(users):
    """A domain step, not a side effect of the e-mail: no on_commit callback runs in this test."""
    p = ProcurationFactory(en_attente=True)
    p.commune.auto_validation = True
    p.commune.save()
    assert p.valider_autorite(by=users["policier"], piece_type="cni") is True
    assert p.status == Status.VALIDEE_MAIRIE
    assert [(e.from_status, e.to_status, e.actor_id) for e in p.events.all()] == [
        (Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, users["policier"].pk),
        (Status.VALIDEE_AUTORITE, Status.VALIDEE_MAIRIE, None),
    ]
    assert p.events.last().reason == "Validation automatique (tous les contrôles satisfaits)"


# ------------------------------------------------------------------ the mairie validates when every check passes


def test_mairie_validation_refuses_a_failing_check_unless_forced_with_a_reason(users):
    p = ProcurationFactory(validee_autorite=True)
    p.mandataire.inscrit = False
    p.mandataire.save()
    with pytest.raises(DomainError) as excinfo:
        p.valider_mairie(by=users["agent"])
    assert (excinfo.value.code, excinfo.value.field) == ("controles", "forcer")
    assert "Mandataire inscrit" in excinfo.value.message
    with pytest.raises(DomainError) as excinfo:
        p.valider_mairie(by=users["agent"], forcer=True, motif_forcage="   ")
    assert excinfo.value.field == "motif_forcage"
    assert not p.events.exists()
    assert p.valider_mairie(by=users["agent"], forcer=True, motif_forcage="Réinscrit ce matin, registre pas encore à jour")
    event = p.events.get()
    assert (event.to_status, event.actor) == (Status.VALIDEE_MAIRIE, users["agent"])
    assert event.reason == ("Validation forcée malgré : Mandataire inscrit. "
                            "Motif : Réinscrit ce matin, registre pas encore à jour")


def test_mairie_can_never_force_past_the_plafond(users):
    first = ProcurationFactory(validee_mairie=True)  # the mandataire holds one established in France already
    p = ProcurationFactory(validee_autorite=True, mandataire=first.mandataire, scrutin=first.scrutin,
                           autorite_at=first.autorite_at + datetime.timedelta(minutes=1))
    with pytest.raises(DomainError, match="détient déjà une procuration établie en France") as excinfo:
        p.valider_mairie(by=users["agent"], forcer=True, motif_forcage="J'insiste")
    assert excinfo.value.code == "plafond"
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE and not p.events.exists()


# ------------------------------------------------------------------ born established: one domain method


def test_etablir_with_france_identite_logs_both_steps_and_follows_the_consular_list(users):
    from procuration.models import IdentiteVerifiee, Liste

    p = ProcurationFactory(mandant__liste=Liste.CONSULAIRE)
    assert p.etablissement == "france"
    p.etablir(IdentiteVerifiee.france_identite(p.mandant), by=users["mandant"])
    p.refresh_from_db()
    assert (p.status, p.origine, p.etablissement) == (Status.VALIDEE_AUTORITE, "france_identite", "etranger")
    assert [(e.from_status, e.to_status, e.actor, e.reason) for e in p.events.all()] == [
        (Status.BROUILLON, Status.EN_ATTENTE, users["mandant"], ""),
        (Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, None, "France Identité"),
    ]
    assert list(p.emails.order_by("pk").values_list("kind", flat=True)) == ["reference_issued", "validated_by_authority"]


@pytest.mark.parametrize(("liste", "answered", "established"), [("principale", "etranger", "france"),
                                                                 ("consulaire", "france", "etranger")])
def test_a_demande_validated_with_france_identite_is_established_where_the_elector_votes(users, liste, answered,
                                                                                         established):
    """Whatever the mandant answered: France Identité establishes it in France, abroad for a consular list."""
    p = ProcurationFactory(en_attente=True, mandant__liste=liste, etablissement=answered)
    assert p.valider_autorite(france_identite=True)
    p.refresh_from_db()
    assert (p.status, p.etablissement) == (Status.VALIDEE_AUTORITE, established)


def test_etablir_refused_by_a_rule_leaves_a_brouillon(users):
    from procuration.models import IdentiteVerifiee, Verificateur

    p = ProcurationFactory(mandataire__inscrit=False)
    with pytest.raises(DomainError):
        p.etablir(IdentiteVerifiee(Verificateur.AUTORITE, by=users["policier"]), by=users["policier"])
    p.refresh_from_db()
    assert p.status == Status.BROUILLON and not p.events.exists() and not OutboxEmail.objects.exists()


def test_a_paper_form_keyed_in_at_the_mairie_keeps_where_the_authority_established_it(users):
    """The mairie keys in a CERFA signed by a consulate: established abroad, as the form says; only an
    officer's own unit (or France Identité) decides it when the form does not."""
    p = ProcurationFactory(origine="cerfa_papier", etablissement="etranger")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, by=users["agent"], autorite="Consulat général de France à Genève",
                                date_etablissement=datetime.date.today())
    p.etablir(identite, by=users["agent"], reason="Saisie d'un formulaire CERFA")
    p.refresh_from_db()
    assert (p.status, p.etablissement) == (Status.VALIDEE_AUTORITE, "etranger")
    assert p.autorite_label.startswith("Consulat général de France à Genève, le ")


def test_a_paper_form_keyed_in_at_the_mairie_logs_the_authority_named_and_e_mails_nothing_yet(users):
    """The mandant asked nothing online and no authority of the product validated it: no reference e-mail,
    no « validée par l'autorité » e-mail (the mairie's decision will be the first); the log names the
    authority on the form, link after link of the dossier's chain."""
    p = ProcurationFactory(origine="cerfa_papier", email_contact="marie@example.fr")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, by=users["agent"], autorite=" Commissariat de Cahors ",
                                date_etablissement=datetime.date(2026, 11, 30))
    p.etablir(identite, by=users["agent"], reason="Saisie d'un formulaire CERFA")
    p.refresh_from_db()
    assert (p.status, p.autorite_label) == (Status.VALIDEE_AUTORITE,
                                            "Commissariat de Cahors, le 30/11/2026 (formulaire papier)")
    assert [(e.seq, e.from_status, e.to_status, e.actor, e.reason) for e in p.events.order_by("seq")] == [
        (1, Status.BROUILLON, Status.EN_ATTENTE, users["agent"], "Saisie d'un formulaire CERFA"),
        (2, Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, users["agent"],
         "Formulaire papier établi par Commissariat de Cahors, le 30/11/2026 (formulaire papier), saisi par la mairie"),
    ]
    assert not p.emails.exists()


def test_a_paper_form_keyed_in_at_the_counter_logs_no_reason_of_its_own_and_e_mails_the_validation(users):
    """The officer checked the identity at the counter: the validation e-mail names them; the log's reason is
    the one the officer gave when keying it in, the validation adds none."""
    p = ProcurationFactory(origine="cerfa_papier", email_contact="marie@example.fr")
    identite = IdentiteVerifiee(Verificateur.AUTORITE, by=users["policier"], piece_type="cni", piece_numero_fin="1234")
    p.etablir(identite, by=users["policier"], reason="Saisie d'un formulaire CERFA")
    assert [(e.seq, e.to_status, e.actor, e.reason) for e in p.events.order_by("seq")] == [
        (1, Status.EN_ATTENTE, users["policier"], "Saisie d'un formulaire CERFA"),
        (2, Status.VALIDEE_AUTORITE, users["policier"], ""),
    ]
    assert list(p.emails.values_list("kind", flat=True)) == ["validated_by_authority"]


@pytest.mark.parametrize(("autorite", "date_etablissement"), [("Commissariat de Cahors", None),
                                                            ("   ", datetime.date(2026, 11, 30))],
                         ids=["without-its-date", "without-its-authority"])
def test_a_paper_form_keyed_in_at_the_mairie_names_the_authority_and_its_date(users, autorite, date_etablissement):
    p = ProcurationFactory(origine="cerfa_papier")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, by=users["agent"], autorite=autorite,
                                date_etablissement=date_etablissement)
    with pytest.raises(DomainError, match="Indiquez l'autorité qui a établi le formulaire et sa date") as excinfo:
        p.etablir(identite, by=users["agent"])
    assert excinfo.value.field == "autorite"
    p.refresh_from_db()
    assert p.status == Status.BROUILLON and not p.events.exists()


def test_the_authority_named_is_kept_to_the_fields_300_characters(users):
    """An officer's label (nom, prénom, qualité, unité) can be longer than the field: its first 300 characters."""
    officer = UserFactory(username="opj-long", policier=True, last_name="A" * 150, first_name="B" * 150)
    p = ProcurationFactory(en_attente=True)
    p.valider_autorite(by=officer, piece_type="cni")
    assert Procuration.objects.get(pk=p.pk).autorite_label == "A" * 150 + " " + "B" * 149


def test_the_counter_keeps_the_last_four_characters_of_the_pieces_number(users):
    p = ProcurationFactory(en_attente=True)
    p.valider_autorite(by=users["policier"], piece_type="cni", piece_numero_fin="AB1234567")
    p.refresh_from_db()
    assert p.piece_numero_fin == "4567"


def test_a_refusal_for_another_reason_as_the_form_posts_it_needs_its_detail(users):
    """The counter's form posts the motif as a plain string: « autre » without a detail is refused."""
    p = ProcurationFactory(en_attente=True)
    with pytest.raises(DomainError):
        p.refuser_autorite(by=users["policier"], motif="autre", detail="  ")
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE and not p.events.exists()


def test_a_refusal_with_a_detail_logs_the_motif_and_the_detail(users):
    p = ProcurationFactory(en_attente=True)
    p.refuser_autorite(by=users["policier"], motif=RefusMotif.AUTRE, detail="Pièce présentée par un tiers")
    assert p.events.get().reason == "Autre motif : Pièce présentée par un tiers"


def test_an_invalidation_for_another_reason_as_the_form_posts_it_needs_its_detail(users):
    """The mairie's form posts the motif as a plain string: « autre » without a detail is refused."""
    p = ProcurationFactory(validee_autorite=True)
    with pytest.raises(DomainError, match="Précisez le motif de l'invalidation"):
        p.invalider_mairie(by=users["agent"], motif="autre", detail="  ")
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE and not p.events.exists()


def test_an_invalidation_logs_the_motif_and_its_detail_when_there_is_one(users):
    detailed = ProcurationFactory(validee_autorite=True)
    detailed.invalider_mairie(by=users["agent"], motif=InvalidationMotif.AUTRE, detail="Homonyme")
    assert detailed.events.get().reason == "Autre motif : Homonyme"
    plain = ProcurationFactory(validee_autorite=True)
    plain.invalider_mairie(by=users["agent"], motif=InvalidationMotif.MANDANT_NON_INSCRIT)
    assert plain.events.get().reason == "Le mandant n'est pas inscrit sur la liste électorale de la commune"


def test_a_resiliation_at_the_counter_logs_the_reason_given_and_the_identity_checked(users):
    identite = IdentiteVerifiee(Verificateur.AUTORITE, by=users["policier"], piece_type="cni")
    checked = "Identité vérifiée : MARTIN Julie, Officier de police judiciaire (Commissariat central)"
    with_reason = ProcurationFactory(validee_autorite=True)
    with_reason.resilier(by=users["policier"], identite=identite, reason="Je voterai moi-même")
    assert with_reason.events.get().reason == f"Je voterai moi-même — {checked}"
    without = ProcurationFactory(validee_autorite=True)
    without.resilier(by=users["policier"], identite=identite)
    assert without.events.get().reason == checked


@pytest.mark.parametrize("status", [Status.ANNULEE, Status.EN_ATTENTE, Status.VALIDEE_AUTORITE])
def test_only_a_demande_being_keyed_in_can_be_established_at_once(users, status):
    """etablir refuses anything but a brouillon, whatever its status sorts before or after, with its own message."""
    p = ProcurationFactory(en_attente=True, status=status)
    with pytest.raises(TransitionError, match="^Seule une demande en cours de saisie peut être établie.$"):
        p.etablir(IdentiteVerifiee(Verificateur.AUTORITE, by=users["policier"]), by=users["policier"])
    p.refresh_from_db()
    assert p.status == status and not p.events.exists()


@pytest.mark.parametrize(("liste", "where"), [("principale", "france"), ("complementaire", "france"),
                                              ("consulaire", "etranger")])
def test_france_identite_establishes_abroad_only_for_the_consular_list(db, liste, where):
    """A citizen of the Union on a liste complémentaire votes in France: established in France."""
    assert IdentiteVerifiee.france_identite(ElecteurFactory(liste=liste)).etablissement == where
