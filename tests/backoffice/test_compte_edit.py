"""An officer's or a commune administrator's details edited from the national back office
(/backoffice/comptes/<id>/): the fields and checks of the creation forms, the unit in France or
abroad kept consistent, a new e-mail address announced to the previous one (the rule shared with
the mairie: procuration.activation.save_staff_changes), every save in the audit trail; nobody
else's account, and nobody but the national administrator."""

import re
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.test import Client
from django.urls import reverse

from procuration.models import AuditLog, OutboxEmail, Role, User
from procuration.models.territory import de
from tests.accounts import activation_path, sent_to
from tests.backoffice.test_backoffice import text
from tests.backoffice.test_comptes import OTHER_ACCOUNTS, other_account_pk, post
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def edit(pk):
    return reverse("backoffice:compte_edit", args=[pk])


def officer_data(officer, **changes):
    """The officer's form as the page fills it, with `changes`."""
    data = {"first_name": officer.first_name, "last_name": officer.last_name, "email": officer.email,
            "qualite": officer.qualite, "unite": officer.unite, "matricule": officer.matricule}
    if officer.unite_a_l_etranger:
        data["unite_a_l_etranger"] = "on"
    if officer.is_unit_admin:
        data["is_unit_admin"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def admin_data(account, **changes):
    return {"first_name": account.first_name, "last_name": account.last_name, "email": account.email, **changes}


def edits(user) -> list[tuple[str, int, list]]:
    return [(a.action, a.actor_id, a.detail.get("fields"))
            for a in AuditLog.objects.filter(object_id=str(user.pk), action="backoffice.compte_edit").order_by("seq")]


def snapshot():
    return (sorted(User.objects.values_list("pk", "first_name", "last_name", "email", "qualite", "unite",
                                            "unite_a_l_etranger", "matricule", "is_unit_admin", "password",
                                            "is_active")),
            AuditLog.objects.filter(action__startswith="backoffice.").count(), OutboxEmail.objects.count(),
            Authenticator.objects.count())


def field_error(page: str, field: str) -> str:
    """The error message DSFR shows under the field `field` (its id is id_<field>)."""
    match = re.search(rf'id="id_{field}-desc-error"[^>]*>(.*?)</div>', page, re.S)
    assert match, f"no error on {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# ------------------------------------------------------------------ the pages lead to it
def test_each_account_of_the_units_and_of_the_commune_has_a_modify_link(admin_client, policier, commune_admin,
                                                                          agent_mairie):
    units = text(admin_client.get(reverse("backoffice:unites")))
    assert f'<a class="fr-link" href="{edit(policier.pk)}">Modifier<span class="fr-sr-only"> le compte : Julie ' \
           'MARTIN</span></a>' in units
    commune = text(admin_client.get(reverse("backoffice:commune", args=[commune_admin.commune_id])))
    assert f'href="{edit(commune_admin.pk)}">Modifier' in commune
    assert edit(agent_mairie.pk) not in commune  # a plain agent is the commune administrator's to manage


def test_the_officers_page_asks_the_creations_fields_but_the_identifiant(admin_client, policier):
    r = admin_client.get(edit(policier.pk))
    assert r.status_code == 200
    page = text(r)
    assert "<h1>Modifier le compte de Julie MARTIN</h1>" in page
    for name in ("first_name", "last_name", "email", "qualite", "unite", "unite_a_l_etranger", "matricule",
                 "is_unit_admin"):
        assert f'name="{name}"' in page, name
    assert 'name="username"' not in page and "Identifiant : opj" in page
    assert 'value="1234567"' in page and 'value="Commissariat central"' in page  # filled with the account's values
    assert f'action="{edit(policier.pk)}"' in page and 'name="csrfmiddlewaretoken"' in page


def test_the_commune_administrators_page_asks_names_and_address(admin_client, commune_admin):
    page = text(admin_client.get(edit(commune_admin.pk)))
    for name in ("first_name", "last_name", "email"):
        assert f'name="{name}"' in page, name
    for name in ("username", "matricule", "unite", "qualite"):
        assert f'name="{name}"' not in page, name
    assert "Administrateur de la commune d'Almayrac" in page
    assert f'href="{reverse("backoffice:commune", args=[commune_admin.commune_id])}">Annuler' in page


# ------------------------------------------------------------------ saving
@pytest.mark.parametrize(("first_name", "last_name", "de"), [
    ("Anne", "Roy", "d'Anne ROY"), ("Jean", "Dupont", "de Jean DUPONT"), ("Élodie", "Petit", "d'Élodie PETIT"),
])
def test_the_national_admin_edits_an_officer(admin_client, admin_national, policier, first_name, last_name, de):
    r = post(admin_client, edit(policier.pk), officer_data(
        policier, first_name=first_name, last_name=last_name, qualite="APJ", unite="Brigade de Lescure",
        matricule="7654321", is_unit_admin="on"))
    assert r.status_code == 302 and r["Location"] == reverse("backoffice:unites")
    assert r.told == [("success", f"Le compte {de} est modifié.")]
    policier.refresh_from_db()
    assert (policier.first_name, policier.last_name, policier.qualite, policier.unite, policier.matricule,
            policier.is_unit_admin, policier.username) == (first_name, last_name, "APJ", "Brigade de Lescure",
                                                           "7654321", True, "opj")
    assert edits(policier) == [("backoffice.compte_edit", admin_national.pk,
                                ["first_name", "last_name", "qualite", "unite", "matricule", "is_unit_admin"])]
    assert not OutboxEmail.objects.exists()  # the address did not change: nobody to tell


def test_the_national_admin_edits_a_commune_administrator_of_either_space(admin_client, admin_national, commune):
    for n, role in enumerate((Role.AGENT_MAIRIE, Role.AGENT_LISTES)):
        account = UserFactory(username=f"admin-{n}", role=role, commune=commune, is_commune_admin=True,
                              first_name="Anne", last_name="Roy")
        r = post(admin_client, edit(account.pk), admin_data(account, last_name="Roy-Durand"))
        assert r["Location"] == reverse("backoffice:commune", args=[commune.pk])
        assert r.told == [("success", "Le compte d'Anne ROY-DURAND est modifié.")]
        account.refresh_from_db()
        assert (account.last_name, account.role, account.is_commune_admin) == ("Roy-Durand", role, True)
        assert edits(account) == [("backoffice.compte_edit", admin_national.pk, ["last_name"])]


def test_nothing_changed_writes_nothing(admin_client, policier, commune_admin):
    before = snapshot()
    r = post(admin_client, edit(policier.pk), officer_data(policier, email=policier.email.upper()))
    assert r.status_code == 302
    assert r.told == [("info", "Le compte de Julie MARTIN n'a pas changé : rien n'est enregistré.")]
    r = post(admin_client, edit(commune_admin.pk), admin_data(commune_admin))
    assert r.told == [("info", f"Le compte {de(str(commune_admin))} n'a pas changé : rien n'est enregistré.")]
    assert snapshot() == before


# ------------------------------------------------------------------ the e-mail address
def test_a_new_address_is_announced_to_the_previous_one(admin_client, admin_national, commune_admin, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    old = commune_admin.email
    with django_capture_on_commit_callbacks(execute=True):
        r = post(admin_client, edit(commune_admin.pk), admin_data(commune_admin, email="Nouvelle@Almayrac.fr"))
    assert r.told == [("success", f"Le compte {de(str(commune_admin))} est modifié. L'ancienne adresse électronique "
                                  "est prévenue du changement.")]
    commune_admin.refresh_from_db()
    assert commune_admin.email == "nouvelle@almayrac.fr"  # normalised as at the creation
    [notice] = sent_to(mailoutbox, old)
    assert "nouvelle@almayrac.fr" in notice.body and "remplacée" in notice.subject + notice.body
    assert OutboxEmail.objects.get(kind="staff_email_changed").to == old
    assert sent_to(mailoutbox, "nouvelle@almayrac.fr") == []
    assert edits(commune_admin) == [("backoffice.compte_edit", admin_national.pk, ["email"])]


def test_the_link_sent_before_no_longer_opens_and_the_admin_is_told_how_to_send_one(admin_client, commune):
    """A commune administrator created with a wrong address: the link went there. Corrected, the old
    link stops working (the token covers the e-mail); the message says how to send a new one."""
    post(admin_client, reverse("backoffice:commune_admin_new", args=[commune.pk]), {
        "role": Role.AGENT_MAIRIE, "username": "anne.roy", "first_name": "Anne", "last_name": "Roy",
        "email": "anne.roy@almayrc.fr"})
    account = User.objects.get(username="anne.roy")
    link = activation_path(OutboxEmail.objects.get(kind="staff_activation"))
    opened = Client().get(link)
    assert opened.status_code == 200 and 'name="password1"' in text(opened)
    r = post(admin_client, edit(account.pk), admin_data(account, email="anne.roy@almayrac.fr"))
    assert r.told == [("success", "Le compte d'Anne ROY est modifié. L'ancienne adresse électronique est prévenue "
                                  "du changement. Le lien d'activation déjà envoyé ne s'ouvre plus : « Réinitialiser "
                                  "l'accès » en envoie un nouveau à anne.roy@almayrac.fr.")]
    assert "n'est plus valable" in text(Client().get(link))
    assert OutboxEmail.objects.filter(kind="staff_email_changed", to="anne.roy@almayrc.fr").count() == 1


def test_the_address_change_and_its_notice_commit_together(admin_client, commune_admin):
    """The notice is written in the transaction of the change and of its audit entry: if the audit
    entry fails, neither the new address nor the notice remain."""
    before = snapshot()
    with mock.patch.object(AuditLog, "record", side_effect=RuntimeError("audit down")), \
            pytest.raises(RuntimeError, match="audit down"):
        admin_client.post(edit(commune_admin.pk), admin_data(commune_admin, email="nouvelle@almayrac.fr"))
    assert snapshot() == before


def test_an_address_of_another_account_is_refused_on_the_field(admin_client, policier, agent_mairie):
    before = snapshot()
    r = admin_client.post(edit(policier.pk), officer_data(policier, last_name="Roy", email=agent_mairie.email))
    assert r.status_code == 200
    assert field_error(text(r), "email") == "Un compte utilise déjà cette adresse."
    assert "<h1>Modifier le compte de Julie MARTIN</h1>" in text(r)  # the stored name, not the refused one
    assert snapshot() == before


def test_the_accounts_own_address_is_no_clash(admin_client, policier):
    r = post(admin_client, edit(policier.pk), officer_data(policier, matricule="999"))
    assert r.told == [("success", "Le compte de Julie MARTIN est modifié.")]
    policier.refresh_from_db()
    assert policier.matricule == "999"


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("field", "value", "message"), [
    ("last_name", "", "Ce champ est obligatoire."),
    ("email", "pas-une-adresse", "Saisissez une adresse e-mail valide."),
    ("matricule", "", "Ce champ est obligatoire."),
    ("unite", "", "Ce champ est obligatoire."),
    ("qualite", "XYZ", "Sélectionnez un choix valide. XYZ n’en fait pas partie."),
])
def test_bad_input_shows_the_form_again_with_the_error_on_the_field(admin_client, policier, field, value, message):
    before = snapshot()
    r = admin_client.post(edit(policier.pk), officer_data(policier, first_name="Anne", **{field: value}))
    assert r.status_code == 200
    assert field_error(text(r), field) == message
    assert 'value="Anne"' in text(r)  # what was typed is kept
    assert snapshot() == before


# ------------------------------------------------------------------ the unit in France or abroad
@pytest.fixture
def consulat():
    return [UserFactory(username=f"consul-{n}", policier=True, unite="Consulat général à Genève",
                        unite_a_l_etranger=True) for n in range(2)]


def test_an_officer_moved_into_a_unit_abroad_follows_it(admin_client, policier, consulat):
    before = snapshot()
    r = admin_client.post(edit(policier.pk), officer_data(policier, unite="Consulat général à Genève"))
    assert field_error(text(r), "unite_a_l_etranger") == (
        "L'unité « Consulat général à Genève » est déclarée à l'étranger : la personne habilitée y suit son unité. "
        "Pour changer l'unité entière, utilisez la liste des unités.")
    assert snapshot() == before
    r = post(admin_client, edit(policier.pk), officer_data(policier, unite="Consulat général à Genève",
                                                           unite_a_l_etranger="on"))
    assert r.told == [("success", "Le compte de Julie MARTIN est modifié.")]
    policier.refresh_from_db()
    assert (policier.unite, policier.unite_a_l_etranger) == ("Consulat général à Genève", True)
    assert edits(policier)[0][2] == ["unite", "unite_a_l_etranger"]


def test_one_officer_does_not_move_its_unit_abroad_alone(admin_client, consulat):
    officer = consulat[0]
    before = snapshot()
    r = admin_client.post(edit(officer.pk), officer_data(officer, unite_a_l_etranger=None))
    assert "déclarée à l'étranger" in field_error(text(r), "unite_a_l_etranger")
    assert snapshot() == before


# ------------------------------------------------------------------ whose accounts, who acts
@pytest.mark.parametrize("kind", OTHER_ACCOUNTS)
def test_any_other_account_is_not_found(admin_client, admin_national, commune, agent_mairie, kind):
    pk = other_account_pk(kind, admin_national, commune, agent_mairie)
    before = snapshot()
    assert admin_client.get(edit(pk)).status_code == 404
    assert admin_client.post(edit(pk), {"first_name": "X", "last_name": "Y", "email": "x@example.fr"}).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", ["anonymous", "policier", "police_admin", "commune_admin", "agent_mairie", "mandant"])
def test_only_the_national_admin_edits(client, policier, commune_admin, agent_mairie, role):
    actor = {
        "anonymous": None, "policier": policier, "commune_admin": commune_admin, "agent_mairie": agent_mairie,
        "mandant": UserFactory(username="electeur"),
        "police_admin": UserFactory(username="opj-chef", policier=True, is_unit_admin=True),
    }[role]
    if actor is not None:
        client.force_login(actor)
    before = snapshot()
    for target, data in ((policier, officer_data(policier, last_name="Roy")),
                         (commune_admin, admin_data(commune_admin, last_name="Roy"))):
        url = edit(target.pk)
        for r in (client.get(url), client.post(url, data)):
            if actor is None:
                assert r.status_code == 302 and r["Location"] == f"{reverse('backoffice:login')}?next={url}"
            else:
                assert r.status_code == 403, (role, url)
    assert snapshot() == before


# ------------------------------------------------------------------ the shared rule
def test_the_shared_rule_edits_staff_accounts_only():
    from procuration.activation import save_staff_changes

    elector = UserFactory(username="electeur")
    elector.last_name = "Autre"
    with pytest.raises(ValueError), transaction.atomic():
        save_staff_changes(elector, ["last_name"])
    assert User.objects.get(pk=elector.pk).last_name != "Autre"


@pytest.mark.django_db(transaction=True)
def test_the_shared_rule_refuses_to_run_outside_a_transaction(commune_admin):
    """E-mail only inside a transaction: the change and its notice commit together or not at all."""
    from procuration.activation import save_staff_changes

    old = commune_admin.email
    commune_admin.email = "ailleurs@example.fr"
    with pytest.raises(RuntimeError, match="transaction"):
        save_staff_changes(commune_admin, ["email"])
    assert User.objects.get(pk=commune_admin.pk).email == old and not OutboxEmail.objects.exists()
