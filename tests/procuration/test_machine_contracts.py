"""Contracts of the state machine (procuration/models/procuration.py) that the mutation run of 5 December
evening left unseen (docs/testing.md, « `machine`: the 67 survivors of 8b867c2 »): the moves take their
options by keyword only; a procuration read back from the database (its fields plain `str`) and a
vérificateur given by its value (the `str` IdentiteVerifiee declares) behave as the members built in
code; a verified identity cannot be altered; a paper form keyed in names who keyed it; who sees which
procuration; what a procuration holds after a move; the reasons logged. Expectations are written out,
never read from production tables."""

import dataclasses
import datetime
import inspect

import pytest

from procuration.exceptions import DomainError
from procuration.models import (
    AnnulationMotif,
    Electeur,
    IdentiteVerifiee,
    InvalidationMotif,
    OutboxEmail,
    Procuration,
    ProcurationEvent,
    RefusMotif,
    Status,
    User,
    Verificateur,
)
from procuration.models.procuration import notify_mandataire
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

POSITIONAL, KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY


@pytest.fixture
def people(db):
    return {
        "mandant": UserFactory(username="mandant-contrat"),
        "policier": UserFactory(username="opj-contrat", policier=True, first_name="Julie", last_name="Martin"),
        "consul": UserFactory(username="consul-contrat", policier=True, unite_a_l_etranger=True),
        "agent": UserFactory(username="agent-contrat", agent_mairie=True),
    }


def _at_the_counter(people):
    return IdentiteVerifiee(Verificateur.AUTORITE, by=people["policier"], piece_type="cni", piece_numero_fin="AB12")


def _shape(func) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in inspect.signature(func).parameters.values()]


def _dossier(p: Procuration) -> tuple:
    return Procuration.objects.filter(pk=p.pk).values().get(), list(p.events.values_list("pk", flat=True))


# ------------------------------------------------------------------ the options of a move are keyword-only

# name: (the status it starts from, the parameters that come before the options, a call passing the options
# by position, the same call by keyword, what the move leaves)
MOVES = {
    "soumettre": ("brouillon", ["self"],
                  lambda p, u: p.soumettre(u["mandant"]),
                  lambda p, u: p.soumettre(by=u["mandant"]), "en_attente"),
    "valider_autorite": ("en_attente", ["self"],
                         lambda p, u: p.valider_autorite(u["policier"], "cni", "AB12"),
                         lambda p, u: p.valider_autorite(by=u["policier"], piece_type="cni", piece_numero_fin="AB12"),
                         "validee_autorite"),
    "etablir": ("brouillon", ["self", "identite"],
                lambda p, u: p.etablir(_at_the_counter(u), u["policier"]),
                lambda p, u: p.etablir(_at_the_counter(u), by=u["policier"]), "validee_autorite"),
    "refuser_autorite": ("en_attente", ["self"],
                         lambda p, u: p.refuser_autorite(u["policier"], RefusMotif.PIECE_INVALIDE),
                         lambda p, u: p.refuser_autorite(by=u["policier"], motif=RefusMotif.PIECE_INVALIDE),
                         "refusee_autorite"),
    "valider_mairie": ("validee_autorite", ["self"],
                       lambda p, u: p.valider_mairie(u["agent"]),
                       lambda p, u: p.valider_mairie(by=u["agent"]), "validee_mairie"),
    "invalider_mairie": ("validee_autorite", ["self"],
                         lambda p, u: p.invalider_mairie(u["agent"], InvalidationMotif.MANDANT_NON_INSCRIT),
                         lambda p, u: p.invalider_mairie(by=u["agent"], motif=InvalidationMotif.MANDANT_NON_INSCRIT),
                         "invalidee_mairie"),
    "demander_resiliation": ("validee_autorite", ["self"],
                             lambda p, u: p.demander_resiliation(u["mandant"]),
                             lambda p, u: p.demander_resiliation(by=u["mandant"]), "validee_autorite"),
    "resilier": ("en_attente", ["self"],
                 lambda p, u: p.resilier(u["mandant"], "Je voterai moi-même"),
                 lambda p, u: p.resilier(by=u["mandant"], reason="Je voterai moi-même"), "resiliee"),
    "annuler": ("validee_autorite", ["self"],
                lambda p, u: p.annuler(AnnulationMotif.DECES_MANDATAIRE),
                lambda p, u: p.annuler(motif=AnnulationMotif.DECES_MANDATAIRE), "annulee"),
    # The machinery itself: the move's name, then its options.
    "_transition": ("validee_autorite", ["self", "name"],
                    lambda p, u: p._transition("echoir", None, "Fin de validité"),
                    lambda p, u: p._transition("echoir", reason="Fin de validité"), "echue"),
}


