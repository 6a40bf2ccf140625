"""An identity is linked to exactly one person: a FranceConnect / France Identité ``sub`` enters
its own account only; a new ``sub`` joins an existing account, and a login finds its elector, only
on the whole identité pivot (names, birth date, sex, country and place of birth); several
candidates link nothing. Through the real local OIDC providers."""

import datetime
from html import unescape

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from mandant import services
from procuration import registry
from procuration.identity import Pivot
from tests.factories import ElecteurFactory, UserFactory
from tests.mandant.conftest import oidc_login

User = get_user_model()


def account(sub: str):
    return User.objects.filter(socialaccount__uid=sub).distinct().get()


def login_alone(provider_id: str, sub: str):
    """A fresh browser (client) for each person."""
    c = Client()
    return c, oidc_login(c, provider_id, sub)


# ------------------------------------------------------------------ linking accounts
def test_homonyms_born_abroad_in_two_countries_get_their_own_accounts(db, oidc_provider):
    login_alone("franceconnect", "fc-amina-ma")
    login_alone("franceconnect", "fc-amina-dz")
    maroc, algerie = account("fc-amina-ma"), account("fc-amina-dz")
    assert maroc.pk != algerie.pk
    assert (maroc.birthplace, maroc.birthcountry) == ("", "99350")
    assert (algerie.birthplace, algerie.birthcountry) == ("", "99352")


def test_a_second_franceconnect_sub_with_the_same_pivot_is_another_person(db, oidc_provider):
    """Same names, day, sex and country of birth: FranceConnect gives one sub per person, so an
    account that already holds a FranceConnect sub is never entered by another one."""
    login_alone("franceconnect", "fc-amina-ma")
    _, page = login_alone("franceconnect", "fc-amina-ma-bis")
    assert account("fc-amina-ma").pk != account("fc-amina-ma-bis").pk
    assert page.wsgi_request.user == account("fc-amina-ma-bis")
    assert set(account("fc-amina-ma").socialaccount_set.values_list("uid", flat=True)) == {"fc-amina-ma"}


def test_homonyms_born_in_two_french_communes_get_their_own_accounts(db, oidc_provider):
    login_alone("franceconnect", "fc-louis-albi")
    login_alone("franceidentite", "fc-louis-paris")
    assert account("fc-louis-albi").pk != account("fc-louis-paris").pk


def test_one_person_through_both_providers_is_one_account(db, oidc_provider):
    """Born abroad too: the country of birth, compared, is the same."""
    login_alone("franceconnect", "fc-amina-dz")  # a homonym born elsewhere exists
    c, _ = login_alone("franceconnect", "fc-amina-ma")
    me = account("fc-amina-ma")
    c.logout()
    page = oidc_login(c, "franceidentite", "fc-amina-ma")
    assert page.wsgi_request.user == me
    assert set(me.socialaccount_set.values_list("provider", flat=True)) == {"franceconnect", "franceidentite"}
    assert User.objects.filter(role="mandant").count() == 2


def test_several_matching_accounts_link_nothing_and_send_to_the_mairie(db, oidc_provider):
    login_alone("franceconnect", "fc-amina-ma")
    login_alone("franceconnect", "fc-amina-ma-bis")
    _, page = login_alone("franceidentite", "fc-amina-ma")
    assert not page.wsgi_request.user.is_authenticated
    assert "Plusieurs comptes correspondent à votre identité" in unescape(page.content.decode())
    assert "Contactez votre mairie" in unescape(page.content.decode())
    assert not User.objects.filter(socialaccount__provider="franceidentite").exists()
    assert User.objects.filter(role="mandant").count() == 2


def test_a_missing_country_of_birth_never_links(db, oidc_provider):
    login_alone("franceconnect", "fc-marie")
    _, page = login_alone("franceidentite", "sans-pays-marie")
    assert account("sans-pays-marie").pk != account("fc-marie").pk
    assert page.wsgi_request.user == account("sans-pays-marie")


def test_a_linked_sub_enters_its_own_account_only(db, oidc_provider):
    """After linking, each sub keeps entering the same account, whatever the other logins do."""
    login_alone("franceconnect", "fc-amina-ma")
    login_alone("franceidentite", "fc-amina-ma")
    login_alone("franceconnect", "fc-amina-ma-bis")
    for provider_id in ("franceconnect", "franceidentite"):
        _, page = login_alone(provider_id, "fc-amina-ma")
        assert page.wsgi_request.user == account("fc-amina-ma")
    _, page = login_alone("franceconnect", "fc-amina-ma-bis")
    assert page.wsgi_request.user == account("fc-amina-ma-bis") != account("fc-amina-ma")


