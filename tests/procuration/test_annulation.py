"""A procuration void by law (status « annulee »), never a decision of anyone.

- L.73: a mandataire holds at most two procurations, of which one established in France; when the
  limits are exceeded the earliest established stand and the later ones are void. The product voids at
  the establishment (the authority's validation): the mandant is told why and what to do.
- The death or the radiation of the mandataire (an event of the register) voids the procurations
  pending or in force where they are the mandataire; the mandant's own death or radiation ends theirs.
Sources: ../shared/domain.md; decisions in docs/domain.md (« Nulle de plein droit »)."""

import datetime

import pytest

from procuration import reu
from procuration.exceptions import DomainError
from procuration.models import (
    AnnulationMotif,
    AuditLog,
    IdentiteVerifiee,
    OutboxEmail,
    Procuration,
    ProcurationEvent,
    Status,
    Verificateur,
)
from procuration.registry import RadiationMotif, radier_electeur
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory
from tests.procuration.law import LAW, MANDANT_STATUSES, PLAFOND_STATUSES

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-void", policier=True, first_name="Julie", last_name="Martin")


@pytest.fixture
def consul(db):
    return UserFactory(username="consul-void", policier=True, unite_a_l_etranger=True)


@pytest.fixture
def world(commune):
    return {"commune": commune, "scrutin": ScrutinFactory(), "mandataire": ElecteurFactory(commune=commune)}


def demande(world, etablissement="france", **kwargs):
    return ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=world["commune"]),
                              mandataire=world["mandataire"], scrutin=world["scrutin"], etablissement=etablissement,
                              email_contact=kwargs.pop("email_contact", "mandant@example.fr"), **kwargs)


def kinds(p):
    return sorted(OutboxEmail.objects.filter(procuration=p).values_list("kind", flat=True))


# ---------------------------------------------------------------------------------------- L.73
def test_l73_a_later_procuration_over_the_plafond_is_void_and_the_mandant_told(
    world, officer, consul, mailoutbox, django_capture_on_commit_callbacks,
):
    """The mandataire already holds two established procurations (one in France, one abroad); a third,
    validated at the counter later, is established and void at once; the earliest stand."""
    first = demande(world, "france")
    second = demande(world, "etranger")
    assert first.valider_autorite(by=officer, piece_type="cni") is True
    assert second.valider_autorite(by=consul, piece_type="passeport") is True
    later = demande(world, "etranger", email_contact="tard@example.fr")

    with django_capture_on_commit_callbacks(execute=True):
        assert later.valider_autorite(by=consul, piece_type="passeport") is True

    later.refresh_from_db()
    assert later.status == Status.ANNULEE == LAW["annuler"][1]
    assert later.annulation_motif == AnnulationMotif.PLAFOND and later.ended_at is not None
    assert "deux procurations" in later.motif_detail
    # The authority's act is recorded (who, when), then the nullity: two events, the second by no one.
    events = list(ProcurationEvent.objects.filter(procuration=later).order_by("seq"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("en_attente", "validee_autorite"), ("validee_autorite", "annulee")]
    assert events[0].actor == consul and events[1].actor is None
    assert "L.73" in events[1].reason
    # The earliest stand, untouched.
    for p in (first, second):
        p.refresh_from_db()
        assert p.status in PLAFOND_STATUSES
    # One e-mail to the mandant, why and what to do; no « validée » message before it.
    assert kinds(later) == ["annulation"]
    [message] = [m for m in mailoutbox if m.to == ["tard@example.fr"]]
    assert later.reference in message.subject and "annulée" in message.subject
    body = message.body
    assert "L.73" in body and world["mandataire"].nom.upper() in body
    assert "choisissez un autre mandataire" in body
    # Void, it binds neither side: the mandant may give a new procuration for the same tour at once.
    assert Status.ANNULEE not in MANDANT_STATUSES | PLAFOND_STATUSES
    again = ProcurationFactory(mandant=later.mandant, mandataire=ElecteurFactory(commune=world["commune"]),
                               scrutin=world["scrutin"])
    assert again.soumettre() is True


def test_l73_one_in_france_a_second_established_in_france_is_void_one_abroad_still_stands(world, officer, consul):
    """Only one established in France: a second one in France is void; the void one takes no place, so
    one established abroad may still join the first."""
    first = demande(world, "france")
    assert first.valider_autorite(by=officer, piece_type="cni") is True
    second_in_france = demande(world, "france")
    assert second_in_france.valider_autorite(by=officer, piece_type="cni") is True
    second_in_france.refresh_from_db()
    assert (second_in_france.status, second_in_france.annulation_motif) == (Status.ANNULEE, "plafond")
    assert "établie en France" in second_in_france.motif_detail
    abroad = demande(world, "etranger")
    assert abroad.valider_autorite(by=consul, piece_type="passeport") is True
    abroad.refresh_from_db()
    assert abroad.status == Status.VALIDEE_AUTORITE


def test_l73_void_at_establishment_skips_the_communes_automatic_validation(world, officer):
    world["commune"].auto_validation = True
    world["commune"].save()
    first, second = demande(world, "france"), demande(world, "france")
    first.valider_autorite(by=officer, piece_type="cni")
    second.valider_autorite(by=officer, piece_type="cni")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.VALIDEE_MAIRIE, Status.ANNULEE)
    assert second.mairie_at is None


