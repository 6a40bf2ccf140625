"""The rest of listes.models, to the value: stored file names, who sees which télédossier, the list(s)
asked in words, the numéro and the NNE drawn (bounds and retries), and the inscription of an elector
already on a list (same commune or another, either way)."""

import datetime
import re

import pytest
import time_machine
from django.db import IntegrityError

from listes import models
from listes.models import Teledossier, normalize_numero
from procuration.models import AuditLog, BureauDeVote, Electeur, Liste, Role, Status
from tests.factories import BureauDeVoteFactory, CommuneFactory, ElecteurFactory, ProcurationFactory, UserFactory
from tests.listes.test_teledossier_machine import deposer

# ------------------------------------------------------------------ stored file names


@pytest.mark.parametrize("upload_to, folder", [
    (models.piece_upload_to, "pieces"), (models.document_upload_to, "documents"), (models.image_upload_to, "images"),
])
@pytest.mark.parametrize("filename, ext", [
    ("cni.PDF", ".pdf"), ("photo.jpeg", ".jpeg"), ("scan.tiffxyz", ".tiff"), ("facture.Png.HTML5", ".html"),
    ("sans-extension", ""),
])
def test_a_stored_name_is_random_with_the_extension_cut_to_a_dot_and_four_letters(upload_to, folder, filename, ext):
    with time_machine.travel(datetime.datetime(2027, 3, 9, 12, 0, tzinfo=datetime.UTC), tick=False):
        name = upload_to(None, filename)
    assert re.fullmatch(rf"listes/{folder}/2027/03/[0-9a-f]{{32}}{re.escape(ext)}", name), name


# ------------------------------------------------------------------ who sees which télédossier


def test_who_sees_which_teledossier(commune, other_commune, mandant_user, mandant_b, agent_listes, agent_mairie,
                                    commune_admin, policier, admin_national):
    mine = deposer(commune, usager=mandant_user)
    theirs = deposer(commune, "rco", usager=mandant_b)
    elsewhere = deposer(other_commune, usager=mandant_b)
    listes_b = UserFactory(username="listes-b", agent_listes=True, commune=other_commune)
    inactive_listes = UserFactory(username="listes-parti", agent_listes=True, commune=commune, is_active=False)
    seen = {
        "mandant_user": {mine}, "mandant_b": {theirs, elsewhere},
        "agent_listes": {mine, theirs}, "listes_b": {elsewhere},
        "inactive_listes": set(),
        # The procurations' agents, the commune's administrator, the police and the national admin see none.
        "agent_mairie": set(), "commune_admin": set(), "policier": set(), "admin_national": set(),
    }
    users = {"mandant_user": mandant_user, "mandant_b": mandant_b, "agent_listes": agent_listes, "listes_b": listes_b,
             "inactive_listes": inactive_listes,
             "agent_mairie": agent_mairie, "commune_admin": commune_admin, "policier": policier,
             "admin_national": admin_national}
    assert {name: set(Teledossier.objects.visible_to(u)) for name, u in users.items()} == seen
    mandant_user.is_active = False
    assert list(Teledossier.objects.visible_to(mandant_user)) == []


def test_an_account_the_national_admin_turned_into_another_role_no_longer_sees_what_it_filed(commune, mandant_b):
    """The role is editable in the national admin (procuration/admin.py): a mandant's account made a
    policier's, or an agent's, keeps its télédossiers in the database but sees none of them."""
    d = deposer(commune, usager=mandant_b)
    assert list(Teledossier.objects.visible_to(mandant_b)) == [d]
    for role in (Role.POLICIER, Role.AGENT_MAIRIE, Role.ADMIN_NATIONAL):
        mandant_b.role = role
        mandant_b.commune = commune if role == Role.AGENT_MAIRIE else None
        assert list(Teledossier.objects.visible_to(mandant_b)) == [], role


