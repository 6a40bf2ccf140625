"""The récapitulatif's POST that files the demande in a pinned number of statements, and its reads
compiled once per process (issue 16, docs/performance.md « The flow's three POSTs »): the mandataire
and the scrutin of the demande (mandant/forms.py build_procuration), the scrutin's scope
(Scrutin.concerne), the mandant's lock and the electors' procurations
(procuration/checks.py): procuration/fixed_select.py CompiledOnce; the row just inserted is its own
locked read (Procuration.deposer)."""

import datetime

import pytest
from django.urls import reverse

from procuration.models import OutboxEmail, Procuration, ProcurationCount, ProcurationEvent, Status
from tests.compilations import insert_compilations, select_compilations
from tests.factories import ScrutinFactory
from tests.mandant.test_demande import post_mandataire, post_validite

pytestmark = pytest.mark.django_db

ENVOI = {"email_contact": "marie@example.fr", "attestation": "on"}
# user; the mandant's elector (one fixed statement); the mandataire; the scrutin; SAVEPOINT (deposer's
# transaction: BEGIN in production); INSERT, its reference drawn with it; the search keys' INSERT
# (procuration.search, written with the new row); the scrutin's scope; the mandant's lock; the electors'
# procurations; UPDATE (the transition); the dashboard's counts (procuration.counts); the event (the
# dossier's first link: no head to read); the Change row; the outbox row; RELEASE; the session's UPDATE
# (the demande leaves it; one statement, no savepoint of its own: procuration/sessions.py). Before
# Procuration.deposer (issue 16): 26 — soumettre's savepoint and its release, the locked re-read of the
# row just inserted, the reference's savepoint, UPDATE and release, the event's head; 19 before
# procuration/sessions.py (the session's savepoint and release).
STATEMENTS = 17


def _up_to_recap(client, scrutin):
    assert post_validite(client, scrutin)["Location"] == reverse("mandant:demande_mandataire")
    response = post_mandataire(client, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    assert response["Location"] == reverse("mandant:demande_recapitulatif")


def test_the_envoi_post_runs_a_pinned_number_of_statements_and_compiles_no_select(
    client, mandant_user, mandataire, scrutin, django_assert_num_queries
):
    client.force_login(mandant_user)
    _up_to_recap(client, scrutin)
    assert client.post(reverse("mandant:demande_recapitulatif"), ENVOI).status_code == 302  # compiles
    later = ScrutinFactory(date_tour1=scrutin.date_tour2 + datetime.timedelta(days=14))  # not a doublon
    _up_to_recap(client, later)
    with select_compilations() as compiled, insert_compilations() as inserts, \
            django_assert_num_queries(STATEMENTS):
        response = client.post(reverse("mandant:demande_recapitulatif"), ENVOI)
    assert response.status_code == 302
    assert compiled == []  # every SELECT of the request was compiled once per process
    # The event's, the outbox row's and the counts' INSERTs are written once per process (procuration.fixed_select).
    assert not {ProcurationEvent, OutboxEmail, ProcurationCount} & set(inserts), inserts
    p = Procuration.objects.get(scrutin=later)
    assert p.status == Status.EN_ATTENTE and p.reference and p.events.count() == 1 and p.emails.count() == 1
    assert response["Location"] == reverse("mandant:confirmation", args=[p.pk])
