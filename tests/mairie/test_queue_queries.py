"""The queue page: a constant number of queries whatever the number of procurations."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procuration import counts
from procuration.models import Electeur, Procuration, ProcurationCount, Status
from tests.factories import ElecteurFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


def _bulk_waiting(commune, n, offset=0):
    """n procurations waiting for the mairie, inserted in bulk (factories would take minutes)."""
    s = ScrutinFactory()
    base = ElecteurFactory(commune=commune)
    electeurs = Electeur.objects.bulk_create([
        Electeur(nne=f"{700000000 + offset + i:09d}", nom=f"NOM{i}", prenoms="Jean", sexe="M", date_naissance=datetime.date(1970, 1, 1),
                 commune=commune, bureau=base.bureau)
        for i in range(2 * n)
    ])
    now = timezone.now()
    with transaction.atomic():  # a bulk load keeps its counts like any creation (procuration.counts)
        counts.created(*_bulk_rows(commune, s, electeurs, n, offset, now))


def _bulk_rows(commune, s, electeurs, n, offset, now):
    return Procuration.objects.bulk_create([
        Procuration(
            reference=f"Q{offset + i:05d}", status=Status.VALIDEE_AUTORITE, mandant=electeurs[2 * i], mandataire=electeurs[2 * i + 1],
            commune=commune, scrutin=s, tour1=True, tour2=True, valid_from=s.date_tour1, valid_until=s.date_tour2,
            submitted_at=now, autorite_at=now - datetime.timedelta(minutes=i), autorite_label="MARTIN Julie",
        )
        for i in range(n)
    ], batch_size=2000)


def test_queue_page_query_count_is_constant_with_10000_procurations(client, agent_mairie, commune,
                                                                    django_assert_num_queries, monkeypatch):
    # The DSFR site config is kept per process for SITE_CONFIG_TTL seconds: inserting 10 000 rows on a
    # loaded machine can outlast it and add its two queries. Not what this test measures.
    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    client.force_login(agent_mairie)
    _bulk_waiting(commune, 5)
    client.get(reverse("mairie:queue"))  # the session's first request checks the TOTP and caches the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("mairie:queue")).status_code == 200
    Procuration.objects.all().delete()
    ProcurationCount.objects.all().delete()  # and their counts with them (procuration.counts.forget's effect)
    _bulk_waiting(commune, 10_000, offset=50_000)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("mairie:queue"))
    assert response.status_code == 200
    assert "10000 procurations" in response.content.decode()
    # And with filters and on a later page.
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("mairie:queue"), {"page": 3, "age": "1", "status": "validee_autorite"})
    assert response.status_code == 200


QUEUE_QUERIES = 6


@pytest.mark.parametrize("n", [1, 50])
def test_queue_page_with_its_checks_runs_6_queries_from_1_to_50_rows(client, agent_mairie, commune, n,
                                                                    django_assert_num_queries, monkeypatch):
    """The user (with whether they hold an élu's mandat, for the menu: procuration.auth), the count,
    the rows (their columns only), the checks' one (the mandataires' and the mandants' binding
    procurations together), the filters' scrutins and bureaux. Not the commune (the filters need
    only its pk), nor the mandat on its own (issue 16; 9, then 7 before)."""
    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    client.force_login(agent_mairie)
    _bulk_waiting(commune, n + 10 if n == 50 else n)
    client.get(reverse("mairie:queue"))
    with django_assert_num_queries(QUEUE_QUERIES) as queries:
        response = client.get(reverse("mairie:queue"))
    assert response.status_code == 200 and response.content.decode().count('<tr data-reference="') == n
    # The count comes with the page's pks (mairie.listing.queue_page), from the counts kept per
    # commune, scrutin and status (procuration.counts: no COUNT over the queue's rows), the rows by
    # their pks (procuration.rows.Columns.by_pk), the checks' ids as arrays (procuration.lookups.AnyOf).
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any(q.startswith("SELECT COUNT(") or "OVER (" in q for q in sql)
    assert sum("procuration_procurationcount" in q for q in sql) == 1
    assert sum(" = ANY(" in q for q in sql) == (2 if n > 1 else 1)  # one row: its checks' own statement


def test_the_menu_offers_the_credit_d_heures_to_an_elu_only(client, agent_mairie, commune,
                                                            django_assert_num_queries, monkeypatch):
    """The mandat is read with the user: an agent without one pays no query for the menu, an élu's
    menu still shows « Mon crédit d'heures », whichever of the two the process served first (the
    menu is a per-process fragment keyed by user.has_mandat)."""
    from elus.models import Mandat

    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    elu = UserFactory(username="elu-a", agent_mairie=True, commune=commune)
    Mandat.objects.create(user=elu, fonction="adjoint")
    _bulk_waiting(commune, 3)
    for user, shown in ((agent_mairie, False), (elu, True), (agent_mairie, False)):
        client.force_login(user)
        client.get(reverse("mairie:home"))
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("mairie:queue")).content.decode()
        assert ("Mon crédit d'heures" in page) is shown
        assert "elus_mandat" in queries.captured_queries[0]["sql"]  # the user's statement
        # The mandat on its own: an élu's only, when the menu asks for it.
        assert sum('FROM "elus_mandat" WHERE' in q["sql"] for q in queries.captured_queries) == shown
        assert len(queries.captured_queries) == QUEUE_QUERIES + shown


@pytest.mark.parametrize("number", ["1", "2", "3", "99", "0", "-1", "abc", "2.0", None, "9" * 40])
def test_the_queue_shows_the_page_paginator_get_page_would_show(client, agent_mairie, commune, number):
    """mairie.listing.queue_page reads the count with the page's pks (COUNT(*) OVER ()): the same page,
    rows and navigation as Paginator.get_page over the queue's queryset, whatever was asked for (not a
    number: the first page; past the end or below 1: the last)."""
    from django.core.paginator import Paginator

    from mairie import listing
    from mairie.views import QUEUE_PAGE_SIZE

    _bulk_waiting(commune, 2 * QUEUE_PAGE_SIZE + 7)
    client.force_login(agent_mairie)
    params = {} if number is None else {"page": number}
    page = client.get(reverse("mairie:queue"), params).content.decode()
    expected = Paginator(listing.queue_queryset(agent_mairie, listing.queue_form(agent_mairie, {})),
                         QUEUE_PAGE_SIZE).get_page(number)
    shown = [line.split('"')[1] for line in page.split('<tr data-reference=')[1:]]
    assert shown == [p.reference for p in expected.object_list]
    assert f"Page {expected.number} sur 3" in page and f"{2 * QUEUE_PAGE_SIZE + 7} procurations." in page


def test_an_empty_queue_reads_no_rows_and_says_so(client, agent_mairie, commune, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr("procuration.context_processors.SITE_CONFIG_TTL", float("inf"))
    client.force_login(agent_mairie)
    client.get(reverse("mairie:queue"))
    with django_assert_num_queries(4):  # the user, the page's pks with the count, the filters' scrutins and bureaux
        page = client.get(reverse("mairie:queue"), {"page": "1"}).content.decode()
    assert "0 procurations." in page and "Aucune procuration ne correspond à ces critères." in page