@pytest.mark.parametrize("name", list(MOVES))
def test_a_moves_options_are_taken_by_keyword_only(people, name):
    """A who, a motif, a reason passed by position would land in the wrong parameter as soon as one is added
    or reordered: every option after the leading parameters is keyword-only, and a call by position is
    refused before anything is read or written; the same call by keyword makes the move."""
    start, leading, by_position, by_keyword, after = MOVES[name]
    p = ProcurationFactory() if start == "brouillon" else ProcurationFactory(en_attente=True, status=start)
    before = _dossier(p)
    with pytest.raises(TypeError):
        by_position(p, people)
    assert _dossier(p) == before
    assert by_keyword(p, people) not in (False, None)
    stored = Procuration.objects.get(pk=p.pk)
    assert stored.status == after
    assert p.events.count() == (2 if name == "etablir" else 1)
    if name == "demander_resiliation":
        assert stored.resiliation_demandee_at is not None
    # Every option, not only those called above.
    shape = _shape(getattr(Procuration, name))
    assert shape[:len(leading)] == [(n, POSITIONAL) for n in leading]
    assert len(shape) > len(leading) and {kind for _, kind in shape[len(leading):]} == {KEYWORD}, shape


def test_the_mandataire_notice_and_the_dossiers_event_take_their_options_by_keyword_only(people):
    """notify_mandataire(p, from_status=…) and ProcurationEvent.append(p, from_status=…, to_status=…): called by
    every move (as the validation below); a status passed by position is refused and writes nothing."""
    p = ProcurationFactory(en_attente=True, email_mandataire="mandataire@example.fr")
    assert p.valider_autorite(by=people["policier"], piece_type="cni") is True
    assert list(p.emails.order_by("pk").values_list("kind", flat=True)) == [
        "validated_by_authority", "mandataire_established"]
    before = _dossier(p), OutboxEmail.objects.count()
    with pytest.raises(TypeError):
        notify_mandataire(p, Status.EN_ATTENTE)
    with pytest.raises(TypeError):
        ProcurationEvent.append(p, Status.EN_ATTENTE, Status.VALIDEE_AUTORITE)
    assert (_dossier(p), OutboxEmail.objects.count()) == before
    assert _shape(notify_mandataire) == [("p", POSITIONAL), ("from_status", KEYWORD)]
    assert _shape(ProcurationEvent.append) == [("procuration", POSITIONAL), *[
        (n, KEYWORD) for n in ("from_status", "to_status", "actor", "reason", "lock_held", "first")]]


# ------------------------------------------------------------------ read back from the database: plain str


def test_a_brouillon_read_back_from_the_database_is_established_like_one_just_built(people):
    """A portal loads the brouillon from the database: its status is the plain str « brouillon », not the member."""
    p = Procuration.objects.get(pk=ProcurationFactory(origine="cerfa_papier").pk)
    assert type(p.status) is str
    assert p.etablir(_at_the_counter(people), by=people["policier"]) is p
    assert Procuration.objects.get(pk=p.pk).status == "validee_autorite"
    assert [(e.from_status, e.to_status) for e in p.events.order_by("seq")] == [
        ("brouillon", "en_attente"), ("en_attente", "validee_autorite")]


