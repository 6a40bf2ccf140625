"""The commune's administrator declares, edits and ends its élus' mandates in the mairie portal
(mairie/views.py `mandats`, `mandat_create`, `mandat_edit`, `mandat_end`). The doors of these pages
are also walked by tests/mairie/test_doors.py, test_isolation.py and tests/security/test_matrix.py."""

import datetime
import html

import pytest
from django.urls import reverse

from elus.models import Absence, Mandat, eligible_accounts
from procuration.credit_heures import Nature
from procuration.exceptions import DomainError
from procuration.models import AuditLog
from tests.conftest import Client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def logged(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def elu(commune):
    return UserFactory(username="emilie-a", agent_mairie=True, commune=commune, first_name="Émilie",
                       last_name="Leroy")


# ------------------------------------------------------------------ 1. the page and the menu
def test_the_admin_lists_the_communes_mandats_and_nothing_of_another_commune(commune, other_commune, commune_admin,
                                                                             elu):
    Mandat.objects.create(user=commune_admin, fonction="maire", temps_travail=100)
    Mandat.objects.create(user=elu, fonction="adjoint", temps_travail=60, employeur="Coopérative du Ségala")
    stranger = UserFactory(username="elu-b", agent_mairie=True, commune=other_commune, last_name="Etranger")
    Mandat.objects.create(user=stranger, fonction="conseiller", employeur="Usine de Loisieux")

    page = text(logged(commune_admin).get(reverse("mairie:mandats")))
    table = page.split('id="mandats"')[1]
    rows = table.split("<tr")[2:]
    assert str(commune_admin) in rows[0] and "Maire" in rows[0]  # the maire first
    assert "Émilie LEROY" in rows[1] and "Adjoint au maire" in rows[1] and "60 %" in rows[1]
    assert "Coopérative du Ségala" in rows[1]
    assert "ETRANGER" not in page and "Usine de Loisieux" not in page
    assert reverse("mairie:mandat_create") not in page  # every active account has a mandate: nothing to declare

    admin_b = UserFactory(username="admin-b", commune_admin=True, commune=other_commune)
    page_b = text(logged(admin_b).get(reverse("mairie:mandats")))
    assert "ETRANGER" in page_b and "LEROY" not in page_b


def test_the_menu_offers_the_elus_page_to_the_commune_admin_only(commune, commune_admin, agent_mairie):
    link = f'href="{reverse("mairie:mandats")}"'
    # The menu is kept per process, keyed by the kind of user: the admin's menu is not served to the agent.
    assert link in logged(commune_admin).get(reverse("mairie:home")).content.decode()
    assert link not in logged(agent_mairie).get(reverse("mairie:home")).content.decode()
    assert link in logged(commune_admin).get(reverse("mairie:agents")).content.decode()
    page = logged(commune_admin).get(reverse("mairie:mandats")).content.decode()
    assert f'{link} aria-current="page"' in page


# ------------------------------------------------------------------ 2. declare
def test_the_admin_declares_an_elu(commune, commune_admin, elu):
    r = logged(commune_admin).post(reverse("mairie:mandat_create"), {
        "user": elu.pk, "fonction": "adjoint", "temps_travail": "80", "employeur": "Coopérative du Ségala",
    }, follow=True)
    mandat = Mandat.objects.get(user=elu)
    assert (mandat.fonction, mandat.temps_travail, mandat.employeur) == ("adjoint", 80, "Coopérative du Ségala")
    assert "Le mandat d'Émilie LEROY est déclaré (adjoint au maire)." in text(r)
    entry = AuditLog.objects.get(action="mairie.mandat_create")
    assert (entry.actor, entry.object_id, entry.detail["fonction"]) == (commune_admin, str(mandat.pk), "adjoint")


def test_only_the_communes_active_mairie_accounts_without_mandate_may_be_declared(commune, other_commune,
                                                                                 commune_admin, elu):
    taken = UserFactory(username="deja-elu", agent_mairie=True, commune=commune)
    Mandat.objects.create(user=taken, fonction="conseiller")
    refused = {
        "another commune's": UserFactory(username="agent-b", agent_mairie=True, commune=other_commune),
        "disabled": UserFactory(username="parti", agent_mairie=True, commune=commune, is_active=False),
        "guichet de suivi": UserFactory(username="listes-a", agent_listes=True, commune=commune),
        "already an élu": taken,
    }
    client = logged(commune_admin)
    page = text(client.get(reverse("mairie:mandat_create")))
    assert "Émilie LEROY" in page
    for kind, user in refused.items():
        assert f'value="{user.pk}"' not in page, kind
        r = client.post(reverse("mairie:mandat_create"), {"user": user.pk, "fonction": "conseiller",
                                                          "temps_travail": "100"})
        assert r.status_code == 200, kind
        assert "Sélectionnez un choix valide" in r.context["form"].errors["user"][0], kind
    assert Mandat.objects.count() == 1
    assert set(eligible_accounts(commune)) == {commune_admin, elu}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("temps_travail", "0", "supérieure ou égale à 1"),
    ("temps_travail", "101", "inférieure ou égale à 100"),
    ("temps_travail", "beaucoup", "Saisissez un nombre entier"),
    ("fonction", "president", "Sélectionnez un choix valide"),  # a department's function, not a commune's
    ("user", "", "Ce champ est obligatoire"),
])
def test_bad_input_is_shown_on_its_field_in_french_and_declares_nothing(commune_admin, elu, field, value, message):
    data = {"user": elu.pk, "fonction": "conseiller", "temps_travail": "100", "employeur": "", field: value}
    r = logged(commune_admin).post(reverse("mairie:mandat_create"), data)
    assert r.status_code == 200
    assert message in " ".join(r.context["form"].errors[field])
    assert "fr-error-text" in r.content.decode() or "fr-input-group--error" in r.content.decode()
    assert not Mandat.objects.exists() and not AuditLog.objects.filter(action__startswith="mairie.mandat").exists()


