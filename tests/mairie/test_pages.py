"""The mairie's pages as they open (mairie/views.py): a form opened by a GET is empty or shows the
current values, never errors; the procuration's page offers the decisions only while it waits
for the mairie, and refuses validation only for the plafond; the registre lists the 20 latest
exports and editions."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mairie.models import ExportJob, RegistrePrint
from procuration.models import Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUIRED = "Ce champ est obligatoire."


# ------------------------------------------------------------------ forms opened by a GET


@pytest.mark.parametrize("name", ["agent_create", "cerfa"])
def test_a_form_opened_by_a_get_is_empty_and_shows_no_error(client, commune_admin, name):
    client.force_login(commune_admin)
    r = client.get(reverse(f"mairie:{name}"))
    assert r.status_code == 200
    assert REQUIRED not in r.content.decode()
    assert not r.context["form"].is_bound


def test_the_agents_form_opened_by_a_get_shows_the_current_values(client, commune_admin, commune):
    agent = UserFactory(username="agent-edite", agent_mairie=True, commune=commune, first_name="Léonie",
                        last_name="Fabre", email="leonie.fabre@example.fr")
    client.force_login(commune_admin)
    page = client.get(reverse("mairie:agent_edit", args=[agent.pk])).content.decode()
    assert REQUIRED not in page
    for value in ("Léonie", "Fabre", "leonie.fabre@example.fr"):
        assert re.search(rf'<input [^>]*value="{re.escape(value)}"', page), value


# ------------------------------------------------------------------ the procuration's page


def _detail(client, agent, p) -> str:
    client.force_login(agent)
    r = client.get(reverse("mairie:detail", args=[p.pk]))
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.parametrize("status", [s for s in Status.values if s != Status.BROUILLON])
def test_the_decisions_are_offered_only_while_the_procuration_waits_for_the_mairie(client, agent_mairie, commune,
                                                                                  status):
    p = ProcurationFactory(validee_autorite=True, status=status, commune=commune,
                           mandant=ElecteurFactory(commune=commune))
    page = _detail(client, agent_mairie, p)
    shown = {'id="decisions"' in page, 'id="validate-form"' in page, 'id="invalidate-form"' in page}
    assert shown == {status == Status.VALIDEE_AUTORITE}


def test_a_failing_check_other_than_the_plafond_leaves_validation_open_after_verification(
        client, agent_mairie, commune, other_commune):
    """The mandant is no longer on this commune's list (« Mandant inscrit » fails) but the mandataire
    holds no other procuration: the agent may validate after checking, with a motif."""
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=other_commune),
                           mandataire=ElecteurFactory(commune=commune))
    page = _detail(client, agent_mairie, p)
    assert "Non conforme" in page
    assert "ne peut pas être validée, même après vérification" not in page
    assert 'name="forcer"' in page and 'name="motif_forcage"' in page
    assert "Valider la procuration</button>" in page


# ------------------------------------------------------------------ the registre's lists


def test_the_registre_lists_the_20_latest_editions_and_exports(client, agent_mairie, commune):
    scrutin = ScrutinFactory(libelle="Municipales")
    bureau = ElecteurFactory(commune=commune).bureau
    now = timezone.now()
    for i in range(21):  # i minutes ago; the edition counts 100 + i procurations, the export is on tour 1 or 2
        RegistrePrint.objects.create(commune=commune, scrutin=scrutin, tour=1, bureau=bureau, printed_by=agent_mairie,
                                     printed_at=now - datetime.timedelta(minutes=i), count=100 + i, new_count=0)
        ExportJob.objects.create(commune=commune, requested_by=agent_mairie, scrutin=scrutin,
                                 tour=2 if i == 20 else 1, format="csv",
                                 created_at=now - datetime.timedelta(minutes=i))
    client.force_login(agent_mairie)
    page = client.get(reverse("mairie:registre")).content.decode()
    prints = page.split('<table id="prints">')[1].split("</table>")[0]
    jobs = page.split('<table id="jobs">')[1].split("</table>")[0]
    assert prints.count("<tr>") - 1 == 20 and jobs.count("<tr>") - 1 == 20  # the header's row
    assert [int(n) for n in re.findall(r"<td>(\d+)</td><td>0</td>", prints)] == list(range(100, 120))
    assert jobs.count("Municipales — 1er tour") == 20 and "2nd tour" not in jobs  # not the oldest export
