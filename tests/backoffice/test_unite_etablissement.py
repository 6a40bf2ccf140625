"""Where the procurations a unit validates are established (User.unite_a_l_etranger): set by the
national administrator for a whole unit from the list of units, or when habilitating a person;
one audit entry per account changed; a unit admin's new officers follow their unit."""

import re

import pytest
from django.urls import reverse

from procuration.models import AuditLog, Role, User
from tests.backoffice.test_backoffice import text
from tests.factories import ProcurationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("backoffice:unite_etablissement")
CONSULAT = "Consulat général à Montréal"


@pytest.fixture
def consulat():
    """Two accounts of a unit abroad, still declared in France (the default)."""
    return [UserFactory(username="consul-a", policier=True, unite=CONSULAT, last_name="Roy"),
            UserFactory(username="consul-b", policier=True, unite=CONSULAT, last_name="Gagnon", is_unit_admin=True)]


def ticked(page: str, after: str = "") -> bool:
    """Whether the first « unité à l'étranger » box after `after` in the page is ticked."""
    tail = page.split(after, 1)[1] if after else page
    return " checked" in re.search(r'<input[^>]*name="unite_a_l_etranger"[^>]*>', tail).group(0)


def _audit():
    return list(AuditLog.objects.filter(action="backoffice.unite_etablissement").order_by("seq")
                .values_list("object_id", "detail"))


def test_the_list_of_units_offers_the_setting_with_its_hint(admin_client, consulat, policier):
    page = text(admin_client.get(reverse("backoffice:unites")))
    assert page.count("Unité à l'étranger (ambassade, consulat)") == 2  # one form per unit
    assert not ticked(page, after=f'data-unite="{CONSULAT}"')
    assert "les procurations que ses officiers et agents valident sont alors établies à l'étranger" in page
    assert page.count("Procurations validées par l'unité : établies en France.") == 2
    assert f'name="unite" value="{CONSULAT}"' in page


def test_the_admin_declares_a_unit_abroad_then_back_in_france(admin_client, admin_national, consulat, policier):
    response = admin_client.post(URL, {"unite": CONSULAT, "unite_a_l_etranger": "on"}, follow=True)
    assert response.status_code == 200
    assert (f"Unité « {CONSULAT} » : les procurations que valident ses officiers et agents sont désormais établies "
            "à l'étranger.") in text(response)
    assert set(User.objects.filter(unite=CONSULAT).values_list("unite_a_l_etranger", flat=True)) == {True}
    policier.refresh_from_db()
    assert not policier.unite_a_l_etranger  # another unit: untouched
    # Shown on the list, the box ticked; one audit entry per account, naming the admin.
    page = text(response)
    assert "Procurations validées par l'unité : établies à l'étranger." in page
    assert ticked(page, after=f'data-unite="{CONSULAT}"') and not ticked(page, after=f'data-unite="{policier.unite}"')
    assert _audit() == [(str(u.pk), {"unite": CONSULAT, "unite_a_l_etranger": True}) for u in consulat]
    assert set(AuditLog.objects.filter(action="backoffice.unite_etablissement").values_list("actor", flat=True)) == {
        admin_national.pk}

    # What it is for: an officer of the unit now establishes procurations abroad.
    p = ProcurationFactory(en_attente=True, etablissement="france")
    assert p.valider_autorite(by=User.objects.get(username="consul-a"), piece_type="passeport")
    p.refresh_from_db()
    assert p.etablissement == "etranger"

    admin_client.post(URL, {"unite": CONSULAT})  # box unticked: back in France
    assert set(User.objects.filter(unite=CONSULAT).values_list("unite_a_l_etranger", flat=True)) == {False}
    assert [d["unite_a_l_etranger"] for _, d in _audit()] == [True, True, False, False]
    p.refresh_from_db()
    assert p.etablissement == "etranger"  # a procuration already validated keeps where it was established


def test_saving_the_same_value_changes_nothing(admin_client, consulat):
    response = admin_client.post(URL, {"unite": CONSULAT}, follow=True)
    assert f"Unité « {CONSULAT} » : déjà déclarée en France, rien n'a changé." in text(response)
    assert _audit() == []


