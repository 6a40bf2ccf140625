"""Shared fixtures of the end-to-end flows: the real local OIDC provider (FranceConnect) and the
people of tests/mandant/conftest.py, a scrutin far enough ahead for the online ILE."""

import datetime

import pytest

from tests.factories import ScrutinFactory
from tests.mandant.conftest import mandataire, oidc_provider  # noqa: F401 - fixtures re-exported


@pytest.fixture
def scrutin(db):
    return ScrutinFactory(libelle="Municipales de test", date_tour1=datetime.date.today() + datetime.timedelta(days=120))