@pytest.mark.parametrize(("motif", "kinds"), [
    ("plafond", []),  # void by the act that would have established it: nothing was announced
    ("deces_mandataire", []),  # nobody to tell
    ("radiation_mandant", ["mandataire_ended"]),
])
def test_the_mandataire_notice_judges_a_procuration_read_back_from_the_database(db, motif, kinds):
    """notify_mandataire, on a procuration as stored (status and motif plain str) that left « validée par
    l'autorité » for « annulée »: the same decision as on the row the move just changed."""
    p = ProcurationFactory(validee_autorite=True, status=Status.ANNULEE, annulation_motif=motif,
                           email_mandataire="mandataire@example.fr")
    stored = Procuration.objects.get(pk=p.pk)
    assert type(stored.status) is str
    notify_mandataire(stored, from_status="validee_autorite")
    assert list(p.emails.values_list("kind", flat=True)) == kinds


# ------------------------------------------------------------------ a vérificateur given by its value

PAPER_LABEL = "Commissariat de Cahors, le 30/11/2026 (formulaire papier)"
BY_MEMBER_OR_VALUE = pytest.mark.parametrize("by_value", [False, True], ids=["member", "value"])


def _verificateur(member: Verificateur, by_value: bool) -> str:
    value = member.value if by_value else member
    assert (type(value) is str) is by_value
    return value


@BY_MEMBER_OR_VALUE
def test_a_paper_form_keyed_in_at_the_mairie_is_the_same_whether_its_verificateur_is_the_member_or_its_value(
    people, by_value,
):
    """IdentiteVerifiee.verificateur is declared `str`: « mairie » is the mairie. The label names the authority
    on the paper, the log says who keyed it in, no e-mail before the mairie's decision."""
    p = ProcurationFactory(origine="cerfa_papier", email_contact="marie@example.fr")
    identite = IdentiteVerifiee(_verificateur(Verificateur.MAIRIE, by_value), by=people["agent"],
                                autorite="Commissariat de Cahors", date_etablissement=datetime.date(2026, 11, 30))
    p.etablir(identite, by=people["agent"], reason="Saisie d'un formulaire CERFA")
    stored = Procuration.objects.get(pk=p.pk)
    assert (stored.status, stored.autorite_label) == ("validee_autorite", PAPER_LABEL)
    assert p.events.order_by("seq").last().reason == f"Formulaire papier établi par {PAPER_LABEL}, saisi par la mairie"
    assert not p.emails.exists()


@BY_MEMBER_OR_VALUE
def test_a_paper_form_without_the_date_the_authority_signed_is_refused_whatever_form_its_verificateur_takes(
    people, by_value,
):
    p = ProcurationFactory(origine="cerfa_papier")
    identite = IdentiteVerifiee(_verificateur(Verificateur.MAIRIE, by_value), by=people["agent"],
                                autorite="Commissariat de Cahors")
    before = _dossier(p)
    with pytest.raises(DomainError) as excinfo:
        p.etablir(identite, by=people["agent"])
    assert (excinfo.value.message, excinfo.value.field) == (
        "Indiquez l'autorité qui a établi le formulaire et sa date.", "autorite")
    assert _dossier(p) == before


