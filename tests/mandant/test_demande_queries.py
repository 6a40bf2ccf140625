"""The demande's steps read each thing once (issue 16: the flow's pages close to the floor).

- step 1, a valid POST: the offer of scrutins (the commune's upcoming ones, ordered by date) is read
  only to render the field, not for a POST that redirects; the page itself still offers them;
- step 2 and its live check: the mandataire found by NNE is the one the checks use, not read a
  second time by its pk.
"""

import re

import pytest
from django.urls import reverse

from tests.mandant.test_demande import post_mandataire, post_validite

pytestmark = pytest.mark.django_db

MANDATAIRE = {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-03"}


@pytest.fixture
def logged(client, mandant_user):
    client.force_login(mandant_user)
    return client


def electeur_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if re.search(r'FROM "procuration_electeur"', q["sql"])]  # joins excluded


def scrutin_offers(queries) -> list[str]:
    return [q["sql"] for q in queries
            if 'FROM "procuration_scrutin"' in q["sql"] and 'ORDER BY "procuration_scrutin"."date_tour1"' in q["sql"]]


def test_a_valid_validite_post_does_not_read_the_offer_of_scrutins(logged, scrutin, django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as page:
        html = logged.get(reverse("mandant:demande_validite")).content.decode()
    assert len(scrutin_offers(page.captured_queries)) == 1
    assert f'<option value="{scrutin.pk}">{scrutin.libelle}' in html
    with django_assert_max_num_queries(50) as post:
        assert post_validite(logged, scrutin).status_code == 302
    assert scrutin_offers(post.captured_queries) == []


def test_an_invalid_validite_post_offers_the_scrutins_again(logged, scrutin):
    response = post_validite(logged, scrutin, tour1=None, tour2=None)
    assert response.status_code == 200
    assert f'<option value="{scrutin.pk}" selected>{scrutin.libelle}' in response.content.decode()


def test_the_mandataire_is_read_once_at_step_2_and_in_the_live_check(
    logged, scrutin, mandataire, django_assert_max_num_queries
):
    assert post_validite(logged, scrutin).status_code == 302
    with django_assert_max_num_queries(50) as live:
        response = logged.get(reverse("mandant:verifier_mandataire"), MANDATAIRE)
    assert "Mandataire trouvé" in response.content.decode()
    with django_assert_max_num_queries(50) as step:
        assert post_mandataire(logged, **MANDATAIRE)["Location"] == reverse("mandant:demande_recapitulatif")
    for queries in (live.captured_queries, step.captured_queries):
        reads = electeur_reads(queries)
        # The login's elector (its pivot) and the mandataire typed (its NNE), nothing else from the register.
        assert len(reads) == 2, reads
        assert sum('"nne" = ' in sql for sql in reads) == 1, reads


def _get(client, url, compiled=None):
    """The page and its SQL statements, the second time it is read; `compiled`: the queries the ORM
    compiled for it (SQLCompiler.as_sql, the real method counted), checked against this number."""
    from django.db import connection
    from django.db.models.sql.compiler import SQLCompiler
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the site's configuration (django-dsfr) is read by the first page, then cached
    real, calls = SQLCompiler.as_sql, []

    def counted(self, *args, **kwargs):
        calls.append(self.query.model)
        return real(self, *args, **kwargs)

    SQLCompiler.as_sql = counted
    try:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
    finally:
        SQLCompiler.as_sql = real
    assert response.status_code == 200, response.status_code
    if compiled is not None:
        assert len(calls) == compiled, calls
    return response.content.decode(), [q["sql"] for q in captured]


def orm_built(sql: list[str], table: str) -> list[str]:
    """The statements on `table` the ORM built (its columns qualified by the table's name), not the
    ones written once per process (procuration/fixed_select.py: the table under the alias t)."""
    return [s for s in sql if f'FROM "{table}" ' in s and f'FROM "{table}" t ' not in s]


def test_the_steps_of_the_demande_read_a_pinned_number_of_statements(logged, scrutin, mandataire):
    """Pinned: a statement that comes back fails here (issue 16). The récapitulatif reads the
    mandataire and the scrutin kept in the session by statements written once per process
    (mandant/forms.py build_procuration), not by queries the ORM builds on every request."""
    # The offer of scrutins compiled once per process (mandant/forms.py _OFFER): nothing compiled here.
    html, sql = _get(logged, reverse("mandant:demande_validite"), compiled=0)
    # user, the login's elector, the offer of scrutins
    assert len(sql) == 3, sql
    assert f'<option value="{scrutin.pk}">{scrutin.libelle}' in html
    assert post_validite(logged, scrutin).status_code == 302
    html, sql = _get(logged, reverse("mandant:demande_mandataire"))
    assert len(sql) == 2, sql  # user, the login's elector
    assert post_mandataire(logged, **MANDATAIRE).status_code == 302
    html, sql = _get(logged, reverse("mandant:demande_recapitulatif"), compiled=0)  # the checks: compiled once too (procuration.checks, CompiledOnce)
    # user, the login's elector, the mandataire, the scrutin, the checks (procuration.checks._load)
    assert len(sql) == 5, sql
    assert orm_built(sql, "procuration_electeur") == [] and orm_built(sql, "procuration_scrutin") == [], sql
    assert sum('FROM "procuration_electeur" t ' in s for s in sql) == 2
    assert f"{mandataire.prenoms} {mandataire.nom.upper()}, inscrit(e) à {mandataire.commune.nom}" in html
    assert scrutin.libelle in html


def test_the_confirmation_reads_the_procuration_once_with_its_related_rows(logged, mandant_user, mandant_electeur,
                                                                         mandant_b):
    """_get_own: the scoping rule (visible_to) compiled by the ORM, the five related rows by the
    columns and joins written once per process (procuration/fixed_select.py rows_of)."""
    from tests.factories import ProcurationFactory

    p = ProcurationFactory(en_attente=True, mandant_user=mandant_user, mandant=mandant_electeur)
    html, sql = _get(logged, reverse("mandant:confirmation", args=[p.pk]), compiled=0)  # the WHERE only
    assert len(sql) == 2, sql  # user, the procuration with its mandant, mandataire (and commune), commune, scrutin
    assert ' r0 ON r0."id" = "procuration_procuration"."mandant_id"' in sql[1], sql[1]
    assert f'"procuration_procuration"."mandant_user_id" = {mandant_user.pk}' in sql[1]
    assert p.reference in html and f"{p.mandataire.prenoms} {p.mandataire.nom.upper()}" in html
    other = ProcurationFactory(en_attente=True, mandant_user=mandant_b)
    assert logged.get(reverse("mandant:confirmation", args=[other.pk])).status_code == 404
    draft = ProcurationFactory(mandant_user=mandant_user, mandant=mandant_electeur)  # a brouillon is nobody's page
    assert logged.get(reverse("mandant:confirmation", args=[draft.pk])).status_code == 404
    # beyond a bigint: the ORM's lookup matches nothing (EmptyResultSet), no statement, a 404
    assert logged.get(reverse("mandant:confirmation", args=[2**70])).status_code == 404


def test_the_scrutin_posted_at_step_1_is_read_by_the_fixed_statement(logged, scrutin):
    """mandant/forms.py ScrutinField: the posted scrutin by _SCRUTIN_BY_PK, not Scrutin.objects.get();
    a key that is not a scrutin keeps its message and changes nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.mandant.test_demande import assert_field_error

    with CaptureQueriesContext(connection) as captured:
        assert post_validite(logged, scrutin).status_code == 302
    sql = [q["sql"] for q in captured]
    fixed = [s for s in sql if s.startswith("SELECT t.") and 'FROM "procuration_scrutin" t ' in s]
    assert len(fixed) == 1 and 'WHERE t."id" = ' in fixed[0], sql
    assert not any('FROM "procuration_scrutin" WHERE "procuration_scrutin"."id" = ' in s for s in sql), sql
    for bad in ("987654", "abc", "1.5", str(2**70), "-1"):
        response = logged.post(reverse("mandant:demande_validite"), {
            "portee": "scrutin", "scrutin": bad, "tour1": "on", "tour2": "on", "etablissement": "france"})
        assert_field_error(response, "scrutin", "Ce scrutin n'existe pas.")
