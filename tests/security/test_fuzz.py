"""Every form of the four portals fuzzed with hypothesis: the form's field names (and random extra
keys) filled with junk (unicode, huge strings, NUL bytes, numbers, dates in odd formats, random
bytes for files), posted by the role that may use the form, CSRF not enforced. No answer is a
500, and a creation form creates nothing from garbage."""

import datetime
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from listes.rules import sniff
from tests.police._helpers import fiche_url
from tests.security.conftest import (
    ADMIN_NATIONAL,
    AGENT_A,
    ANON,
    COMMUNE_ADMIN,
    LISTES_A,
    LISTES_ADMIN,
    MANDANT_A,
    POLICE_ADMIN,
    POLICIER,
)
from tests.security.test_matrix import url_for

ODD = [
    "", " ", "0", "-1", "1" * 40, "1e309", "NaN", "inf", "2026-02-30", "31/12/9999", "00/00/0000", "9999-99-99",
    "12/05/1980", "1980-5-12", "12.05.1980", "\x00", "a\x00b", "' OR 1=1 --", "<script>alert(1)</script>",
    "../../etc/passwd", "on", "true", "None", "[]", "{}", "é" * 300, "\u202e\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]
# Kept small so the folder stays fast on a shared machine; more in CI (CI=true, within its time
# budget); SECURITY_FUZZ_EXAMPLES=200 for a deep run.
EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "40" if os.environ.get("CI") else "12"))
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%m/%d/%Y", "%Y%m%d", "%d %B %Y", "%Y-%m-%dT%H:%M"]

