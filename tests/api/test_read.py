"""Read endpoints: scoped to the key's commune, filters, problem+json errors, audit, rate limit, signed links."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from procuration.models import AuditLog, IdentiteVerifiee

pytestmark = pytest.mark.django_db

PROCURATIONS = "/api/v1/procurations/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_procurations_of_the_keys_commune_only(api, data):
    p = data["p"]
    assert ids(api("procurations").get(PROCURATIONS)) == {p["attente"].pk, p["autorite"].pk, p["mairie"].pk}
    assert ids(api("b").get(PROCURATIONS)) == {p["b"].pk}


def test_another_communes_procuration_answers_404(api, data):
    url = f"{PROCURATIONS}{data['p']['b'].pk}/"
    body = assert_problem(api("procurations").get(url), 404)
    assert "commune" in body["detail"]
    assert api("b").get(url).json()["reference"] == data["p"]["b"].reference
    assert_problem(api("procurations").get(f"{PROCURATIONS}{data['p']['brouillon'].pk}/"), 404)


def test_filters(api, data):
    p, client = data["p"], api("procurations")
    assert ids(client.get(PROCURATIONS, {"scrutin": data["s2"].pk})) == {p["mairie"].pk}
    assert ids(client.get(PROCURATIONS, {"bureau": 2})) == {p["autorite"].pk}
    assert ids(client.get(PROCURATIONS, {"status": "validee_autorite"})) == {p["autorite"].pk}
    later = timezone.now() + datetime.timedelta(minutes=5)
    with time_machine.travel(later):
        p["attente"].resilier(reason="test", identite=IdentiteVerifiee.france_identite(p["attente"].mandant))
    since = (later - datetime.timedelta(seconds=1)).isoformat()
    assert ids(client.get(PROCURATIONS, {"updated_since": since})) == {p["attente"].pk}


@pytest.mark.parametrize("field,value", [
    ("bureau", "deux"), ("status", "brouillon"), ("status", "nimporte"), ("updated_since", "hier"),
    ("scrutin", "-1"), ("statut", "en_attente"), ("page", "0"),
])
def test_bad_filter_answers_400_naming_the_field(api, data, field, value):
    body = assert_problem(api("procurations").get(PROCURATIONS, {field: value}), 400)
    assert [e["field"] for e in body["errors"]] == [field]
    assert f"« {field} »" in body["detail"]


def test_no_key_bad_key_revoked_key_answer_401(api, data, keys):
    from api.models import ApiKey

    response = api(None).get(PROCURATIONS)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_problem(api("dea_not-a-key").get(PROCURATIONS), 401)
    ApiKey.objects.filter(scopes=["procurations:read"]).update(revoked_at=timezone.now())
    assert "révoquée" in assert_problem(api("procurations").get(PROCURATIONS), 401)["detail"]


def test_a_key_without_the_scope_answers_403(api, data):
    body = assert_problem(api("teledossiers").get(PROCURATIONS), 403)
    assert "procurations:read" in body["detail"]
    assert_problem(api("procurations").get("/api/v1/teledossiers/"), 403)


def test_unknown_api_url_is_a_problem_404(api):
    assert_problem(api("all").get("/api/v1/nulle-part/"), 404)


def test_every_call_is_audited_with_key_endpoint_status(api, data):
    from api.models import ApiKey

    api("procurations").get(PROCURATIONS)
    api("procurations").get(PROCURATIONS, {"bureau": "x"})
    api("teledossiers").get(PROCURATIONS)
    rows = list(AuditLog.objects.filter(action="api.call").order_by("pk"))
    key_p = ApiKey.objects.get(scopes=["procurations:read"])
    key_t = ApiKey.objects.get(scopes=["teledossiers:read"])
    assert [(r.object_id, r.detail["endpoint"], r.detail["status"]) for r in rows] == [
        (str(key_p.pk), PROCURATIONS, 200), (str(key_p.pk), PROCURATIONS, 400), (str(key_t.pk), PROCURATIONS, 403),
    ]
    assert rows[0].actor == key_p.created_by


def test_rate_limited_per_key(api, data, settings):
    settings.API_RATE_LIMIT = 3
    client = api("procurations")
    assert [client.get(PROCURATIONS).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(PROCURATIONS)
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert api("all").get(PROCURATIONS).status_code == 200  # another key has its own window


def test_teledossiers_with_documents_and_signed_links(api, data):
    client = api("teledossiers")
    listing = client.get("/api/v1/teledossiers/").json()
    assert [row["numero"] for row in listing["results"]] == [data["d"].numero]
    assert_problem(client.get(f"/api/v1/teledossiers/{data['d_b'].numero}/"), 404)
    detail = client.get(f"/api/v1/teledossiers/{data['d'].numero}/").json()
    assert [e["to_state"] for e in detail["events"]] == ["transmis"]
    doc_url = detail["documents"][0]["url"]
    piece_url = detail["pieces"][0]["url"]
    anonymous = api(None)
    for url in (doc_url, piece_url):
        response = anonymous.get(url)  # the link alone opens the file
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    tampered = doc_url.rstrip("/")[:-3] + "abc/"
    assert_problem(anonymous.get(tampered), 404)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6)):
        assert "expiré" in assert_problem(anonymous.get(doc_url), 403)["detail"]
    assert AuditLog.objects.filter(action="api.fichier").count() == 2


def test_signed_link_dies_with_its_key(api, data):
    from api.models import ApiKey

    url = api("teledossiers").get(f"/api/v1/teledossiers/{data['d'].numero}/").json()["documents"][0]["url"]
    ApiKey.objects.filter(scopes=["teledossiers:read"]).update(revoked_at=timezone.now())
    assert_problem(api(None).get(url), 403)


def test_a_teledossier_shows_the_lists_asked_and_the_eu_declaration(api, data, mandant_user, commune):
    """The communes' software reads what the guichet shows: the nationality, the listes complémentaires
    asked and each statement of an EU citizen's written declaration (listes.rules.ile_declarations)."""
    import datetime

    from listes.models import Demarche, Teledossier

    client = api("teledossiers")
    french = client.get(f"/api/v1/teledossiers/{data['d'].numero}/").json()
    assert (french["nationalite"], french["complementaire_municipales"], french["complementaire_europeennes"],
            french["declaration_ue"]) == ("FR", False, False, [])
    ue = Teledossier.deposer(
        usager=mandant_user, pieces=[], demarche=Demarche.ILE, commune=commune, nom="ROSSI", prenoms="Giulia",
        sexe="F", date_naissance=datetime.date(1988, 4, 2), lieu_naissance="Roma", adresse="3 rue des Lilas",
        code_postal="81190", ville="Almayrac", motif_rattachement="domicile", nationalite="IT",
        complementaire_municipales=False, complementaire_europeennes=True, declaration_nationalite=True,
        declaration_adresse=True, declaration_droit_de_vote=True, declaration_vote_en_france=True,
    )
    shown = client.get(f"/api/v1/teledossiers/{ue.numero}/").json()
    assert (shown["nationalite"], shown["complementaire_municipales"], shown["complementaire_europeennes"]) == (
        "IT", False, True)
    assert [(d["champ"], d["faite"]) for d in shown["declaration_ue"]] == [
        ("declaration_nationalite", True), ("declaration_adresse", True), ("declaration_droit_de_vote", True),
        ("declaration_vote_en_france", True)]
    assert shown["declaration_ue"][3]["sources"] == ["loi n° 77-729 du 7 juillet 1977, article 2-3"]
    assert shown["declaration_ue"][3]["texte"].startswith("Je déclare sur l'honneur")
    listing = client.get("/api/v1/teledossiers/").json()["results"]
    assert {row["numero"]: row["nationalite"] for row in listing} == {data["d"].numero: "FR", ue.numero: "IT"}