def test_a_unit_whose_accounts_disagree_is_flagged_and_aligned(admin_client, consulat):
    User.objects.filter(username="consul-a").update(unite_a_l_etranger=True)
    page = text(admin_client.get(reverse("backoffice:unites")))
    assert "ne sont pas tous déclarés de la même façon" in page
    admin_client.post(URL, {"unite": CONSULAT, "unite_a_l_etranger": "on"})
    assert _audit() == [(str(consulat[1].pk), {"unite": CONSULAT, "unite_a_l_etranger": True})]
    assert "ne sont pas tous déclarés" not in text(admin_client.get(reverse("backoffice:unites")))


def test_an_unknown_unit_is_404_and_a_missing_one_a_french_error(admin_client, consulat):
    assert admin_client.post(URL, {"unite": "Consulat inconnu", "unite_a_l_etranger": "on"}).status_code == 404
    response = admin_client.post(URL, {"unite_a_l_etranger": "on"})
    assert response.status_code == 400
    assert "Choisissez l'unité dans la liste des unités." in text(response)
    assert not User.objects.filter(unite_a_l_etranger=True).exists() and _audit() == []


def test_only_the_national_admin_sets_it(client, consulat):
    unit_admin = consulat[1]
    client.force_login(unit_admin)
    assert client.post(URL, {"unite": CONSULAT, "unite_a_l_etranger": "on"}).status_code == 403
    assert client.get(URL).status_code == 405
    assert not User.objects.filter(unite_a_l_etranger=True).exists()


def _habilitation(**changes):
    return {"username": "consul.c", "first_name": "Luc", "last_name": "Tremblay", "email": "luc@diplomatie.example",
            "qualite": "APJ", "unite": CONSULAT, "matricule": "555", **changes}


def test_habilitating_in_a_new_unit_abroad(admin_client):
    page = text(admin_client.get(reverse("backoffice:officier_new")))
    assert "Unité à l'étranger (ambassade, consulat)" in page
    response = admin_client.post(reverse("backoffice:officier_new"), _habilitation(unite_a_l_etranger="on"))
    assert response.status_code == 302
    officer = User.objects.get(username="consul.c")
    assert (officer.role, officer.unite, officer.unite_a_l_etranger) == (Role.POLICIER, CONSULAT, True)
    entry = AuditLog.objects.get(action="backoffice.officier_create", object_id=str(officer.pk))
    assert entry.detail == {"unite": CONSULAT, "unite_a_l_etranger": True}


def test_habilitating_in_an_existing_unit_follows_the_unit(admin_client, consulat):
    User.objects.filter(unite=CONSULAT).update(unite_a_l_etranger=True)
    # The link « Habiliter une personne dans l'unité » opens the form with the unit's value.
    page = text(admin_client.get(reverse("backoffice:officier_new"), {"unite": CONSULAT}))
    assert ticked(page)
    assert not ticked(text(admin_client.get(reverse("backoffice:officier_new"), {"unite": "Brigade nouvelle"})))
    response = admin_client.post(reverse("backoffice:officier_new"), _habilitation())  # box unticked
    assert response.status_code == 200
    assert (f"L'unité « {CONSULAT} » est déclarée à l'étranger : la personne habilitée y suit son unité."
            in text(response))
    assert not User.objects.filter(username="consul.c").exists()


def test_a_unit_admin_abroad_creates_officers_abroad(client, consulat):
    unit_admin = consulat[1]
    User.objects.filter(pk=unit_admin.pk).update(unite_a_l_etranger=True)
    client.force_login(unit_admin)
    page = text(client.get(reverse("police:unite")))
    assert "Les procurations que valide votre unité sont établies à l'étranger." in page
    client.post(reverse("police:unite"), {"last_name": "Côté", "first_name": "Anne", "qualite": "APJ",
                                          "matricule": "4242", "email": "anne@diplomatie.example"})
    officer = User.objects.get(matricule="4242")
    assert (officer.unite, officer.unite_a_l_etranger) == (CONSULAT, True)
    assert AuditLog.objects.get(action="police.compte_cree", object_id=str(officer.pk)).detail["unite_a_l_etranger"]