def test_l73_a_paper_form_signed_elsewhere_and_keyed_in_at_the_mairie_is_recorded_void(world, officer):
    """The authority named on the paper already established it: the mairie records it, over the
    plafond it is void (never refused: the act exists and its mandant must learn it)."""
    assert demande(world, "france").valider_autorite(by=officer, piece_type="cni") is True
    agent = UserFactory(username="agent-void", agent_mairie=True, commune=world["commune"])
    paper = ProcurationFactory(origine="cerfa_papier", mandant=ElecteurFactory(commune=world["commune"]),
                               mandataire=world["mandataire"], scrutin=world["scrutin"], etablissement="france")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, by=agent, autorite="Commissariat d'Albi",
                                date_etablissement=datetime.date.today())
    paper.etablir(identite, by=agent, reason="Saisie d'un formulaire CERFA")
    paper.refresh_from_db()
    assert (paper.status, paper.annulation_motif) == (Status.ANNULEE, AnnulationMotif.PLAFOND)
    assert paper.autorite_label.startswith("Commissariat d'Albi")
    assert kinds(paper) == ["annulation"]  # no reference nor « validée » e-mail for paper: only why it is void


def test_l73_before_anything_is_established_the_plafond_still_refuses(world, officer, mandant_user):
    """While the mandant still chooses the mandataire (online demande, France Identité) nothing is
    dressed: a refusal with the message, nothing recorded."""
    assert demande(world, "france").valider_autorite(by=officer, piece_type="cni") is True
    brouillon = ProcurationFactory(mandant=ElecteurFactory(commune=world["commune"]), mandataire=world["mandataire"],
                                   scrutin=world["scrutin"])
    with pytest.raises(DomainError) as excinfo:
        brouillon.etablir(IdentiteVerifiee.france_identite(brouillon.mandant), by=None)
    assert excinfo.value.code == "plafond"
    brouillon.refresh_from_db()
    assert brouillon.status == Status.BROUILLON and not brouillon.events.exists()


def test_l73_the_mairie_can_still_never_validate_past_the_plafond(world, officer):
    """A guard at the mairie's validation (rows written outside the domain): refused, never forced."""
    earlier = ProcurationFactory(validee_mairie=True, mandataire=world["mandataire"], scrutin=world["scrutin"],
                                 etablissement="france", mandant=ElecteurFactory(commune=world["commune"]))
    waiting = demande(world, "france", status=Status.VALIDEE_AUTORITE)
    Procuration.objects.filter(pk=waiting.pk).update(autorite_at=earlier.autorite_at + datetime.timedelta(hours=1))
    waiting.refresh_from_db()
    with pytest.raises(DomainError) as excinfo:
        waiting.valider_mairie(by=None, forcer=True, motif_forcage="Je force")
    assert excinfo.value.code == "plafond"


# ------------------------------------------------------------------- death and radiation
def in_force_for(mandataire, commune, scrutins):
    """One demande pending and two procurations in force (different dates: no plafond), one of each kind."""
    return {
        status: ProcurationFactory(en_attente=True, status=status, mandataire=mandataire, scrutin=s,
                                   mandant=ElecteurFactory(commune=commune),
                                   email_contact=f"{status}@example.fr")
        for status, s in zip(sorted(LAW["annuler"][0]), scrutins, strict=True)
    }


