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
