"""The counter: reference lookup, identity shown, validation and refusal, every error message."""

import datetime
import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from police import services
from procuration.access import has_totp
from procuration.models import AuditLog, OutboxEmail, Procuration, ProcurationEvent, RefusMotif, Status
from procuration.models.procuration import PieceType
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory, set_status, totp_code
from tests.police._helpers import fiche_pk, fiche_url, text

HOME = reverse("police:home")


@pytest.fixture
def demande(commune):
    mandant = ElecteurFactory(
        commune=commune, nom="DUPONT", nom_usage="MARTINEZ", prenoms="Marie Claire", sexe="F",
        date_naissance=datetime.date(1980, 5, 12), lieu_naissance="Albi",
    )
    mandataire = ElecteurFactory(commune=commune, nom="LAMBERT", prenoms="Paul", sexe="M")
    return ProcurationFactory(
        en_attente=True, reference="K7M2QX", mandant=mandant, mandataire=mandataire,
        email_contact="marie.dupont@example.fr",
    )


@pytest.fixture
def officer_client(client, policier):
    client.force_login(policier)
    return client


def lookup(client, raw):
    return client.post(HOME, {"reference": raw})


def test_lookup_is_tolerant_of_case_spaces_and_lookalikes_and_shows_identity(officer_client, demande, policier):
    response = lookup(officer_client, " k7m 2qx ")
    assert response.status_code == 302
    assert fiche_pk(response["Location"], policier) == demande.pk
    page = text(officer_client.get(response["Location"]))
    for expected in ("DUPONT", "MARTINEZ", "Marie Claire", "Féminin", "12/05/1980", "Albi", "Almayrac",
                     demande.portee_label, "Paul LAMBERT"):
        assert expected in page, expected
    # Audited: the lookup and the consultation, by whom, from where.
    log = AuditLog.objects.filter(action="police.lookup").get()
    assert (log.actor, log.object_id, log.detail["resultat"], log.ip) == (policier, str(demande.pk), "trouvee", "127.0.0.1")
    assert AuditLog.objects.filter(action="police.consultation", actor=policier, object_id=str(demande.pk)).exists()


def test_lookalike_letters_are_mapped(officer_client, commune, policier):
    p = ProcurationFactory(en_attente=True, reference="0A1B2C", mandant=ElecteurFactory(commune=commune))
    response = lookup(officer_client, "oa-ib2c")
    assert fiche_pk(response["Location"], policier) == p.pk