@BY_MEMBER_OR_VALUE
def test_a_paper_form_keyed_in_at_the_mairie_over_the_plafond_is_recorded_void_whatever_form_its_verificateur_takes(
    people, commune, by_value,
):
    """L.73: the paper an authority signed is established, then void (never refused)."""
    scrutin, mandataire = ScrutinFactory(), ElecteurFactory(commune=commune)
    held = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune), mandataire=mandataire,
                              scrutin=scrutin)
    assert held.valider_autorite(by=people["policier"], piece_type="cni") is True
    paper = ProcurationFactory(origine="cerfa_papier", mandant=ElecteurFactory(commune=commune),
                               mandataire=mandataire, scrutin=scrutin, etablissement="france")
    identite = IdentiteVerifiee(_verificateur(Verificateur.MAIRIE, by_value), by=people["agent"],
                                autorite="Commissariat de Cahors", date_etablissement=datetime.date(2026, 11, 30))
    paper.etablir(identite, by=people["agent"])
    stored = Procuration.objects.get(pk=paper.pk)
    assert (stored.status, stored.annulation_motif) == ("annulee", "plafond")


@BY_MEMBER_OR_VALUE
def test_a_demande_validated_with_france_identite_is_the_same_whether_its_verificateur_is_the_member_or_its_value(
    db, by_value,
):
    """No officer to name; established where the elector votes (abroad for a consular list, whatever the
    mandant answered); the origin and the label say France Identité, and so does the log."""
    p = ProcurationFactory(en_attente=True, mandant__liste="consulaire", etablissement="france")
    assert p.valider_autorite(identite=IdentiteVerifiee(_verificateur(Verificateur.FRANCE_IDENTITE, by_value))) is True
    stored = Procuration.objects.get(pk=p.pk)
    assert (stored.status, stored.etablissement, stored.origine, stored.autorite_by, stored.autorite_label) == (
        "validee_autorite", "etranger", "france_identite", None, "France Identité (identité numérique certifiée)")
    assert p.events.get().reason == "France Identité"


@BY_MEMBER_OR_VALUE
def test_an_officer_abroad_establishes_abroad_whether_the_verificateur_is_the_member_or_its_value(people, by_value):
    """At a consulate's counter the procuration is established abroad, whatever the mandant answered."""
    p = ProcurationFactory(en_attente=True, etablissement="france")
    identite = IdentiteVerifiee(_verificateur(Verificateur.AUTORITE, by_value), by=people["consul"],
                                piece_type="passeport", piece_numero_fin="1234")
    assert p.valider_autorite(identite=identite) is True
    stored = Procuration.objects.get(pk=p.pk)
    assert (stored.status, stored.etablissement, stored.origine, stored.autorite_by) == (
        "validee_autorite", "etranger", "en_ligne", people["consul"])


def test_a_paper_form_keyed_in_at_the_mairie_names_the_agent_who_keyed_it_in(people):
    """Like an officer at the counter, the agent who keys the paper in is named; only France Identité has no one."""
    p = ProcurationFactory(origine="cerfa_papier")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, autorite="Commissariat de Cahors",
                                date_etablissement=datetime.date(2026, 11, 30))
    before = _dossier(p)
    with pytest.raises(DomainError) as excinfo:
        p.etablir(identite, by=None)
    assert excinfo.value.message == "La validation doit nommer l'officier ou l'agent qui l'a faite."
    assert _dossier(p) == before


def test_a_verified_identity_cannot_be_altered_once_built(people):
    """valider_autorite checks the identity (raise_if_incomplete), then records it under the lock: what was
    checked is what is recorded."""
    identite = _at_the_counter(people)
    with pytest.raises(dataclasses.FrozenInstanceError):
        identite.by = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        identite.verificateur = Verificateur.FRANCE_IDENTITE
    assert (identite.verificateur, identite.by) == (Verificateur.AUTORITE, people["policier"])


# ------------------------------------------------------------------ who sees which procuration


def test_a_policier_sees_no_procuration_even_one_given_from_their_own_account(people):
    """An elector who gave a procuration online and whose account became a policier's: the espace mandant's
    list is the mandant role's alone; at the counter a policier looks up one reference at a time."""
    account = people["mandant"]
    ProcurationFactory(en_attente=True, mandant_user=account)
    assert Procuration.objects.visible_to(User.objects.get(pk=account.pk)).count() == 1
    User.objects.filter(pk=account.pk).update(role="policier", qualite="OPJ", unite="Commissariat central")
    assert not Procuration.objects.visible_to(User.objects.get(pk=account.pk)).exists()