@pytest.mark.parametrize("role", [Role.ADMIN_NATIONAL, Role.POLICIER, Role.AGENT_MAIRIE, Role.MANDANT])
def test_an_agent_des_listes_given_another_role_with_the_commune_kept_no_longer_sees_its_dossiers(
        commune, agent_listes, mandant_b, role):
    """The national admin changes an agent des listes' role and leaves the commune in the account (only
    the agents' roles require one): the commune's télédossiers are the agent des listes' alone."""
    d = deposer(commune, usager=mandant_b)
    assert list(Teledossier.objects.visible_to(agent_listes)) == [d]
    agent_listes.role = role
    agent_listes.save(update_fields=["role"])
    user = type(agent_listes).objects.get(pk=agent_listes.pk)  # as the request reads it
    assert (user.role, user.commune_id) == (role, commune.pk)
    assert list(Teledossier.objects.visible_to(user)) == []


# ------------------------------------------------------------------ the list(s) asked, in words


@pytest.mark.parametrize("nationalite, municipales, europeennes, listes, label", [
    ("FR", False, False, "Liste principale", "Française"),
    ("IT", True, False, "Liste complémentaire municipales", "Italie"),
    ("DE", False, True, "Liste complémentaire européennes", "Allemagne"),
    ("ES", True, True, "Listes complémentaires municipales et européennes", "Espagne"),
    ("XX", True, False, "Liste complémentaire municipales", "XX"),  # a code no longer known is shown as is
])
def test_the_lists_and_the_nationality_in_words(nationalite, municipales, europeennes, listes, label):
    d = Teledossier(demarche="ile", nationalite=nationalite, complementaire_municipales=municipales,
                    complementaire_europeennes=europeennes)
    assert (d.listes_label, d.nationalite_label) == (listes, label)


@pytest.mark.parametrize("extra, listes, label", [
    ({"nationalite": "IT", "complementaire_europeennes": True, "declaration_nationalite": True,
      "declaration_adresse": True, "declaration_droit_de_vote": True, "declaration_vote_en_france": True},
     "Liste complémentaire européennes", "Italie"),
    # The nationality as read from the database (not the literal "FR" of the code): still « Française ».
    ({}, "Liste principale", "Française"),
])
def test_the_agent_reads_the_lists_asked_and_the_nationality(client, commune, agent_listes, extra, listes, label):
    d = deposer(commune, **extra)
    client.force_login(agent_listes)
    from django.urls import reverse

    html = client.get(reverse("listes:dossier", args=[d.numero])).content.decode()
    assert f'<dd id="listes">{listes}</dd>' in html
    assert f'<dd id="nationalite">{label}</dd>' in html
    stored = Teledossier.objects.get(pk=d.pk)
    assert (stored.listes_label, stored.nationalite_label) == (listes, label)


# ------------------------------------------------------------------ numéro


@pytest.mark.parametrize("typed, numero", [
    ("a9nkt2g5kb", "A-9-NKT2G5KB"),
    ("A9KT2G5K", "A-9-A9KT2G5K"),      # eight characters that start with A9: no prefix to take off
    ("A9A9NKT2G5K", "A-9-A9A9NKT2G5K"),  # eleven: not a prefixed numéro either
    ("NKT2G5KBXY", "A-9-NKT2G5KBXY"),  # ten that do not start with A9
    ("a-9-nk0i-l5kb", "A-9-NK0115KB"),  # look-alikes
    ("", "A-9-"),
    (None, "A-9-"),
])
def test_normalize_numero_takes_the_prefix_off_only_a_prefixed_numero(typed, numero):
    assert normalize_numero(typed) == numero


def numeros(monkeypatch, taken: str, collisions: int, free: str):
    codes = iter([taken] * collisions + [free])
    monkeypatch.setattr(models, "generate_numero", lambda: next(codes))


def test_the_numero_is_drawn_again_up_to_twenty_times(monkeypatch, commune, mandant_b):
    first = deposer(commune, "rco", usager=mandant_b)
    numeros(monkeypatch, first.numero, 19, "A-9-ZZZZ2222")
    assert deposer(commune, "rco", usager=mandant_b).numero == "A-9-ZZZZ2222"
    numeros(monkeypatch, first.numero, 20, "A-9-ZZZZ3333")  # a 21st draw would be free
    with pytest.raises(IntegrityError, match="Impossible d'attribuer un numéro de télédossier unique."):
        deposer(commune, "rco", usager=mandant_b)
    assert Teledossier.objects.count() == 2