# ------------------------------------------------------------------ matching the register
def test_login_finds_the_elector_born_in_its_own_country(db, oidc_provider, commune, other_commune):
    amina = dict(nom="BENALI", prenoms="Amina", sexe="F", date_naissance=datetime.date(1985, 3, 4),
                 code_lieu_naissance="")
    ElecteurFactory(commune=commune, code_pays_naissance="99350", **amina)
    ElecteurFactory(commune=other_commune, code_pays_naissance="99352", **amina)
    _, page = login_alone("franceconnect", "fc-amina-ma")
    assert "Vous êtes inscrit(e) sur la liste électorale d'Almayrac" in unescape(page.content.decode())
    _, page = login_alone("franceconnect", "fc-amina-dz")
    assert "Vous êtes inscrit(e) sur la liste électorale de Loisieux" in unescape(page.content.decode())


def test_two_register_entries_with_the_login_pivot_send_to_the_mairie(db, oidc_provider, commune, other_commune):
    for c in (commune, other_commune):
        ElecteurFactory(commune=c, nom="MARTIN", prenoms="Louis Henri", sexe="M",
                        date_naissance=datetime.date(1990, 1, 1), code_lieu_naissance="81004")
    c, _ = login_alone("franceconnect", "fc-louis-albi")
    html = c.get(reverse("mandant:demande"), follow=True).content.decode()
    assert "Plusieurs électeurs inscrits ont exactement votre identité" in html
    assert "Contactez votre mairie" in html
    # The homonym born in Paris is neither of them.
    c, _ = login_alone("franceconnect", "fc-louis-paris")
    html = c.get(reverse("mandant:demande"), follow=True).content.decode()
    assert "Aucun électeur inscrit ne correspond à votre identité" in html


def test_a_missing_or_differing_field_never_matches_the_register(db, commune):
    e = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", sexe="F",
                        date_naissance=datetime.date(1980, 5, 12), code_lieu_naissance="81004")
    pivot = dict(username="p", last_name="Dupont", first_name="Marie Claire", birthdate=e.date_naissance,
                 gender="F", birthplace="81004", birthcountry="99100")
    assert services.electeur_for_user(UserFactory.build(**pivot)) == (e, "")
    for change in ({"birthcountry": ""}, {"birthplace": ""}, {"birthplace": "75056"}, {"gender": ""},
                   {"first_name": "Marie"}, {"birthcountry": "99350"}):
        assert services.electeur_for_user(UserFactory.build(**{**pivot, **change})) == (None, "introuvable"), change
    # A register entry without its country of birth matches nobody.
    e.code_pays_naissance = ""
    e.save()
    assert services.electeur_for_user(UserFactory.build(**pivot)) == (None, "introuvable")


def test_pivot_completeness():
    born_fr = Pivot("Dupont", "Marie", datetime.date(1980, 5, 12), "F", "81004", "99100")
    assert born_fr.complete
    assert not Pivot("Dupont", "Marie", datetime.date(1980, 5, 12), "F", "", "99100").complete
    assert Pivot("Dupont", "Marie", datetime.date(1980, 5, 12), "F", "", "99350").complete
    assert not Pivot("Dupont", "Marie", datetime.date(1980, 5, 12), "F", "", "").complete
    assert not Pivot("Dupont", "Marie", None, "F", "81004", "99100").complete
    assert not born_fr.matches(Pivot("Dupont", "Marie", datetime.date(1980, 5, 12), "F", "81004", ""))
    assert born_fr.matches(Pivot("DUPONT", "marie", datetime.date(1980, 5, 12), "F", "81004", "99100"))


def test_login_matching_and_register_lookups_fold_names_alike(db, commune):
    """One normalisation for every path: the login finds « LECŒUR Zoé » as « Lecoeur Zoe », as
    the état-civil lookup of the mandataire does."""
    e = ElecteurFactory(commune=commune, nom="LECŒUR", prenoms="Zoé", sexe="F", date_naissance=datetime.date(1990, 4, 2))
    user = UserFactory.build(username="z", last_name="Lecoeur", first_name="Zoe", birthdate=e.date_naissance,
                             gender="F", birthplace="81004", birthcountry="99100")
    assert services.electeur_for_user(user) == (e, "")
    assert registry.find_electeur_by_etat_civil("Lecoeur", "Zoe", "F", e.date_naissance, commune) == e