@pytest.mark.parametrize("role", ["", "maire"], ids=["empty", "retired"])
def test_an_account_whose_role_the_application_does_not_know_sees_no_procuration(db, role):
    """visible_to fails closed: a role none of the five (empty, or one retired from Role while its rows stay;
    the column has no check) sees nothing, however it sorts against the known ones."""
    ProcurationFactory(en_attente=True)
    account = UserFactory(username=f"role-inconnu-{role or 'vide'}", admin_national=True)
    assert Procuration.objects.visible_to(User.objects.get(pk=account.pk)).count() == 1
    User.objects.filter(pk=account.pk).update(role=role)
    assert not Procuration.objects.visible_to(User.objects.get(pk=account.pk)).exists()


# ------------------------------------------------------------------ what a procuration shows


def test_a_procuration_is_named_by_its_reference_once_it_has_one(db):
    brouillon = ProcurationFactory()
    submitted = ProcurationFactory(en_attente=True, reference="K7MP2X")
    assert (str(brouillon), str(submitted)) == ("Procuration (brouillon)", "Procuration K7MP2X")


def test_after_a_move_the_procuration_holds_the_related_rows_read_under_the_lock(people, django_assert_num_queries):
    """The locked row comes with the mandant (and bureau), the mandataire (and commune), the scrutin and the
    commune (locked_with): the instance the caller holds gets them, replacing an older copy."""
    p = ProcurationFactory(en_attente=True)
    held = Procuration.objects.select_related("mandataire").get(pk=p.pk)  # a copy read before the move
    Electeur.objects.filter(pk=p.mandataire_id).update(nom="NOUVEAU-NOM")  # the register changed since
    assert held.valider_autorite(by=people["policier"], piece_type="cni") is True
    with django_assert_num_queries(0):
        read = (held.mandant.pk, held.mandant.bureau.numero, held.mandataire.nom, held.mandataire.commune.pk,
                held.scrutin.pk, held.commune.pk)
    assert read == (p.mandant_id, p.mandant.bureau.numero, "NOUVEAU-NOM", p.mandataire.commune_id, p.scrutin_id,
                    p.commune_id)


# ------------------------------------------------------------------ the reasons logged


def test_an_annulation_logs_its_motif_and_the_detail_only_when_given(db):
    detailed = ProcurationFactory(validee_autorite=True)
    detailed.annuler(motif=AnnulationMotif.RADIATION_MANDATAIRE, detail="Radiation du 02/12/2026 (REU)")
    plain = ProcurationFactory(validee_autorite=True)
    plain.annuler(motif=AnnulationMotif.DECES_MANDATAIRE)
    assert detailed.events.get().reason == (
        "Nulle de plein droit : Le mandataire a été radié des listes électorales ou privé de ses droits civiques"
        " — Radiation du 02/12/2026 (REU)")
    assert plain.events.get().reason == "Nulle de plein droit : Décès du mandataire"


# ------------------------------------------------------------------ the commune's automatic validation


@pytest.mark.parametrize("case", ["not-opted-in", "a-check-fails"])
def test_the_automatic_validation_says_it_did_not_validate(db, case):
    """_valider_automatiquement answers whether it validated (True: test_machine_details.py); without the
    commune's option, or with a check failing, False and the procuration waits for the agent."""
    p = Procuration.objects.get(pk=ProcurationFactory(validee_autorite=True).pk)
    if case == "a-check-fails":
        p.commune.auto_validation = True
        p.commune.save()
        Electeur.objects.filter(pk=p.mandant_id).update(inscrit=False)  # radiated since: the agent must look
    assert p._valider_automatiquement() is False
    assert Procuration.objects.get(pk=p.pk).status == "validee_autorite"
    assert not p.events.exists()