def test_one_rule_for_the_back_office_and_the_mairie(commune, elu):
    """The back office's form is the mairie's: the eligibility is written once (elus.models)."""
    from backoffice import forms as bo
    from elus import forms as elus_forms

    assert bo.MandatForm is elus_forms.MandatForm
    form = elus_forms.MandatForm(commune=commune)
    assert list(form.fields["user"].queryset) == list(eligible_accounts(commune))


def test_a_declaration_that_came_second_is_refused_on_the_account_field(commune, commune_admin, elu):
    """Lock, re-check, write: the account got a mandate between the form's check and the save."""
    from elus.forms import MandatForm

    form = MandatForm({"user": elu.pk, "fonction": "conseiller", "temps_travail": "100"}, commune=commune)
    assert form.is_valid()
    Mandat.objects.create(user=elu, fonction="adjoint")
    with pytest.raises(DomainError) as exc:
        form.save()
    assert exc.value.field == "user"
    assert Mandat.objects.get(user=elu).fonction == "adjoint"


# ------------------------------------------------------------------ 2. edit
def test_the_admin_edits_the_working_time_and_employer_only(commune_admin, elu):
    mandat = Mandat.objects.create(user=elu, fonction="adjoint", temps_travail=100)
    client = logged(commune_admin)
    url = reverse("mairie:mandat_edit", args=[mandat.pk])
    page = text(client.get(url))
    assert "Modifier le mandat d'Émilie LEROY" in page and 'value="100"' in page

    r = client.post(url, {"temps_travail": "50", "employeur": "Mairie de Rodez", "fonction": "maire"}, follow=True)
    mandat.refresh_from_db()
    assert (mandat.fonction, mandat.temps_travail, mandat.employeur) == ("adjoint", 50, "Mairie de Rodez")
    assert "Le mandat d'Émilie LEROY est modifié." in text(r)
    entry = AuditLog.objects.get(action="mairie.mandat_edit")
    assert entry.object_id == str(mandat.pk) and sorted(entry.detail["fields"]) == ["employeur", "temps_travail"]

    for bad in ("0", "150", "x"):
        r = client.post(url, {"temps_travail": bad, "employeur": "Ailleurs"})
        assert r.status_code == 200 and r.context["form"].errors["temps_travail"]
    mandat.refresh_from_db()
    assert (mandat.temps_travail, mandat.employeur) == (50, "Mairie de Rodez")
    assert AuditLog.objects.filter(action="mairie.mandat_edit").count() == 1