@pytest.fixture
def scrutins():
    base = ScrutinFactory()
    return [ScrutinFactory(date_tour1=base.date_tour1 + datetime.timedelta(days=21 * i),
                           date_tour2=base.date_tour2 + datetime.timedelta(days=21 * i)) for i in range(3)]


def test_mandataire_death_voids_the_procurations_in_force_and_informs_the_mandants(
    commune, scrutins, mailoutbox, django_capture_on_commit_callbacks,
):
    mandataire = ElecteurFactory(commune=commune)
    held = in_force_for(mandataire, commune, scrutins)
    ended = ProcurationFactory(en_attente=True, status=Status.RESILIEE, mandataire=mandataire,
                               mandant=ElecteurFactory(commune=commune))
    brouillon = ProcurationFactory(mandataire=mandataire, mandant=ElecteurFactory(commune=commune))

    with django_capture_on_commit_callbacks(execute=True):
        voided = radier_electeur(mandataire, RadiationMotif.DECES)

    assert sorted(p.pk for p in voided) == sorted(p.pk for p in held.values())
    mandataire.refresh_from_db()
    assert mandataire.deces and not mandataire.inscrit and not mandataire.peut_voter
    for status, p in held.items():
        p.refresh_from_db()
        assert (p.status, p.annulation_motif) == (Status.ANNULEE, AnnulationMotif.DECES_MANDATAIRE), status
        event = p.events.get(to_status=Status.ANNULEE)
        assert event.from_status == status and "Décès du mandataire" in event.reason
        # The mandant is told; the mairie too when it had recorded it on its registre.
        expected = ["annulation", "annulation_mairie"] if status == Status.VALIDEE_MAIRIE else ["annulation"]
        assert kinds(p) == expected
        [message] = [m for m in mailoutbox if m.to == [p.email_contact]]
        assert "décès" in message.body and "choisissez un autre mandataire" in message.body
    ended.refresh_from_db()
    brouillon.refresh_from_db()
    assert (ended.status, brouillon.status) == (Status.RESILIEE, Status.BROUILLON)
    entry = AuditLog.objects.get(action="registre.radiation", object_id=str(mandataire.pk))
    assert entry.detail["motif"] == "deces"
    assert sorted(entry.detail["procurations_annulees"]) == sorted(p.reference for p in held.values())
    # Idempotent: nothing more to void, nothing more sent.
    count = OutboxEmail.objects.count()
    assert radier_electeur(mandataire, RadiationMotif.DECES) == []
    assert OutboxEmail.objects.count() == count


def test_mandataire_radiation_in_the_register_import_voids_the_procurations_and_informs_the_mandants(
    commune, scrutins, django_capture_on_commit_callbacks,
):
    """A row of the REU extract with « radiation » = deces / radiation: the one domain function runs."""
    dead, radiated, stays = (ElecteurFactory(commune=commune, nne=n) for n in ("100000001", "100000002", "100000003"))
    of_dead = ProcurationFactory(validee_mairie=True, mandataire=dead, scrutin=scrutins[0],
                                 mandant=ElecteurFactory(commune=commune))
    of_radiated = ProcurationFactory(en_attente=True, status=Status.VALIDEE_AUTORITE, mandataire=radiated,
                                     scrutin=scrutins[0], mandant=ElecteurFactory(commune=commune))
    of_stays = ProcurationFactory(validee_mairie=True, mandataire=stays, scrutin=scrutins[0],
                                  mandant=ElecteurFactory(commune=commune))
    lines = ["nne;nom;prenoms;sexe;date_naissance;radiation"]
    lines += [f"{e.nne};{e.nom};{e.prenoms};F;15/01/1980;{r}" for e, r in
              ((dead, "décès"), (radiated, "radiation"), (stays, ""))]
    lines += [f"{p.mandant.nne};{p.mandant.nom};{p.mandant.prenoms};F;15/01/1980;" for p in (of_dead, of_radiated, of_stays)]
    with django_capture_on_commit_callbacks(execute=True):
        report = reu.import_extract(commune, "\n".join(lines).encode())
    assert report.ok, report.errors
    assert (report.deaths_and_radiations, report.voided) == (2, 2)
    for p, motif in ((of_dead, "deces_mandataire"), (of_radiated, "radiation_mandataire")):
        p.refresh_from_db()
        assert (p.status, p.annulation_motif) == (Status.ANNULEE, motif)
        assert "annulation" in kinds(p)
    of_stays.refresh_from_db()
    assert of_stays.status == Status.VALIDEE_MAIRIE
    dead.refresh_from_db()
    radiated.refresh_from_db()
    assert dead.deces and not dead.inscrit and not radiated.inscrit and not radiated.deces


