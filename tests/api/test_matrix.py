"""The API's own URL × key-scope matrix: every API pattern (tests/security/test_matrix.py declares them
for sessions) with no key, an unknown key, a key of each scope of commune A, and a key of commune B."""

import pytest
from django.urls import reverse

from tests.security.test_matrix import collect_patterns

pytestmark = pytest.mark.django_db

KEYS = ["none", "unknown", "procurations", "teledossiers", "write", "all", "b"]
# url name -> the status each key gets (on A's objects). "b" is another commune: 200 on lists (its own
# rows), 404 on A's objects.
MATRIX = {
    "api:schema": dict.fromkeys(KEYS, 200),
    "api:documentation": dict.fromkeys(KEYS, 200),
    "api:procurations": {"none": 401, "unknown": 401, "procurations": 200, "teledossiers": 403, "write": 403,
                         "all": 200, "b": 200},
    "api:procuration": {"none": 401, "unknown": 401, "procurations": 200, "teledossiers": 403, "write": 403,
                        "all": 200, "b": 404},
    "api:teledossiers": {"none": 401, "unknown": 401, "procurations": 403, "teledossiers": 200, "write": 403,
                         "all": 200, "b": 200},
    "api:teledossier": {"none": 401, "unknown": 401, "procurations": 403, "teledossiers": 200, "write": 403,
                        "all": 200, "b": 404},
    "api:feed": {"none": 401, "unknown": 401, "procurations": 200, "teledossiers": 200, "write": 403,
                 "all": 200, "b": 200},
    # POST only (tests/api/test_write.py): the key is checked first, then GET is 405.
    **{name: {"none": 401, "unknown": 401, "procurations": 403, "teledossiers": 403, "write": 405, "all": 405,
              "b": 405} for name in ("api:teledossier_transition", "api:teledossier_document",
                                     "api:teledossier_attestation_rco")},
    "api:fichier": dict.fromkeys(KEYS, 404),  # unsigned token; signed links: tests/api/test_read.py
    "api:not_found": dict.fromkeys(KEYS, 404),
}


def test_the_api_matrix_covers_every_api_pattern():
    assert {n for n in collect_patterns() if n.startswith("api:")} == set(MATRIX)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_api_get(api, data, name, key):
    numero = {"numero": data["d"].numero}
    args = {"api:procuration": {"pk": data["p"]["autorite"].pk}, "api:teledossier": numero,
            "api:teledossier_transition": numero, "api:teledossier_document": numero,
            "api:teledossier_attestation_rco": numero, "api:fichier": {"token": "pas-signe"}}.get(name, {})
    raw = {"none": None, "unknown": "dea_inconnue"}.get(key, key)
    response = api(raw).get(reverse(name, kwargs=args))
    assert response.status_code == MATRIX[name][key], (name, key, response.content[:200])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
