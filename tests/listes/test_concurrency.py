"""Two agents accept the same ILE at the same moment: the row lock lets one through."""

import threading

import pytest
from django.db import connection

from listes.models import Decision, Teledossier, TeledossierEvent
from procuration.exceptions import DomainError
from procuration.models import Electeur
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_creates_one_elector(commune):
    import datetime

    usager = UserFactory(username="u-conc", email="u@example.fr", gender="F", birthdate=datetime.date(1990, 1, 1))
    agents = [UserFactory(username=f"a-conc-{i}", agent_listes=True, commune=commune, totp=False) for i in range(2)]
    d = Teledossier.deposer(usager=usager, pieces=[], demarche="ile", commune=commune, nom="DURAND", prenoms="Léa",
                            sexe="F", date_naissance=datetime.date(1990, 1, 1), lieu_naissance="Albi",
                            adresse="1 rue", code_postal="81000", ville="Albi", motif_rattachement="domicile")
    before = Electeur.objects.count()
    barrier = threading.Barrier(2)
    outcomes = []

    def accept(agent):
        try:
            barrier.wait()
            outcomes.append(Teledossier.objects.get(pk=d.pk).accepter(by=agent, comment="ok"))
        except DomainError as e:
            outcomes.append(e.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count(True) == 1
    assert any(isinstance(o, str) and "Dossier clos" in o for o in outcomes)
    assert Electeur.objects.count() == before + 1
    d.refresh_from_db()
    assert d.decision == Decision.ACCEPTEE
    assert TeledossierEvent.objects.filter(teledossier=d, action="accepter").count() == 1
