"""The mairie's « valider » POST in a pinned number of statements, and its reads compiled once per
process (issue 16, docs/performance.md « The flow's three POSTs »): the fiche's read scoped by
visible_to and the locked read (procuration/fixed_select.py CompiledOnce), the mandataire's lock and
the electors' procurations read once for the plafond and every check (procuration/checks.py
raise_for_mairie), the event's head. The scope is unchanged: another commune's or a brouillon is a 404."""

import pytest
from django.urls import reverse

from procuration.models import OutboxEmail, Procuration, ProcurationCount, ProcurationEvent, Status
from tests.compilations import insert_compilations, select_compilations
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = pytest.mark.django_db

# user; the fiche; SAVEPOINT; the locked procuration with its related rows; the mandataire's lock; the
# mandant's and the mandataire's procurations (one read); UPDATE; the dashboard's counts (one INSERT of
# the -1 and +1 rows, procuration.counts); the event's head; the event; the Change row (with the
# webhooks); the outbox row; RELEASE.
STATEMENTS = 13


def waiting(commune):
    return ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune))


def test_the_validation_post_runs_a_pinned_number_of_statements_and_compiles_no_select(
    client, agent_mairie, commune, django_assert_num_queries
):
    client.force_login(agent_mairie)
    assert client.post(reverse("mairie:validate", args=[waiting(commune).pk])).status_code == 302  # compiles
    p = waiting(commune)
    with select_compilations() as compiled, insert_compilations() as inserts, \
            django_assert_num_queries(STATEMENTS):
        response = client.post(reverse("mairie:validate", args=[p.pk]))
    assert response.status_code == 302
    assert compiled == []  # every SELECT of the request was compiled once per process
    # The event's, the outbox row's and the counts' INSERTs are written once per process (procuration.fixed_select).
    assert not {ProcurationEvent, OutboxEmail, ProcurationCount} & set(inserts), inserts
    p = Procuration.objects.get(pk=p.pk)
    assert p.status == Status.VALIDEE_MAIRIE and p.mairie_by == agent_mairie and p.events.count() == 1


def test_the_compiled_fiche_keeps_the_scope(client, agent_mairie, agent_mairie_b, commune, other_commune):
    mine, theirs = waiting(commune), waiting(other_commune)
    brouillon = ProcurationFactory(commune=commune, mandant=ElecteurFactory(commune=commune))
    client.force_login(agent_mairie)
    assert client.get(reverse("mairie:detail", args=[mine.pk])).status_code == 200
    for p in (theirs, brouillon):
        assert client.get(reverse("mairie:detail", args=[p.pk])).status_code == 404
        assert client.post(reverse("mairie:validate", args=[p.pk])).status_code == 404
    assert Procuration.objects.get(pk=theirs.pk).status == Status.VALIDEE_AUTORITE
    client.force_login(agent_mairie_b)  # the same compiled statement, another commune's value
    assert client.get(reverse("mairie:detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("mairie:detail", args=[mine.pk])).status_code == 404


def test_a_failed_check_is_still_refused_unless_forced_from_the_one_read(client, agent_mairie, commune):
    mandant = ElecteurFactory(commune=commune)
    ProcurationFactory(validee_autorite=True, mandant=mandant, commune=commune)
    p = ProcurationFactory(validee_autorite=True, mandant=mandant, commune=commune)  # same dates: a doublon
    client.force_login(agent_mairie)
    response = client.post(reverse("mairie:validate", args=[p.pk]))
    assert response.status_code == 400 and "Procuration unique du mandant" in response.content.decode()
    assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_AUTORITE
