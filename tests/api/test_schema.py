"""The OpenAPI schema against every response: schemathesis generates requests from the schema
(valid and invalid parameters, property-based with hypothesis) and sends them to the live app on
loopback with a key of every scope; each response must match the schema (status documented,
content type, body, headers) and no request may end in a 500."""

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

pytestmark = pytest.mark.django_db(transaction=True)
KEYS = ["all", "procurations", "teledossiers", "b", "dea_inconnue"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_response_matches_the_schema(live_server, data, keys, settings, mode):
    settings.API_RATE_LIMIT = 100_000
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    real = {"id": [p.pk for p in data["p"].values()], "numero": [data["d"].numero, data["d_b"].numero]}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode), key=st.sampled_from(KEYS))
        @hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case, key):
            if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
                case.call_and_validate()  # the key header itself is the invalid part: send it as generated
            else:
                case.call_and_validate(headers={"Authorization": f"Bearer {keys.get(key, key)}"})

        check()
        # Real objects of both communes, through every key: 200 or 404, each matching the schema.
        for name, values in real.items():
            if name in operation.path:
                for value, key in itertools.product(values, KEYS):
                    case = operation.Case(path_parameters={name: value})
                    case.call_and_validate(headers={"Authorization": f"Bearer {keys.get(key, key)}"})


def test_schema_is_served_and_names_every_endpoint(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/procurations/", "/api/v1/procurations/{id}/", "/api/v1/teledossiers/",
            "/api/v1/teledossiers/{numero}/"} <= set(paths)
