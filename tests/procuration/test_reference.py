"""The 6-character reference: alphabet, normalisation of typed input, uniqueness with retry."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError

from procuration.exceptions import DomainError
from procuration.models import Procuration, Status
from procuration.models import procuration as procuration_module
from procuration.reference import ALPHABET, InvalidReference, generate_reference, normalize_reference
from procuration.registry import find_electeur_by_etat_civil, find_mandataire_by_nne, fold
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory


def test_alphabet_is_crockford_without_ambiguous_characters():
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_generated_references_use_the_alphabet_and_vary():
    refs = {generate_reference() for _ in range(2000)}
    assert len(refs) == 2000  # 32**6 ≈ 1e9 codes: no collision expected in 2000
    assert all(len(r) == 6 and set(r) <= set(ALPHABET) for r in refs)
    # every character of the alphabet shows up (secrets.choice over all 32)
    assert set("".join(refs)) == set(ALPHABET)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ab3k7z", "AB3K7Z"),  # case
        ("  AB3 K7Z ", "AB3K7Z"),  # spaces
        ("AB3-K7Z", "AB3K7Z"),  # dashes
        ("ab3_k7.z", "AB3K7Z"),  # other separators
        ("AB3\u00a0K7Z", "AB3K7Z"),  # non-breaking space (copied from an e-mail)
        ("O0OABC", "000ABC"),  # O -> 0
        ("oo1abc", "001ABC"),
        ("IL1ABC", "111ABC"),  # I and L -> 1
        ("il1abc", "111ABC"),
        ("ＡＢ３Ｋ７Ｚ", "AB3K7Z"),  # full-width
        ("АВ3К7Х", "AB3K7X"),  # Cyrillic capitals А В К Х
        ("ав3к7х", "AB3K7X"),  # Cyrillic lower case
        ("РЕМТНС", "PEMTHC"),  # Cyrillic Р Е М Т Н С
        ("ОІ2345", "012345"),  # Cyrillic О and Ukrainian І
        ("ΑΒΕΖΗΚ", "ABEZHK"),  # Greek capitals
    ],
)
def test_normalisation(typed, expected):
    assert normalize_reference(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Saisissez la référence"),
        ("   - ", "Saisissez la référence"),
        (None, "Saisissez la référence"),
        ("AB3K7", "compte 6 caractères ; vous en avez saisi 5"),
        ("AB3K7ZZ", "compte 6 caractères ; vous en avez saisi 7"),
        ("AB3K7U", "caractère non reconnu : U"),
        ("AB3K7!", "caractère non reconnu : !"),
        ("AB3K7É", "caractère non reconnu : É"),
    ],
)
def test_invalid_input_gives_a_french_message(typed, message):
    with pytest.raises(InvalidReference) as excinfo:
        normalize_reference(typed)
    assert message in str(excinfo.value)
    assert isinstance(excinfo.value, DomainError) and isinstance(excinfo.value, ValueError)


def test_by_reference_finds_the_procuration_from_typed_input(db):
    p = ProcurationFactory(en_attente=True, reference="0B1K7Z")
    assert Procuration.objects.by_reference("ob-ik 7z") == p
    assert Procuration.objects.by_reference("0B1K72") is None
    with pytest.raises(InvalidReference):
        Procuration.objects.by_reference("0B1")


def test_by_reference_keeps_the_scope(db, mandant_user, mandant_b):
    p = ProcurationFactory(en_attente=True, reference="AAAAAA", mandant_user=mandant_user)
    assert Procuration.objects.visible_to(mandant_user).by_reference("aaaaaa") == p
    assert Procuration.objects.visible_to(mandant_b).by_reference("aaaaaa") is None


def test_reference_is_unique_in_the_database(db):
    ProcurationFactory(en_attente=True, reference="ZZZZZZ")
    with pytest.raises(IntegrityError):
        ProcurationFactory(en_attente=True, reference="ZZZZZZ")


def test_collision_is_retried(db, monkeypatch):
    ProcurationFactory(en_attente=True, reference="TAKEN0")
    draws = iter(["TAKEN0", "TAKEN0", "FRESH1"])
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: next(draws))
    p = ProcurationFactory()
    assert p.soumettre() is True
    p.refresh_from_db()
    assert p.reference == "FRESH1" and p.status == Status.EN_ATTENTE
    assert Procuration.objects.filter(reference="TAKEN0").count() == 1


def test_collision_retry_gives_up_after_the_attempts(db, monkeypatch):
    ProcurationFactory(en_attente=True, reference="TAKEN0")
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: "TAKEN0")
    p = ProcurationFactory()
    with pytest.raises(IntegrityError):
        p.soumettre()
    p.refresh_from_db()
    assert p.status == Status.BROUILLON and p.reference is None


# ------------------------------------------------------------------ finding the mandataire in the register


def test_find_mandataire_by_nne_needs_the_date_of_birth(commune):
    e = ElecteurFactory(nne="123456789", date_naissance=datetime.date(1970, 3, 4), commune=commune)
    assert find_mandataire_by_nne("123 456 789", datetime.date(1970, 3, 4)) == e
    assert find_mandataire_by_nne("123456789", datetime.date(1970, 3, 5)) is None
    ElecteurFactory(nne="87654321", inscrit=False)
    assert find_mandataire_by_nne("87654321", datetime.date(1980, 1, 15)) is None  # radiated: not on a list
    with pytest.raises(DomainError, match="8 ou 9 chiffres"):
        find_mandataire_by_nne("12AB", datetime.date(1970, 3, 4))


def test_find_electeur_by_etat_civil_ignores_case_and_accents(commune, other_commune):
    born = datetime.date(1985, 6, 7)
    e = ElecteurFactory(nom="LEFÈVRE", nom_usage="DURAND", prenoms="Éloïse Marie", sexe="F", date_naissance=born,
                        commune=commune)
    ElecteurFactory(nom="LEFEVRE", prenoms="Eloise", sexe="F", date_naissance=born, commune=other_commune)
    assert find_electeur_by_etat_civil("lefevre", "eloise", "F", born, commune) == e
    assert find_electeur_by_etat_civil("Lefèvre", "ÉLOÏSE-MARIE", "F", born, commune.pk) == e
    assert find_electeur_by_etat_civil("durand", "Eloise", "F", born, commune.code_insee) == e  # nom d'usage
    assert find_electeur_by_etat_civil("lefevre", "Marie", "F", born, commune) is None  # not the first prénom
    assert find_electeur_by_etat_civil("lefevre", "Eloise", "M", born, commune) is None
    assert find_electeur_by_etat_civil("lefevre", "Eloise", "F", datetime.date(1985, 6, 8), commune) is None


def test_find_electeur_by_etat_civil_homonyms_give_none(commune):
    born = datetime.date(1985, 6, 7)
    ElecteurFactory(nom="MARTIN", prenoms="Jean", sexe="M", date_naissance=born, commune=commune)
    ElecteurFactory(nom="MARTIN", prenoms="Jean", sexe="M", date_naissance=born, commune=commune)
    assert find_electeur_by_etat_civil("Martin", "Jean", "M", born, commune) is None


def test_fold():
    assert fold("  Œuvre-d'ÉTÉ ") == "oeuvre d ete"


def test_who_sees_which_procuration(db, mandant_user):
    """visible_to, by kind of user: the mandant their own, the mairie's agent their commune's
    (brouillons left out), the national administrator all; an agent of the listes (even of the same
    commune), a policier (who looks up a reference, never a list, even if the account names a commune),
    a deactivated account and an anonymous see none."""
    own = ProcurationFactory(en_attente=True, mandant_user=mandant_user)
    other = ProcurationFactory(en_attente=True)
    agent = UserFactory(username="agent-v", agent_mairie=True, commune=other.commune)
    seen = {
        "mandant": set(Procuration.objects.visible_to(mandant_user)),
        "agent_mairie": set(Procuration.objects.visible_to(agent)),
        "admin_national": set(Procuration.objects.visible_to(UserFactory(username="admin-v", admin_national=True))),
        "agent_listes": set(Procuration.objects.visible_to(UserFactory(username="listes-v", agent_listes=True, commune=other.commune))),
        "policier": set(Procuration.objects.visible_to(UserFactory(username="opj-v", policier=True, commune=other.commune))),
        "anonyme": set(Procuration.objects.visible_to(AnonymousUser())),
        "desactive": set(Procuration.objects.visible_to(
            UserFactory(username="agent-off", agent_mairie=True, commune=other.commune, is_active=False))),
    }
    assert seen == {"mandant": {own}, "agent_mairie": {other}, "admin_national": {own, other}, "agent_listes": set(),
                    "policier": set(), "anonyme": set(), "desactive": set()}