# ------------------------------------------------------------------ 2. end
def test_a_mandate_without_absences_is_deleted(commune_admin, elu):
    mandat = Mandat.objects.create(user=elu, fonction="conseiller")
    client = logged(commune_admin)
    url = reverse("mairie:mandat_end", args=[mandat.pk])
    assert client.get(url).status_code == 405
    r = client.post(url, follow=True)
    assert "Le mandat d'Émilie LEROY est supprimé." in text(r)
    assert not Mandat.objects.exists()
    entry = AuditLog.objects.get(action="mairie.mandat_end")
    assert entry.object_id == str(mandat.pk) and entry.detail["user"] == elu.pk
    # The account may be declared again.
    assert elu in eligible_accounts(elu.commune)


def test_a_mandate_with_absences_is_kept_with_its_history(commune_admin, elu):
    mandat = Mandat.objects.create(user=elu, fonction="adjoint")
    mandat.enregistrer_absence(date=datetime.date.today(), duree=90, nature=Nature.CREDIT)
    client = logged(commune_admin)
    assert reverse("mairie:mandat_end", args=[mandat.pk]) not in client.get(reverse("mairie:mandats")).content.decode()
    r = client.post(reverse("mairie:mandat_end", args=[mandat.pk]), follow=True)
    assert "Le mandat d'Émilie LEROY n'est pas supprimé : 1 absence y est déclarée" in text(r)
    assert Mandat.objects.filter(pk=mandat.pk).exists() and Absence.objects.filter(mandat=mandat).count() == 1
    assert not AuditLog.objects.filter(action="mairie.mandat_end").exists()


# ------------------------------------------------------------------ 3. doors
def test_a_plain_agent_is_refused_and_another_communes_admin_gets_404(commune, other_commune, agent_mairie, elu):
    mandat = Mandat.objects.create(user=elu, fonction="adjoint", temps_travail=70)
    edit, end = reverse("mairie:mandat_edit", args=[mandat.pk]), reverse("mairie:mandat_end", args=[mandat.pk])
    agent = logged(agent_mairie)
    for url in (reverse("mairie:mandats"), reverse("mairie:mandat_create"), edit, end):
        assert agent.post(url, {"user": agent_mairie.pk, "fonction": "maire", "temps_travail": "10"}).status_code \
            == 403, url
    assert agent.get(reverse("mairie:mandats")).status_code == 403
    admin_b = logged(UserFactory(username="admin-b", commune_admin=True, commune=other_commune))
    assert admin_b.get(edit).status_code == 404
    assert admin_b.post(edit, {"temps_travail": "10", "employeur": "x"}).status_code == 404
    assert admin_b.post(end).status_code == 404
    # Nor may B declare A's account.
    r = admin_b.post(reverse("mairie:mandat_create"), {"user": agent_mairie.pk, "fonction": "maire",
                                                       "temps_travail": "100"})
    assert r.status_code == 200 and r.context["form"].errors["user"]
    assert list(Mandat.objects.values_list("user", "temps_travail")) == [(elu.pk, 70)]
    assert not Mandat.objects.filter(user=agent_mairie).exists()


def test_the_django_admin_obeys_the_same_rule(commune, other_commune, elu):
    from elus.admin import MandatAdminForm

    taken = UserFactory(username="deja-elu", agent_mairie=True, commune=commune)
    existing = Mandat.objects.create(user=taken, fonction="conseiller")
    for user in (UserFactory(username="parti", agent_mairie=True, commune=commune, is_active=False), taken,
                 UserFactory(username="listes-a", agent_listes=True, commune=commune),
                 UserFactory(username="mandant-x")):
        form = MandatAdminForm({"user": user.pk, "fonction": "conseiller", "temps_travail": "100"})
        assert not form.is_valid() and "compte actif de l'espace mairie" in form.errors["user"][0], user.username
    assert MandatAdminForm({"user": elu.pk, "fonction": "maire", "temps_travail": "100"}).is_valid()
    # Editing an existing mandate keeps its account.
    assert MandatAdminForm({"user": taken.pk, "fonction": "adjoint", "temps_travail": "90"}, instance=existing).is_valid()