def test_detail_page_opens_only_with_the_link_the_officers_own_lookup_gave(officer_client, demande, policier, settings):
    """The page's address is a token signed by the server for (procuration, officer, time): a
    guessed, altered, borrowed or expired one is a 404, and nothing changes."""
    other_officer = UserFactory(username="opj-2", policier=True)
    own = fiche_url(policier, demande.pk)
    token = own.rstrip("/").rsplit("/", 1)[1]
    urls = [
        f"/police/procuration/{demande.pk}/",  # the bare primary key
        fiche_url(other_officer, demande.pk),  # another officer's link
        own.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),  # altered signature
        own.replace(token, token.replace(token.split(":")[0], signing.b64_encode(b"[1,1]").decode())),
    ]
    for url in urls:
        assert officer_client.get(url).status_code == 404, url
        response = officer_client.post(url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"})
        assert response.status_code == 404, url
    settings.POLICE_FICHE_MAX_AGE_SECONDS = -1  # every link has expired
    assert officer_client.get(own).status_code == 404
    settings.POLICE_FICHE_MAX_AGE_SECONDS = 3600
    assert officer_client.get(own).status_code == 200
    demande.refresh_from_db()
    assert demande.status == Status.EN_ATTENTE


def test_validation_records_the_piece_and_emails_the_mandant_naming_the_officer(
    officer_client, demande, policier, mailoutbox, django_capture_on_commit_callbacks
):
    url = lookup(officer_client, "K7M2QX")["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            url, {"action": "valider", "piece_type": PieceType.PASSEPORT, "piece_numero_fin": " 45ab "}, follow=True
        )
    assert "Procuration K7M2QX validée" in text(response)
    demande.refresh_from_db()
    assert demande.status == Status.VALIDEE_AUTORITE  # visible to the mairie's queue at once
    assert demande.autorite_by == policier
    assert (demande.piece_type, demande.piece_numero_fin) == (PieceType.PASSEPORT, "45AB")
    assert Procuration.objects.visible_to(UserFactory(agent_mairie=True, commune=demande.commune)).filter(
        pk=demande.pk, status=Status.VALIDEE_AUTORITE
    ).exists()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["marie.dupont@example.fr"]
    assert "MARTIN Julie, Officier de police judiciaire (Commissariat central)" in mail.body
    # The page is closed after the act: its link now says so and leads back to the counter.
    response = officer_client.get(url, follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    assert services.ALREADY_VALIDATED in text(response)
    assert "DUPONT" not in text(response)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"piece_type": "cni", "piece_numero_fin": ""}, "Saisissez les 4 derniers caractères du numéro de la pièce présentée."),
        ({"piece_type": "cni", "piece_numero_fin": "12"}, "Saisissez exactement les 4 derniers caractères du numéro de la pièce."),
        ({"piece_type": "cni", "piece_numero_fin": "12345"}, "Saisissez exactement les 4 derniers caractères du numéro de la pièce."),
        ({"piece_type": "cni", "piece_numero_fin": "12-4"}, "Saisissez uniquement des chiffres et des lettres."),
        ({"piece_type": "", "piece_numero_fin": "1234"}, "Choisissez la pièce d'identité présentée."),
        ({"piece_type": "carte_bancaire", "piece_numero_fin": "1234"}, "Sélectionnez un choix valide"),
    ],
)
def test_validation_form_errors_change_nothing(officer_client, demande, data, message):
    url = lookup(officer_client, "K7M2QX")["Location"]
    response = officer_client.post(url, {"action": "valider", **data})
    assert response.status_code == 200
    assert message in text(response)
    demande.refresh_from_db()
    assert demande.status == Status.EN_ATTENTE
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize("motif", RefusMotif.values)
def test_each_refusal_reason_is_recorded_and_emailed(
    officer_client, demande, policier, motif, mailoutbox, django_capture_on_commit_callbacks
):
    url = lookup(officer_client, "K7M2QX")["Location"]
    detail = "Pièce raturée" if motif == RefusMotif.AUTRE else ""
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            url, {"action": "refuser", "motif": motif, "detail": detail},
            follow=True,
        )
    assert "Refus de la procuration K7M2QX enregistré" in text(response)
    demande.refresh_from_db()
    assert (demande.status, demande.refus_motif, demande.autorite_by) == (Status.REFUSEE_AUTORITE, motif, policier)
    event = ProcurationEvent.objects.get(procuration=demande, to_status=Status.REFUSEE_AUTORITE)
    assert RefusMotif(motif).label in event.reason
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["marie.dupont@example.fr"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"motif": RefusMotif.AUTRE, "detail": "  "}, "Précisez le motif du refus."),
        ({"motif": ""}, "Choisissez le motif du refus."),
        ({"motif": "antipathie"}, "Sélectionnez un choix valide"),
    ],
)
def test_refusal_errors_change_nothing(officer_client, demande, data, message):
    url = lookup(officer_client, "K7M2QX")["Location"]
    response = officer_client.post(url, {"action": "refuser", **data})
    assert response.status_code == 200
    assert message in text(response)
    demande.refresh_from_db()
    assert demande.status == Status.EN_ATTENTE


# Past any demande's two months whatever the hour: 62 days back from 22:00–23:00 UTC in December is
# the next day in Paris (summer time), a demande whose last day is today, not yet expired.
PAST_TWO_MONTHS = 64


def _assert_nothing_revealed(response, p):
    html = text(response)
    for secret in (p.mandant.nom, p.mandant.prenoms, p.mandataire.nom, p.commune.nom):
        assert secret not in html, secret
    assert "/police/procuration/" not in html  # no link to the procuration's page


@pytest.mark.parametrize(
    "state, message",
    [
        ({"status": Status.EXPIREE}, services.EXPIRED),
        ({"status": Status.ECHUE}, services.EXPIRED),
        ({"submitted_at_days_ago": PAST_TWO_MONTHS}, services.EXPIRED),
        ({"status": Status.VALIDEE_AUTORITE}, services.ALREADY_VALIDATED),
        ({"status": Status.VALIDEE_MAIRIE}, services.ALREADY_VALIDATED),
        ({"status": Status.INVALIDEE_MAIRIE}, services.ALREADY_VALIDATED),
        ({"status": Status.REFUSEE_AUTORITE}, "Cette demande a déjà été refusée au guichet."),
        ({"status": Status.RESILIEE}, "Cette demande a été résiliée par le mandant."),
    ],
)
def test_reference_that_cannot_be_acted_on_gets_a_clear_message_and_reveals_nothing(
    officer_client, demande, policier, state, message
):
    if "status" in state:
        set_status(demande, state["status"])
    else:
        Procuration.objects.filter(pk=demande.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=state["submitted_at_days_ago"])
        )
    before = Procuration.objects.get(pk=demande.pk).status
    response = lookup(officer_client, "k7m2qx")
    assert response.status_code == 200
    assert message in text(response)
    _assert_nothing_revealed(response, demande)
    assert Procuration.objects.get(pk=demande.pk).status == before
    assert AuditLog.objects.filter(action="police.lookup", actor=policier, object_id=str(demande.pk)).exists()