def test_an_integrity_error_other_than_the_numero_is_not_retried(monkeypatch, commune, mandant_b):
    drawn = []
    monkeypatch.setattr(models, "generate_numero", lambda: drawn.append(1) or f"A-9-ZZZZ222{len(drawn)}")
    with pytest.raises(IntegrityError, match="ile_acceptee_electeur"):
        deposer(commune, usager=mandant_b, decision="acceptee")
    assert len(drawn) == 1 and not Teledossier.objects.exists()


# ------------------------------------------------------------------ NNE


@pytest.mark.parametrize("pick, nne", [("lowest", "100000000"), ("highest", "999999999")])
def test_a_new_nne_has_nine_digits_from_100000000_to_999999999(monkeypatch, db, pick, nne):
    asked = []

    def randbelow(n):
        asked.append(n)
        return 0 if pick == "lowest" else n - 1

    monkeypatch.setattr(models.secrets, "randbelow", randbelow)
    assert models._new_nne() == nne
    assert asked == [900000000] and type(asked[0]) is int


@pytest.mark.parametrize("collisions, nne", [(49, "100000001"), (50, None)])
def test_a_new_nne_is_drawn_again_up_to_fifty_times(monkeypatch, db, collisions, nne):
    ElecteurFactory(nne="100000000")
    draws = iter([0] * collisions + [1] * 5)
    monkeypatch.setattr(models.secrets, "randbelow", lambda n: next(draws))
    if nne is None:
        with pytest.raises(IntegrityError, match="Impossible d'attribuer un NNE unique."):
            models._new_nne()
    else:
        assert models._new_nne() == nne


@pytest.mark.parametrize("collisions, ok", [(1, True), (4, True), (5, False)])
def test_an_nne_taken_between_the_draw_and_the_insert_is_drawn_again_up_to_five_times(
        monkeypatch, commune, agent_listes, collisions, ok):
    """Another inscription may take the NNE just drawn before this one inserts it (the draw checks,
    the insert fails on the unique NNE): drawn again, five times at most, the dossier left as it was
    if none is free."""
    taken = ElecteurFactory(nne="123456789", commune=commune).nne
    nnes = iter([taken] * collisions + ["987654321"])
    monkeypatch.setattr(models, "_new_nne", lambda: next(nnes))
    d = deposer(commune)
    before = Electeur.objects.count()
    if ok:
        assert d.accepter(by=agent_listes, comment="Bienvenue.") is True
        assert d.electeur.nne == "987654321" and Electeur.objects.count() == before + 1
    else:
        with pytest.raises(IntegrityError, match="Impossible d'attribuer un NNE unique."):
            d.accepter(by=agent_listes, comment="Bienvenue.")
        d.refresh_from_db()
        assert (d.etat, d.decision, d.electeur_id, Electeur.objects.count()) == ("transmis", "", None, before)


# ------------------------------------------------------------------ an elector already on a list


def ile_of(user, commune, **extra):
    return deposer(commune, usager=user, nom=user.last_name, prenoms=user.first_name, ville=commune.nom, **extra)


def test_a_new_address_in_the_same_commune_keeps_the_bureau_and_the_procurations(
        commune, mandant_user, mandant_electeur, agent_listes):
    """Marie Dupont moves within Almayrac: her ILE updates her address (and her nom d'usage), she stays
    in her bureau, nothing is radiated and the procuration she gave stands."""
    assert mandant_electeur.bureau.numero == 1
    bureau_3 = BureauDeVoteFactory(commune=commune, numero=3)
    Electeur.objects.filter(pk=mandant_electeur.pk).update(bureau=bureau_3)
    given = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, commune=commune)
    d = ile_of(mandant_user, commune, nom_usage="MARTIN", adresse="8 place du Foirail")
    assert d.accepter(by=agent_listes, comment="Adresse mise à jour.") is True
    e = Electeur.objects.get(pk=mandant_electeur.pk)
    assert (e.commune_id, e.bureau_id, e.nne, e.inscrit) == (commune.pk, bureau_3.pk, mandant_electeur.nne, True)
    assert (e.adresse, e.nom_usage) == ("8 place du Foirail, 81190 Almayrac", "MARTIN")
    assert not AuditLog.objects.filter(action="registre.radiation").exists()
    given.refresh_from_db()
    assert given.status == Status.VALIDEE_MAIRIE