def test_register_import_rejects_an_unknown_radiation_and_writes_nothing(commune, scrutins):
    e = ElecteurFactory(commune=commune, nne="100000009")
    p = ProcurationFactory(validee_mairie=True, mandataire=e, scrutin=scrutins[0], mandant=ElecteurFactory(commune=commune))
    data = f"nne;nom;prenoms;sexe;date_naissance;radiation\n{e.nne};{e.nom};{e.prenoms};F;15/01/1980;parti\n"
    report = reu.import_extract(commune, data.encode())
    assert not report.ok and "Radiation « parti »" in report.errors[0][1]
    p.refresh_from_db()
    e.refresh_from_db()
    assert p.status == Status.VALIDEE_MAIRIE and e.inscrit


def test_mandant_radiation_or_death_ends_their_own_procurations(commune, scrutins, django_capture_on_commit_callbacks):
    """Off the commune's list the procuration cannot serve: void, the mandant told (not a deceased one)."""
    radiated, dead = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    of_radiated = ProcurationFactory(validee_mairie=True, mandant=radiated, scrutin=scrutins[0])
    of_dead = ProcurationFactory(en_attente=True, mandant=dead, scrutin=scrutins[0])
    with django_capture_on_commit_callbacks(execute=True):
        radier_electeur(radiated, RadiationMotif.RADIATION)
        radier_electeur(dead, RadiationMotif.DECES)
    of_radiated.refresh_from_db()
    of_dead.refresh_from_db()
    assert (of_radiated.status, of_radiated.annulation_motif) == (Status.ANNULEE, "radiation_mandant")
    assert (of_dead.status, of_dead.annulation_motif) == (Status.ANNULEE, "deces_mandant")
    assert kinds(of_radiated) == ["annulation", "annulation_mairie"]
    assert kinds(of_dead) == []


def test_a_motif_given_as_a_plain_string_is_the_same_motif(commune, scrutins):
    """annuler takes the motif's value as well as its member (a register import reads a string): a
    deceased mandant is never e-mailed."""
    p = ProcurationFactory(validee_autorite=True, mandant=ElecteurFactory(commune=commune), scrutin=scrutins[0])
    assert p.annuler(motif="deces_mandant")
    assert (Procuration.objects.get(pk=p.pk).annulation_motif, kinds(p)) == ("deces_mandant", [])


def test_an_unknown_radiation_motif_changes_nothing(commune):
    e = ElecteurFactory(commune=commune)
    with pytest.raises(DomainError):
        radier_electeur(e, "demenagement")
    e.refresh_from_db()
    assert e.inscrit and not e.deces


def test_mandataire_death_recorded_in_the_admin_voids_through_the_same_function(
    client, admin_national, commune, scrutins, django_capture_on_commit_callbacks,
):
    """The admin cannot flip « décédé » or « inscrit » by hand (that would leave the procurations in
    force): its action calls radier_electeur, which voids them and tells the mandants."""
    from django.urls import reverse

    mandataire = ElecteurFactory(commune=commune)
    p = ProcurationFactory(validee_mairie=True, mandataire=mandataire, scrutin=scrutins[0],
                           mandant=ElecteurFactory(commune=commune))
    client.force_login(admin_national)
    change = reverse("admin:procuration_electeur_change", args=[mandataire.pk])
    page = client.get(change).content.decode()
    assert 'name="deces"' not in page and 'name="inscrit"' not in page  # read-only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:procuration_electeur_changelist"),
                               {"action": "radier_deces", "_selected_action": [mandataire.pk]}, follow=True)
    assert "Procurations annulées : 1" in response.content.decode()
    p.refresh_from_db()
    mandataire.refresh_from_db()
    assert mandataire.deces and (p.status, p.annulation_motif) == (Status.ANNULEE, "deces_mandataire")
    assert kinds(p) == ["annulation", "annulation_mairie"]
