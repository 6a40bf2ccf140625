"""« établie en France » with its capital, in the récapitulatif and the suivi of a procuration."""

from html import unescape

import pytest
from django.urls import reverse

from tests.factories import ProcurationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("etablissement", "expected"), [("france", "établie en France"),
                                                          ("etranger", "établie à l'étranger")])
def test_detail_names_where_it_is_established(client, mandant_user, mandant_electeur, etablissement, expected):
    p = ProcurationFactory(mandant=mandant_electeur, mandant_user=mandant_user, etablissement=etablissement)
    p.soumettre(by=mandant_user)
    client.force_login(mandant_user)
    html = unescape(client.get(reverse("mandant:detail", args=[p.pk])).content.decode())
    assert f"— {expected}</dd>" in html