@pytest.mark.parametrize("direction", ["to the commune created first", "to the commune created last"])
def test_a_move_either_way_takes_the_first_bureau_of_the_new_commune_and_radiates_from_the_former(db, direction):
    """The move is the same whichever commune has the smaller key: registration moved to the new
    commune's first bureau (by number), radiation from the former recorded; no nom d'usage given, the
    one on the register stays."""
    first, last = CommuneFactory(nom="Arthès", code_insee="81017"), CommuneFactory(nom="Cagnac", code_insee="81048")
    old, new = (last, first) if direction == "to the commune created first" else (first, last)
    BureauDeVoteFactory(commune=new, numero=2)
    bureau_1 = BureauDeVoteFactory(commune=new, numero=1)
    electeur = ElecteurFactory(commune=old, nom="ROUX", prenoms="Léa", nom_usage="BERNARD", sexe="F",
                               date_naissance=datetime.date(1985, 6, 1))
    user = UserFactory(username="lea", first_name="Léa", last_name="ROUX", gender="F",
                       birthdate=datetime.date(1985, 6, 1), birthplace=electeur.code_lieu_naissance,
                       birthcountry=electeur.code_pays_naissance)
    agent = UserFactory(username="listes-new", agent_listes=True, commune=new)
    d = ile_of(user, new)
    assert d.accepter(by=agent, comment="Bienvenue.") is True
    e = Electeur.objects.get(pk=electeur.pk)
    assert (e.commune_id, e.bureau_id, e.nom_usage, e.nne) == (new.pk, bureau_1.pk, "BERNARD", electeur.nne)
    assert (e.liste, e.adresse) == (Liste.PRINCIPALE, f"3 rue des Lilas, 81190 {new.nom}")
    radiation = AuditLog.objects.get(action="registre.radiation")
    assert (radiation.detail["commune"], radiation.detail["nouvelle_commune"]) == (old.code_insee, new.code_insee)
    assert BureauDeVote.objects.filter(commune=new).count() == 2


def test_a_new_address_in_a_commune_of_large_key_keeps_the_bureau_and_nothing_is_radiated(db):
    """The same move within the commune, with a commune key as in production (tens of thousands of
    communes: well beyond the small integers Python keeps one copy of): the elector's commune and the
    dossier's, each read from its own row, are the same commune."""
    commune = CommuneFactory(pk=81005, nom="Almayrac", code_insee="81005")
    BureauDeVoteFactory(commune=commune, numero=1)
    bureau_2 = BureauDeVoteFactory(commune=commune, numero=2)
    electeur = ElecteurFactory(commune=commune, bureau=bureau_2, nom="ROUX", prenoms="Léa", sexe="F",
                               date_naissance=datetime.date(1985, 6, 1))
    user = UserFactory(username="lea", first_name="Léa", last_name="ROUX", gender="F",
                       birthdate=datetime.date(1985, 6, 1), birthplace=electeur.code_lieu_naissance,
                       birthcountry=electeur.code_pays_naissance)
    given = ProcurationFactory(validee_mairie=True, mandant=electeur, commune=commune)
    agent = UserFactory(username="listes-almayrac", agent_listes=True, commune=commune)
    d = ile_of(user, commune, adresse="8 place du Foirail")
    assert d.accepter(by=agent, comment="Adresse mise à jour.") is True
    e = Electeur.objects.get(pk=electeur.pk)
    assert (e.commune_id, e.bureau_id, e.nne, e.adresse) == (81005, bureau_2.pk, electeur.nne,
                                                             "8 place du Foirail, 81190 Almayrac")
    assert not AuditLog.objects.filter(action="registre.radiation").exists()
    given.refresh_from_db()
    assert given.status == Status.VALIDEE_MAIRIE