@pytest.mark.parametrize(
    "raw, message",
    [
        ("ZZZZZZ", services.UNKNOWN),
        ("", "Ce champ est obligatoire."),
        ("K7M2Q", "La référence d'enregistrement compte 6 caractères ; vous en avez saisi 5."),
        ("K7M2QXA", "La référence d'enregistrement compte 6 caractères ; vous en avez saisi 7."),
        ("K7M2Q!", "caractère non reconnu : !"),
        ("K7M2QU", "caractère non reconnu : U"),
    ],
)
def test_unknown_or_malformed_reference(officer_client, demande, policier, raw, message):
    response = lookup(officer_client, raw)
    assert response.status_code == 200
    assert message in text(response)
    _assert_nothing_revealed(response, demande)
    if raw:  # an empty field never reaches the lookup
        log = AuditLog.objects.get(action="police.lookup")
        assert log.actor == policier and log.object_id == ""
        assert log.detail["resultat"] in ("inconnue", "format_invalide")


def test_a_brouillon_has_no_reference_to_find(officer_client, commune, policier):
    """Even a brouillon that carries a reference (the constraint allows it) is « unknown » at the
    counter: nothing about it is shown, and the lookup is audited as such."""
    brouillon = ProcurationFactory(mandant=ElecteurFactory(commune=commune), reference="ABCDEF")
    assert brouillon.status == Status.BROUILLON
    response = lookup(officer_client, "ABCDEF")
    assert response.status_code == 200
    assert services.UNKNOWN in text(response)
    log = AuditLog.objects.get(action="police.lookup")
    assert (log.actor, log.object_id, log.detail["resultat"]) == (policier, "", "inconnue")
    # Once submitted, the same reference opens its page: the lookup itself works.
    brouillon.status, brouillon.submitted_at = Status.EN_ATTENTE, timezone.now()
    brouillon.save()
    assert lookup(officer_client, "ABCDEF").status_code == 302


def test_detail_opened_then_validated_elsewhere_says_already_done(officer_client, demande, policier):
    url = lookup(officer_client, "K7M2QX")["Location"]
    other = UserFactory(username="opj-2", policier=True)
    assert demande.valider_autorite(by=other, piece_type="cni", piece_numero_fin="9999") is True
    response = officer_client.post(
        url,
        {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"}, follow=True,
    )
    assert services.ALREADY_VALIDATED in text(response)
    demande.refresh_from_db()
    assert demande.autorite_by == other and demande.piece_numero_fin == "9999"


def test_domain_rule_failure_is_shown_and_the_officer_may_still_refuse(officer_client, demande, commune):
    # The mandant already has a validated procuration for these dates (one in force per scrutin).
    ProcurationFactory(validee_autorite=True, reference="ZZZZZ9", mandant=demande.mandant, scrutin=demande.scrutin,
                       mandataire=ElecteurFactory(commune=commune))
    url = lookup(officer_client, "K7M2QX")["Location"]
    response = officer_client.post(url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"})
    assert "Le mandant a déjà une procuration validée pour ces dates (référence ZZZZZ9)." in text(response)
    demande.refresh_from_db()
    assert demande.status == Status.EN_ATTENTE
    response = officer_client.post(url, {"action": "refuser", "motif": RefusMotif.AUTRE, "detail": "Doublon"})
    assert response.status_code == 302
    demande.refresh_from_db()
    assert demande.status == Status.REFUSEE_AUTORITE


def test_disabled_officer_cannot_act(client, demande, policier, password):
    client.force_login(policier)
    url = lookup(client, "K7M2QX")["Location"]
    policier.is_active = False
    policier.save(update_fields=["is_active"])
    response = client.post(
        url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("police:login"))
    demande.refresh_from_db()
    assert demande.status == Status.EN_ATTENTE
    # Nor log in again.
    client.logout()
    response = client.post(reverse("police:login"), {"login": policier.username, "password": password})
    assert "_auth_user_id" not in client.session
    assert client.get(HOME).status_code == 302


def test_officer_without_totp_must_configure_it_before_using_the_counter(client, demande, password):
    officer = UserFactory(username="opj-sans-totp", policier=True, totp=False)
    client.post(reverse("police:login"), {"login": officer.username, "password": password})
    response = lookup(client, "K7M2QX")
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))
    # allauth asks for the password again before touching MFA (reauthentication), then shows the setup.
    response = client.get(response["Location"], follow=True)
    assert "Confirmer votre identité" in text(response)
    response = client.post(response.redirect_chain[-1][0], {"password": password}, follow=True)
    page = text(response)
    assert "Configurer la double authentification" in page
    assert not AuditLog.objects.filter(action="police.lookup").exists()
    # The officer scans the secret and types the code: TOTP is on, the counter opens.
    secret = re.search(r'id="authenticator_secret" value="([A-Z2-7]+)"', page).group(1)
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert has_totp(officer)
    assert lookup(client, "K7M2QX").status_code == 302


