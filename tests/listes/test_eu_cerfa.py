"""The ILE of a citizen of another EU member state: their own CERFA (n° 12670*02 for the
municipales, n° 12671*02 for the européennes, one per liste complémentaire asked) and their written
declaration (code électoral LO227-4; loi n° 77-729 du 7 juillet 1977 art. 2-3), required by the
form, kept on the télédossier, printed on the CERFA and written to the XML.
The two rules live in listes.rules: ile_cerfas and ile_declarations."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from listes import rules
from listes.documents import teledossier_xml
from listes.models import Teledossier
from procuration.exceptions import DomainError
from tests.factories import UserFactory
from tests.listes.conftest import DECLARATIONS_UE, ile_post_data
from tests.listes.test_zip import XSD, _zip, pdftotext
from tests.listes.xsd_check import Schema, SchemaError

NS = {"t": "urn:demarches-electorales:listes:teledossier:1"}
LO227_4 = "code électoral, article LO227-4"
ART_2_3 = "loi n° 77-729 du 7 juillet 1977, article 2-3"
COMMON = ("declaration_nationalite", "declaration_adresse", "declaration_droit_de_vote")
ALL = (*COMMON, "declaration_vote_en_france")
LISTS = {"municipales": ["municipales"], "europeennes": ["europeennes"], "les deux": ["municipales", "europeennes"]}
MISSING = ("Cochez cette déclaration : elle est exigée des citoyens de l&#x27;Union européenne "
           "(code électoral, article LO227-4).")


@pytest.fixture
def citoyen_ue(db):
    return UserFactory(username="ue", first_name="Giulia", last_name="ROSSI", gender="F",
                       birthdate=datetime.date(1988, 4, 2), birthplace="", birthcountry="99127",
                       email="giulia.rossi@example.it")


def _ue(file_ile, user, lists, **extra):
    data = {"nationalite": "UE", "etat_membre": "IT", "complementaires": LISTS[lists], **DECLARATIONS_UE}
    data.update(extra)
    return file_ile(user=user, **data)


# ------------------------------------------------------------------ the rules, directly


@pytest.mark.parametrize("nationalite, complementaires, numeros", [
    ("FR", [], ("12669*02",)),
    ("IT", ["municipales"], ("12670*02",)),
    ("DE", ["europeennes"], ("12671*02",)),
    ("ES", ["municipales", "europeennes"], ("12670*02", "12671*02")),
])
def test_ile_cerfas_one_form_per_list_for_an_eu_citizen(nationalite, complementaires, numeros):
    listes = rules.ile_listes(nationalite, complementaires)
    assert tuple(c.numero for c in rules.ile_cerfas(listes)) == numeros
    # The same answer from a télédossier (the ZIP asks it so).
    d = Teledossier(demarche="ile", nationalite=nationalite,
                    complementaire_municipales="municipales" in complementaires,
                    complementaire_europeennes="europeennes" in complementaires)
    assert rules.ile_cerfas(d) == rules.ile_cerfas(listes)


def test_the_eu_forms_are_named_and_titled_as_the_law_asks():
    assert (rules.CERFA_12669.filename, rules.CERFA_12670.filename, rules.CERFA_12671.filename) == (
        "cerfa_12669-02_inscription.pdf", "cerfa_12670-02_inscription_municipales.pdf",
        "cerfa_12671-02_inscription_europeennes.pdf")
    assert rules.CERFA_12670.titre.endswith("citoyens non-français de l'Union européenne — élections municipales")
    assert rules.CERFA_12671.titre.endswith(
        "citoyens non-français de l'Union européenne — élections au Parlement européen")


@pytest.mark.parametrize("nationalite, complementaires, required", [
    ("FR", [], []),
    ("IT", ["municipales"], [(f, (LO227_4,)) for f in COMMON]),
    ("DE", ["europeennes"], [(f, (ART_2_3,)) for f in COMMON] + [("declaration_vote_en_france", (ART_2_3,))]),
    ("ES", ["municipales", "europeennes"],
     [(f, (LO227_4, ART_2_3)) for f in COMMON] + [("declaration_vote_en_france", (ART_2_3,))]),
])
def test_ile_declarations_required_by_nationality_and_lists(nationalite, complementaires, required):
    listes = rules.ile_listes(nationalite, complementaires)
    declarations = rules.ile_declarations(listes)
    assert [(d.field, d.sources) for d in declarations] == required
    assert all(d.text.startswith("Je déclare sur l'honneur ") for d in declarations)


@pytest.mark.parametrize("complementaires, declared, missing", [
    (["municipales"], {}, list(COMMON)),
    (["municipales"], dict.fromkeys(COMMON, True), []),
    (["europeennes"], dict.fromkeys(COMMON, True), ["declaration_vote_en_france"]),
    (["europeennes"], {"declaration_nationalite": True, "declaration_vote_en_france": True},
     ["declaration_adresse", "declaration_droit_de_vote"]),
    (["municipales", "europeennes"], dict.fromkeys(ALL, True), []),
    (["municipales", "europeennes"], dict.fromkeys(ALL, False), list(ALL)),
])
def test_ile_declaration_errors_one_per_missing_statement_on_its_field(complementaires, declared, missing):
    listes = rules.ile_listes("IT", complementaires)
    errors = rules.ile_declaration_errors(listes, declared)
    assert [e.field for e in errors] == missing
    assert all(isinstance(e, DomainError) and e.code == "ile_declaration" for e in errors)
    assert all(e.message.startswith("Cochez cette déclaration : elle est exigée des citoyens de l'Union européenne (")
               for e in errors)
    if missing:
        with pytest.raises(DomainError) as excinfo:
            rules.check_ile_declarations(listes, declared)
        assert excinfo.value.field == missing[0]
    else:
        rules.check_ile_declarations(listes, declared)


def test_a_french_national_needs_no_declaration():
    listes = rules.ile_listes("FR")
    assert rules.ile_declarations(listes) == () and rules.ile_declaration_errors(listes, {}) == []
    rules.check_ile_declarations(Teledossier(demarche="ile", nationalite="FR"))


def test_the_message_names_the_law_of_each_list():
    [municipales] = rules.ile_declaration_errors(rules.ile_listes("IT", ["municipales"]),
                                                 dict.fromkeys(COMMON[1:], True))
    assert municipales.message == ("Cochez cette déclaration : elle est exigée des citoyens de l'Union européenne "
                                   "(code électoral, article LO227-4).")
    [both] = rules.ile_declaration_errors(rules.ile_listes("IT", ["municipales", "europeennes"]),
                                          {**dict.fromkeys(ALL, True), "declaration_adresse": False})
    assert both.message.endswith("(code électoral, article LO227-4 ; loi n° 77-729 du 7 juillet 1977, article 2-3).")


# ------------------------------------------------------------------ the form


@pytest.mark.parametrize("lists, unticked, errors", [
    ("municipales", ALL, COMMON),
    ("europeennes", ALL, ALL),
    ("les deux", ALL, ALL),
    ("les deux", ("declaration_vote_en_france",), ("declaration_vote_en_france",)),
    ("municipales", ("declaration_droit_de_vote",), ("declaration_droit_de_vote",)),
])
def test_the_form_refuses_an_eu_citizen_without_the_declaration_on_each_field(
        client, citoyen_ue, commune, scrutin, mailoutbox, lists, unticked, errors):
    client.force_login(citoyen_ue)
    data = ile_post_data(commune, nationalite="UE", etat_membre="IT", complementaires=LISTS[lists],
                         **{k: v for k, v in DECLARATIONS_UE.items() if k not in unticked})
    response = client.post(reverse("listes:usager_ile_new"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == set(errors)
    for field in errors:
        [message] = form.errors[field]
        assert message.startswith("Cochez cette déclaration : elle est exigée des citoyens de l'Union européenne")
    html = response.content.decode()
    # DSFR checkbox in error, the message under its own box.
    for field in errors:
        group = html.split(f'id="id_{field}"')[0].rsplit("<div class=", 1)[1]
        assert group.startswith('"fr-checkbox-group fr-checkbox-group--error fr-mb-2w"')
        assert f'<div id="id_{field}-desc-error">' in html
    if lists == "municipales":
        assert MISSING in html
    assert not Teledossier.objects.exists() and not mailoutbox
    from listes.models import Piece

    assert not Piece.objects.exists()


def test_the_form_shows_the_declaration_as_dsfr_checkboxes(client, citoyen_ue, scrutin):
    client.force_login(citoyen_ue)
    html = client.get(reverse("listes:usager_ile_new")).content.decode()
    for field, text in rules.DECLARATIONS_UE.items():
        assert f'<input type="checkbox" name="{field}"' in html
        assert text.replace("'", "&#x27;") in html
    # Right after the lists asked, in the order of the law.
    order = [html.index(f'name="{name}"') for name in ("complementaires", *ALL, "motif_rattachement")]
    assert order == sorted(order)


@pytest.mark.parametrize("lists, stored", [
    ("municipales", dict.fromkeys(COMMON, True) | {"declaration_vote_en_france": False}),
    ("europeennes", dict.fromkeys(ALL, True)),
    ("les deux", dict.fromkeys(ALL, True)),
])
def test_the_declaration_made_is_kept_on_the_teledossier(file_ile, citoyen_ue, lists, stored):
    d = _ue(file_ile, citoyen_ue, lists)
    assert {f: getattr(d, f) for f in ALL} == stored


def test_municipales_only_does_not_need_the_european_statement(file_ile, citoyen_ue):
    d = _ue(file_ile, citoyen_ue, "municipales", declaration_vote_en_france=None)
    assert d.complementaire_municipales and not d.declaration_vote_en_france


def test_a_french_national_needs_no_declaration_and_keeps_none(file_ile, mandant_user):
    d = file_ile()
    assert d.nationalite == "FR" and not any(getattr(d, f) for f in ALL)
    # Boxes ticked by a French national are not kept: they are not theirs to make.
    d2 = file_ile(**DECLARATIONS_UE)
    assert not any(getattr(d2, f) for f in ALL)


def test_filing_refuses_an_eu_dossier_without_the_declaration(commune, citoyen_ue):
    """The domain itself (Teledossier.deposer) asks the rule: nothing is written."""
    data = dict(demarche="ile", commune=commune, nom="ROSSI", prenoms="Giulia", sexe="F",
                date_naissance=datetime.date(1988, 4, 2), lieu_naissance="Roma", adresse="3 rue des Lilas",
                code_postal="81190", ville="Almayrac", nationalite="IT", complementaire_europeennes=True,
                declaration_nationalite=True, declaration_adresse=True, declaration_droit_de_vote=True)
    with pytest.raises(DomainError) as excinfo:
        Teledossier.deposer(usager=citoyen_ue, pieces=[], **data)
    assert (excinfo.value.field, excinfo.value.code) == ("declaration_vote_en_france", "ile_declaration")
    assert not Teledossier.objects.exists()
    d = Teledossier.deposer(usager=citoyen_ue, pieces=[], declaration_vote_en_france=True, **data)
    assert d.declaration_vote_en_france


# ------------------------------------------------------------------ the ZIP: the EU forms and the declaration


@pytest.mark.parametrize("lists, forms", [
    ("municipales", ["cerfa_12670-02_inscription_municipales.pdf"]),
    ("europeennes", ["cerfa_12671-02_inscription_europeennes.pdf"]),
    ("les deux", ["cerfa_12670-02_inscription_municipales.pdf", "cerfa_12671-02_inscription_europeennes.pdf"]),
])
def test_the_zip_of_an_eu_citizen_holds_their_own_forms_never_12669(client, agent_listes, file_ile, citoyen_ue,
                                                                    lists, forms):
    d = _ue(file_ile, citoyen_ue, lists)
    client.force_login(agent_listes)
    zf = _zip(client, d)
    assert sorted(zf.namelist()) == sorted([*forms, "donnees.xml", "pieces/1_identite.pdf", "pieces/2_attache.png"])
    for name in forms:
        text = pdftotext(zf.read(name))
        assert "12669" not in text
        for expected in ("Demande d'inscription sur les listes électorales", "citoyens non-français de l'Union",
                         "ROSSI", "Giulia", "02/04/1988", "Italie (IT)", "3 rue des Lilas", d.numero,
                         "Almayrac (81005)", "Déclaration écrite", "Nationalité déclarée", "Italie",
                         "☒ Je déclare sur l'honneur avoir la nationalité de l'État membre",
                         "☒ Je déclare sur l'honneur que mon adresse en France est celle indiquée",
                         "☒ Je déclare sur l'honneur ne pas être déchu(e) du droit de vote"):
            assert expected in text, (name, expected)
        if "12670" in name:
            assert "12670*02" in text and "élections municipales" in text and "LO227-4" in text
            assert "Parlement européen qu'en France" not in text  # (d) belongs to the européennes
        else:
            assert "12671*02" in text and "Parlement européen" in text and "article 2-3" in text
            assert "☒ Je déclare sur l'honneur que je n'exercerai mon droit de vote aux élections au" in text


def test_the_zip_of_a_french_national_keeps_12669(client, agent_listes, file_ile):
    d = file_ile()
    client.force_login(agent_listes)
    names = _zip(client, d).namelist()
    assert "cerfa_12669-02_inscription.pdf" in names
    assert not [n for n in names if "12670" in n or "12671" in n]


def test_an_eu_cerfa_filed_before_the_declaration_shows_it_unticked(commune, citoyen_ue):
    """A dossier filed before the declaration was asked: the boxes are printed empty, not ticked."""
    from listes.documents import cerfa_pdf

    d = Teledossier.objects.create(
        numero="A-9-ABCDEF12", demarche="ile", commune=commune, usager=citoyen_ue, email="g@example.it", nom="ROSSI",
        prenoms="Giulia", sexe="F", date_naissance=datetime.date(1988, 4, 2), lieu_naissance="Roma",
        adresse="3 rue des Lilas", code_postal="81190", ville="Almayrac", nationalite="IT",
        complementaire_municipales=True)
    text = pdftotext(cerfa_pdf(d, rules.CERFA_12670))
    assert "☐ Je déclare sur l'honneur avoir la nationalité" in text and "☒ Je déclare" not in text
    with pytest.raises(ValueError):
        cerfa_pdf(d, rules.CERFA_12671)  # not asked


# ------------------------------------------------------------------ the XML


@pytest.mark.parametrize("lists, municipales, europeennes, elements", [
    ("municipales", "true", "false", ["nationalite", "adresseEnFrance", "nonDechuDuDroitDeVote"]),
    ("les deux", "true", "true",
     ["nationalite", "adresseEnFrance", "nonDechuDuDroitDeVote", "voteEuropeenEnFranceSeulement"]),
    ("europeennes", "false", "true",
     ["nationalite", "adresseEnFrance", "nonDechuDuDroitDeVote", "voteEuropeenEnFranceSeulement"]),
])
def test_the_xml_holds_the_declaration_and_validates(file_ile, citoyen_ue, lists, municipales, europeennes, elements):
    d = _ue(file_ile, citoyen_ue, lists)
    root = ET.fromstring(teledossier_xml(d))
    Schema(XSD).validate(root)
    ue = root.find("t:inscription/t:citoyenUE", NS)
    assert ue.findtext("t:nationalite", namespaces=NS) == "IT"
    assert (ue.findtext("t:listeMunicipales", namespaces=NS), ue.findtext("t:listeEuropeennes", namespaces=NS)) == (
        municipales, europeennes)
    declaration = ue.find("t:declaration", NS)
    assert [(el.tag.split("}")[1], el.text) for el in declaration] == [(name, "true") for name in elements]


def test_the_xml_of_a_french_national_has_no_eu_part(file_ile):
    root = ET.fromstring(teledossier_xml(file_ile()))
    Schema(XSD).validate(root)
    assert root.find("t:inscription/t:citoyenUE", NS) is None


def test_the_schema_requires_each_statement_of_the_declaration(file_ile, citoyen_ue):
    d = _ue(file_ile, citoyen_ue, "les deux")
    root = ET.fromstring(teledossier_xml(d))
    declaration = root.find("t:inscription/t:citoyenUE/t:declaration", NS)
    declaration.remove(declaration.find("t:adresseEnFrance", NS))
    with pytest.raises(SchemaError, match="adresseEnFrance"):
        Schema(XSD).validate(root)


# ------------------------------------------------------------------ the guichet


def test_the_agent_reads_the_declaration(client, agent_listes, file_ile, citoyen_ue):
    d = _ue(file_ile, citoyen_ue, "municipales")
    francais = file_ile()
    client.force_login(agent_listes)
    html = client.get(reverse("listes:dossier", args=[d.numero])).content.decode()
    assert '<dd id="declaration-ue">' in html
    assert html.count("— cochée</li>") == 3 and "non cochée" not in html
    assert 'id="declaration-ue"' not in client.get(reverse("listes:dossier", args=[francais.numero])).content.decode()