junk = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.text(min_size=1, max_size=8).map(lambda s: s * 1000),  # huge
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.tuples(st.dates(min_value=datetime.date(1, 1, 1)), st.sampled_from(DATE_FORMATS)).map(
        lambda t: t[0].strftime(t[1])
    ),
)
upload = st.builds(
    lambda name, content, ctype: SimpleUploadedFile(name, content, content_type=ctype),
    st.text(max_size=60).map(lambda s: "f" + s.replace("\x00", "").replace("/", "")),
    st.binary(max_size=4000) | st.sampled_from([b"%PDF-1.4\n%%EOF", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
    st.sampled_from(["application/pdf", "image/png", "image/jpeg", "text/html", "application/x-msdownload", ""]),
)


def form_data(fields, files=()):
    extra = st.dictionaries(st.text(min_size=1, max_size=20), junk, max_size=3)
    known = st.fixed_dictionaries({}, optional={f: junk for f in fields})
    files_ = st.fixed_dictionaries({}, optional={f: upload for f in files})
    return st.tuples(known, files_, extra).map(lambda t: {**t[2], **t[0], **t[1]})


def fields_of(form_class, *extra):
    return list(form_class.base_fields) + list(extra)


def _forms():
    from backoffice import forms as bo
    from elus.forms import AbsenceForm, SimulateurForm
    from listes.forms import AgentCreateForm, CommentForm, IleForm, RcoForm, RefuseForm, SearchForm
    from mairie.forms import (
        AgentForm,
        AlertPreferenceForm,
        CommuneSettingsForm,
        InvalidationForm,
        QueueFilterForm,
        RegistreForm,
        mairie_cerfa_form_class,
    )
    from mairie.forms import (
        ValidationForm as MairieValidationForm,
    )
    from mandant.forms import MandataireForm, RecapForm, ValiditeForm
    from police.forms import HistoryForm, OfficerForm, ReferenceForm, RefusForm, ValidationForm
    from procuration.cerfa import CerfaForm
    from procuration.forms import ActivationForm

    dossier = ["piece_identite", "piece_attache", "piece_livret"]
    # name: (role, url name, method, fields, file fields, setup, model counted for creation forms)
    return {
        "mandant:demande_validite": (MANDANT_A, "POST", fields_of(ValiditeForm), (), None, None),
        "mandant:demande_mandataire": (MANDANT_A, "POST", fields_of(MandataireForm), (), "period", None),
        "mandant:verifier_mandataire": (MANDANT_A, "GET", fields_of(MandataireForm), (), "period", None),
        "mandant:demande_recapitulatif": (MANDANT_A, "POST", fields_of(RecapForm), (), "mandataire", "procuration"),
        "mandant:resilier": (MANDANT_A, "POST", ["motif", "confirm"], (), None, None),
        "police:home": (POLICIER, "POST", fields_of(ReferenceForm), (), None, None),
        "police:procuration": (POLICIER, "POST", fields_of(ValidationForm, "action", *RefusForm.base_fields), (),
                               "lookup", None),
        "police:cerfa": (POLICIER, "POST", fields_of(CerfaForm, *ValidationForm.base_fields), (), None,
                         "procuration"),
        "police:historique": (POLICIER, "GET", fields_of(HistoryForm), (), None, None),
        "police:unite": (POLICE_ADMIN, "POST", fields_of(OfficerForm), (), None, "user"),
        "staff_activation": (ANON, "POST", fields_of(ActivationForm), (), None, "user"),
        "police:unite_activation": (POLICE_ADMIN, "POST", ["active"], (), None, None),
        "mairie:queue": (AGENT_A, "GET", fields_of(QueueFilterForm, "page"), (), None, None),
        "mairie:batch_validate": (AGENT_A, "POST", ["ids", "next"], (), None, None),
        "mairie:validate": (AGENT_A, "POST", fields_of(MairieValidationForm), (), None, None),
        "mairie:invalidate": (AGENT_A, "POST", fields_of(InvalidationForm), (), None, None),
        "mairie:registre": (AGENT_A, "POST", fields_of(RegistreForm), (), None, "export"),
        "mairie:cerfa": (AGENT_A, "POST", fields_of(mairie_cerfa_form_class()), (), None, "procuration"),
        "mairie:alertes": (AGENT_A, "POST", fields_of(AlertPreferenceForm), (), None, None),
        "mairie:parametres": (COMMUNE_ADMIN, "POST", fields_of(CommuneSettingsForm), (), None, None),
        "mairie:agent_create": (COMMUNE_ADMIN, "POST", fields_of(AgentForm), (), None, "user"),
        "mairie:agent_edit": (COMMUNE_ADMIN, "POST", fields_of(AgentForm), (), None, "user"),
        "mairie:agent_toggle": (COMMUNE_ADMIN, "POST", [], (), None, None),
        "mairie:agent_reset": (COMMUNE_ADMIN, "POST", [], (), None, None),
        "listes:home": (LISTES_A, "GET", fields_of(SearchForm, "demarche", "page"), (), None, None),
        "listes:electeurs": (LISTES_A, "GET", ["q", "page"], (), None, None),
        "listes:transition": (LISTES_A, "POST", [f"{p}-{f}" for p in ("recevoir", "refuser")
                                                 for f in (*CommentForm.base_fields, *RefuseForm.base_fields)],
                              (), None, None),
        "listes:document_add": (LISTES_A, "POST", ["title"], ("file",), None, "document"),
        "listes:attestation_rco": (LISTES_A, "POST", [], (), None, "document"),
        "listes:users": (LISTES_ADMIN, "POST", fields_of(AgentCreateForm), (), None, "user"),
        "listes:user_toggle": (LISTES_ADMIN, "POST", [], (), None, None),
        "listes:config": (LISTES_ADMIN, "POST", ["signataire", "qualite_signataire"], ("tampon", "signature"),
                          None, None),
        "listes:usager_ile_new": (MANDANT_A, "POST", fields_of(IleForm, "piece_identite_existante"), dossier, None,
                                  "teledossier"),
        "listes:usager_rco_new": (MANDANT_A, "POST", fields_of(RcoForm, "piece_identite_existante"), dossier, None,
                                  "teledossier"),
        # Élus and the national back office.
        "elus:simulateur": (ANON, "GET", fields_of(SimulateurForm), (), None, None),
        "elus:espace": (COMMUNE_ADMIN, "POST", fields_of(AbsenceForm), (), None, None),
        "backoffice:communes": (ADMIN_NATIONAL, "GET", fields_of(bo.CommuneSearchForm, "page"), (), None, None),
        "backoffice:commune_new": (ADMIN_NATIONAL, "POST", fields_of(bo.CommuneForm), (), None, None),
        "backoffice:commune": (ADMIN_NATIONAL, "POST", fields_of(bo.CommuneForm), (), None, None),
        "backoffice:bureau_new": (ADMIN_NATIONAL, "POST", fields_of(bo.BureauForm), (), None, None),
        "backoffice:commune_admin_new": (ADMIN_NATIONAL, "POST", fields_of(bo.StaffAccountForm, "role"), (), None,
                                         None),
        "backoffice:mandat_new": (ADMIN_NATIONAL, "POST", fields_of(bo.MandatForm), (), None, None),
        "backoffice:commune_import": (ADMIN_NATIONAL, "POST", [], ("fichier",), None, "electeur"),
        "backoffice:scrutin_new": (ADMIN_NATIONAL, "POST", fields_of(bo.ScrutinForm), (), None, None),
        "backoffice:scrutin": (ADMIN_NATIONAL, "POST", fields_of(bo.ScrutinForm), (), None, None),
        "backoffice:officier_new": (ADMIN_NATIONAL, "POST", fields_of(bo.OfficerForm), (), None, None),
        "backoffice:unite_etablissement": (ADMIN_NATIONAL, "POST", fields_of(bo.UniteEtablissementForm), (), None,
                                           None),
        "backoffice:compte_edit": (ADMIN_NATIONAL, "POST", fields_of(bo.OfficerEditForm), (), None, None),
        "backoffice:compte_activation": (ADMIN_NATIONAL, "POST", ["active"], (), None, None),
        "backoffice:compte_reset": (ADMIN_NATIONAL, "POST", [], (), None, None),
    }


FORMS = _forms()


def count(kind):
    from listes.models import Document, Teledossier
    from mairie.models import ExportJob
    from procuration.models import Electeur, Procuration, User

    model = {"electeur": Electeur, "procuration": Procuration, "user": User, "export": ExportJob, "document": Document,
             "teledossier": Teledossier}[kind]
    return model.objects.count()


def setup(client, world, what):
    """Bring the session to the step the form belongs to."""
    from django.core.cache import cache

    from procuration.models import Electeur, Procuration

    cache.clear()  # the set-up's own lookups must not run into the rate limits over many examples
    if what in ("period", "mandataire"):
        start = datetime.date.today() + datetime.timedelta(days=200)
        r = client.post(reverse("mandant:demande_validite"), {
            "portee": "duree", "valid_from": start.isoformat(), "valid_until": (start + datetime.timedelta(days=30)).isoformat(),
            "etablissement": "france",
        })
        assert r.status_code == 302, r.content.decode()[:2000]
    if what == "mandataire":
        m = Electeur.objects.get(pk=Procuration.objects.get(pk=world.pk["en_attente"]).mandataire_id)
        r = client.post(reverse("mandant:demande_mandataire"), {
            "mode": "nne", "nne": m.nne, "date_naissance_nne": m.date_naissance.isoformat(),
        })
        assert r.status_code == 302, r.content.decode()[:2000]
    if what == "lookup":  # the procuration's page is the address the lookup gives
        reference = Procuration.objects.get(pk=world.pk["en_attente"]).reference
        response = client.post(reverse("police:home"), {"reference": reference})
        assert response.status_code == 302
        return response["Location"]
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
def test_form_never_answers_500(world, name, data):
    role, method, fields, files, prep, creates = FORMS[name]
    payload = data.draw(form_data(fields, files), label="payload")
    client = world.client(role)
    url = (setup(client, world, prep) if prep else None) or url_for(name, world)
    before = count(creates) if creates else None
    for f in payload.values():
        if hasattr(f, "seek"):
            f.seek(0)
    if method == "GET":
        response = client.get(url, {k: v for k, v in payload.items() if isinstance(v, str)})
    else:
        response = client.post(url, payload)
    assert response.status_code < 500, f"{method} {url} {payload!r:.500}"
    # A file whose content passes the portal's own check (listes.rules.sniff) is not garbage.
    plausible = any(sniff(f) for f in payload.values() if hasattr(f, "seek"))
    if creates and not plausible:
        assert count(creates) == before, f"{name} created a {creates} from garbage: {payload!r:.500}"


# The nastiest values, in every field at once, for every form: what random draws may miss.
NASTY = ["\x00", "a\x00b", "\u00b2", "9" * 40, "-0", "é" * 5000]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_form_survives_the_nastiest_values(world, name):
    role, method, fields, files, prep, creates = FORMS[name]
    client = world.client(role)
    url = (setup(client, world, prep) if prep else None) or url_for(name, world)
    before = count(creates) if creates else None
    for value in NASTY:
        payload = {f: value for f in fields}
        response = client.get(url, payload) if method == "GET" else client.post(url, payload)
        assert response.status_code < 500, f"{method} {url} with {value[:20]!r} in every field"
    if creates:
        assert count(creates) == before


# ------------------------------------------------------------------ past validation
# Junk rarely gets past a form's validation, so the domain behind it is barely exercised. Here each
# form of a domain act starts from a payload that succeeds (written out below), and hypothesis
# drops fields or puts junk in some of them: many examples reach the domain call. Besides « no
# 500 », the run must make progress: at least one example did the act (the unchanged payload
# comes first), so a form or a domain call that refuses everything fails the test.
DROP = object()


def _plausible():
    from listes.models import Teledossier, TeledossierEvent
    from procuration.models import AuditLog, Electeur, Origine, Procuration, ProcurationEvent
    from tests.listes.conftest import ile_post_data

    today = datetime.date.today()

    def day(n):
        return (today + datetime.timedelta(days=n)).isoformat()

    def events(w, key, to):
        return ProcurationEvent.objects.filter(procuration_id=w.pk[key], to_status__in=to).count()

    def cerfa(w):
        mandataire = Electeur.objects.exclude(commune_id=w.pk["commune"]).get()
        return {
            "modele": "14952*03", "mandant_nom": "dupont", "mandant_prenoms": "Marie Claire", "mandant_sexe": "F",
            "mandant_date_naissance": "1980-05-12", "mandant_lieu_naissance": "Albi", "mandant_commune": "81005",
            "email_contact": "marie.dupont@example.fr", "mandataire_nne": mandataire.nne,
            "mandataire_date_naissance": mandataire.date_naissance.isoformat(), "portee": "duree",
            "valid_from": day(300), "valid_until": day(310), "etablissement": "france", "piece_type": "cni",
            "piece_numero_fin": "9876",
        }

    def ile(w):
        from procuration.models import Commune

        return ile_post_data(Commune.objects.get(pk=w.pk["commune"]))

    # name: (payload builder, progress measure (grows when the act was done), procuration whose page it is)
    return {
        "mandant:demande_validite": (
            lambda w: {"portee": "duree", "valid_from": day(200), "valid_until": day(230), "etablissement": "france"},
            None, None),
        "police:home": (
            lambda w: {"reference": Procuration.objects.get(pk=w.pk["en_attente"]).reference.lower()},
            lambda w: AuditLog.objects.filter(action="police.lookup", detail__resultat="trouvee").count(),
            None),
        "police:procuration": (
            # A refusal: the world's pending demande overlaps its mandant's validated ones (doublon).
            lambda w: {"action": "refuser", "motif": "personne_absente", "piece_type": "cni", "piece_numero_fin": "1234"},
            lambda w: events(w, "en_attente", ["validee_autorite", "refusee_autorite"]), "en_attente"),
        "police:cerfa": (
            cerfa, lambda w: Procuration.objects.filter(origine=Origine.CERFA_PAPIER).count(), None),
        "mairie:validate": (lambda w: {"forcer": "on", "motif_forcage": "Pièces vérifiées au guichet."}, lambda w: events(w, "validee_autorite", ["validee_mairie"]), None),
        "mairie:invalidate": (
            lambda w: {"motif": "autre", "detail": "Homonyme"},
            lambda w: events(w, "validee_autorite", ["invalidee_mairie"]), None),
        "listes:transition": (
            lambda w: {"recevoir-comment": "Dossier reçu, merci."},
            lambda w: TeledossierEvent.objects.filter(teledossier_id=w.pk["teledossier"], to_state="recu").count(),
            None),
        "listes:usager_ile_new": (ile, lambda w: Teledossier.objects.count(), None),
    }


PLAUSIBLE = _plausible()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PLAUSIBLE))
def test_plausible_inputs_reach_the_domain(world, name):
    role, method, fields, files, _, _ = FORMS[name]
    build, measure, prep = PLAUSIBLE[name]
    fields = sorted(set(build(world)) | set(fields))
    done = []

    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(changes=st.fixed_dictionaries({}, optional={f: st.just(DROP) | junk for f in fields}))
    @example(changes={})  # the payload as written: the act must be done
    def run(changes):
        client = world.client(role)
        # The page a lookup opens, signed for the officer directly: once the act is done, a lookup
        # no longer opens it, but a page already open may still post (and be told « déjà… »).
        url = fiche_url(world.user(role), world.pk[prep]) if prep else url_for(name, world)
        payload = build(world)
        for f, value in changes.items():
            if value is DROP:
                payload.pop(f, None)
            else:
                payload[f] = value
        before = measure(world) if measure else None
        response = client.post(url, payload)
        assert response.status_code < 500, f"POST {url} {payload!r:.500}"
        if measure is None:  # a step of the mandant's demande: success is the redirect to the next step
            progressed = response.status_code == 302 and response["Location"] != url
        else:
            progressed = measure(world) > before
        done.append(progressed)

    run()
    assert done and done[0], f"{name}: the unchanged plausible payload did not do the act"
