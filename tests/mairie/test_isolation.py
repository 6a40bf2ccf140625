"""Every mairie URL, called by another commune's administrator with this commune's object ids,
answers 404 (GET and POST); URLs without ids show nothing of this commune."""

import pytest
from django.urls import URLPattern, reverse

from mairie.models import ExportJob
from mairie.urls import urlpatterns
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commune_a_objects(commune, agent_mairie):
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    job = ExportJob.objects.create(
        commune=commune, requested_by=agent_mairie, scrutin=ScrutinFactory(), tour=1, format="csv", state="done",
        progress=100,
    )
    from elus.models import Mandat

    mandat = Mandat.objects.create(user=agent_mairie, fonction="adjoint", temps_travail=80)
    return {"procuration_pk": p.pk, "export_pk": job.pk, "agent_pk": agent_mairie.pk, "mandat_pk": mandat.pk,
            "_ref": p.reference}


@pytest.mark.parametrize("is_admin", [False, True], ids=["agent", "commune-admin"])
def test_every_mairie_url_answers_404_to_another_communes_agent(client, other_commune, commune_a_objects, is_admin):
    user_b = UserFactory(username="user-b", agent_mairie=True, is_commune_admin=is_admin, commune=other_commune)
    client.force_login(user_b)
    with_ids = [p for p in urlpatterns if isinstance(p, URLPattern) and p.pattern.converters]
    assert {p.name for p in with_ids} >= {"detail", "validate", "invalidate", "export", "export_download",
                                         "agent_edit", "agent_toggle", "agent_reset", "mandat_edit", "mandat_end"}
    for pattern in with_ids:
        kwargs = {name: commune_a_objects[name] for name in pattern.pattern.converters}
        url = reverse(f"mairie:{pattern.name}", kwargs=kwargs)
        assert client.get(url).status_code == 404, f"GET {url}"
        assert client.post(url, {"motif": "autre", "detail": "x", "forcer": "on", "temps_travail": "50",
                                 "employeur": "x"}).status_code == 404, f"POST {url}"
    # Nothing changed for commune A.
    from elus.models import Mandat
    from procuration.models import Procuration, Status, User

    assert Mandat.objects.filter(pk=commune_a_objects["mandat_pk"], temps_travail=80, employeur="").exists()
    assert Procuration.objects.get(pk=commune_a_objects["procuration_pk"]).status == Status.VALIDEE_AUTORITE
    assert User.objects.get(pk=commune_a_objects["agent_pk"]).is_active


def test_urls_without_ids_show_nothing_of_another_commune(client, other_commune, commune_a_objects):
    admin_b = UserFactory(username="admin-b", commune_admin=True, commune=other_commune)
    client.force_login(admin_b)
    for pattern in urlpatterns:
        if pattern.pattern.converters or pattern.name in ("login", "batch_validate", "queue_export", "search_export"):
            continue
        response = client.get(reverse(f"mairie:{pattern.name}"))
        assert response.status_code == 200, pattern.name
        assert commune_a_objects["_ref"] not in response.content.decode(), pattern.name
    # Searching A's reference finds nothing.
    response = client.get(reverse("mairie:search"), {"q": commune_a_objects["_ref"]})
    assert "0 procuration trouvée" in response.content.decode()
    assert commune_a_objects["_ref"] not in response.content.decode().split('id="result-count"')[1]
    # Batch validation ignores another commune's ids.
    client.post(reverse("mairie:batch_validate"), {"ids": [commune_a_objects["procuration_pk"]]})
    from procuration.models import Procuration, Status

    assert Procuration.objects.get(pk=commune_a_objects["procuration_pk"]).status == Status.VALIDEE_AUTORITE


def test_agent_pages_are_for_the_commune_admin_only(client, agent_mairie, commune, mandant_user):
    colleague = UserFactory(username="colleague", agent_mairie=True, commune=commune)
    client.force_login(agent_mairie)
    for name in ("agents", "agent_create", "parametres"):
        assert client.get(reverse(f"mairie:{name}")).status_code == 403
    for name in ("agent_edit", "agent_toggle", "agent_reset"):
        assert client.post(reverse(f"mairie:{name}", args=[colleague.pk])).status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active
    client.force_login(mandant_user)
    assert client.get(reverse("mairie:queue")).status_code == 403
    client.logout()
    response = client.get(reverse("mairie:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mairie:login"))