def test_other_roles_are_refused(client, mandant_user, agent_mairie, demande):
    for user in (mandant_user, agent_mairie):
        client.force_login(user)
        assert lookup(client, "K7M2QX").status_code == 403
        assert client.get(reverse("police:cerfa")).status_code == 403


def test_a_malformed_or_rate_limited_entry_is_audited_as_typed_up_to_the_fields_40_characters(
    officer_client, policier, settings
):
    typed = "K7M2QX" + "Z" * 34  # the field's 40 characters: too long for a reference
    assert len(typed) == 40
    response = lookup(officer_client, typed)
    assert response.status_code == 200 and "vous en avez saisi 40" in text(response)
    settings.POLICE_LOOKUP_LIMIT = 1  # the next one is over the limit
    assert lookup(officer_client, typed).status_code == 429
    logs = AuditLog.objects.filter(action="police.lookup", actor=policier).order_by("at", "pk")
    assert [(log.detail["saisie"], log.detail["resultat"]) for log in logs] == [
        (typed, "format_invalide"), (typed, "limite_atteinte")
    ]


@pytest.mark.django_db
def test_the_service_itself_keeps_only_the_first_40_characters_typed(rf, policier, settings):
    """services.lookup is the rule's one home: whoever calls it (the form caps the field at 40), the
    audit keeps 40 characters of what was typed, malformed or over the limit."""
    typed = "K7M2QX" + "Z" * 54
    request = rf.post("/police/")
    request.user = policier
    with pytest.raises(services.LookupRefused):
        services.lookup(request, typed)
    settings.POLICE_LOOKUP_LIMIT = 1
    with pytest.raises(services.RateLimited):
        services.lookup(request, typed)
    logs = AuditLog.objects.filter(action="police.lookup", actor=policier).order_by("at", "pk")
    assert [(log.detail["saisie"], log.detail["resultat"]) for log in logs] == [
        ("K7M2QX" + "Z" * 34, "format_invalide"), ("K7M2QX" + "Z" * 34, "limite_atteinte")
    ]


@pytest.mark.parametrize(
    "state", [{"status": Status.EXPIREE}, {"status": Status.ECHUE}, {"submitted_at_days_ago": PAST_TWO_MONTHS}]
)
def test_a_lookup_of_an_expired_demande_or_an_ended_procuration_is_audited_as_expired(
    officer_client, demande, policier, state
):
    if "status" in state:
        set_status(demande, state["status"])
    else:
        Procuration.objects.filter(pk=demande.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=state["submitted_at_days_ago"])
        )
    assert services.EXPIRED in text(lookup(officer_client, "K7M2QX"))
    log = AuditLog.objects.get(action="police.lookup", actor=policier)
    assert (log.object_id, log.detail["resultat"]) == (str(demande.pk), "expiree")


def test_a_link_given_to_another_officer_opens_nothing_whichever_account_is_older(client, demande):
    older = UserFactory(username="opj-older", policier=True)
    newer = UserFactory(username="opj-newer", policier=True)
    for owner, visitor in ((older, newer), (newer, older)):
        client.force_login(visitor)
        assert client.get(fiche_url(owner, demande.pk)).status_code == 404
        assert client.get(fiche_url(visitor, demande.pk)).status_code == 200
