"""API keys in the mairie portal: created by the commune administrator, shown once, hash stored, revoked."""

import re

import pytest
from django.urls import reverse

from api.models import ApiKey, hash_key
from procuration.models import AuditLog

pytestmark = pytest.mark.django_db


def admin_client(client, user):
    client.force_login(user)
    return client


def test_admin_creates_a_key_shown_once_and_only_its_hash_is_kept(client, commune_admin):
    c = admin_client(client, commune_admin)
    response = c.post(reverse("mairie_api:keys"), {"name": "Logiciel élections", "scopes": ["procurations:read"]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = re.search(r'<code id="cle-secrete">(dea_[\w-]+)</code>', response.content.decode())[1]
    key = ApiKey.objects.get()
    assert key.key_hash == hash_key(raw) and key.commune == commune_admin.commune
    assert key.scopes == ["procurations:read"] and key.created_by == commune_admin
    stored = [str(v) for v in ApiKey.objects.values_list(flat=False).get()]
    assert not any(raw in v for v in stored)
    assert raw not in c.get(reverse("mairie_api:keys")).content.decode()  # never shown again
    assert AuditLog.objects.filter(action="api.key_create", object_id=str(key.pk)).exists()
    api = c.get("/api/v1/procurations/", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200


@pytest.mark.parametrize("data,field", [({"name": "", "scopes": ["procurations:read"]}, "name"),
                                        ({"name": "x", "scopes": ["admin:all"]}, "scopes"),
                                        ({"name": "x"}, "scopes")])
def test_bad_input_creates_nothing(client, commune_admin, data, field):
    response = admin_client(client, commune_admin).post(reverse("mairie_api:keys"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ApiKey.objects.exists()


def test_plain_agent_cannot_manage_keys(client, agent_mairie):
    c = admin_client(client, agent_mairie)
    assert c.get(reverse("mairie_api:keys")).status_code == 403
    assert c.post(reverse("mairie_api:keys"), {"name": "x", "scopes": ["procurations:read"]}).status_code == 403
    assert not ApiKey.objects.exists()


def test_revoke_stops_the_key_and_another_commune_gets_404(client, commune_admin, keys, admin_b):
    key = ApiKey.objects.get(commune=commune_admin.commune, scopes=["procurations:read"])
    url = reverse("mairie_api:key_revoke", args=[key.pk])
    assert admin_client(client, admin_b).post(url).status_code == 404
    key.refresh_from_db()
    assert key.is_active
    c = admin_client(client, commune_admin)
    assert c.post(url).status_code == 302
    key.refresh_from_db()
    assert not key.is_active and key.revoked_by == commune_admin
    api = c.get("/api/v1/procurations/", headers={"Authorization": f"Bearer {keys['procurations']}"})
    assert api.status_code == 401
    assert AuditLog.objects.filter(action="api.key_revoke", object_id=str(key.pk)).count() == 1
