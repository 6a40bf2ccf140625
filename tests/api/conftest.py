"""Keys of commune A for each scope, a key of commune B, and a client that sends them."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from api.models import KEY_PREFIX, ApiKey, Scope, hash_key
from tests.factories import (
    BureauDeVoteFactory,
    ElecteurFactory,
    ProcurationFactory,
    ScrutinFactory,
    UserFactory,
)

TINY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def make_key(commune, scopes, created_by, name="Logiciel élections") -> str:
    import secrets

    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    ApiKey.objects.create(commune=commune, name=name, prefix=raw[:10], key_hash=hash_key(raw), scopes=list(scopes),
                          created_by=created_by)
    return raw


class Api:
    def __init__(self, raw: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def get(self, url, data=None, **extra):
        return self.client.get(url, data, headers=self.headers, **extra)

    def post(self, url, data=None, content_type="application/json", **extra):
        return self.client.post(url, data, content_type=content_type, headers=self.headers, **extra)


@pytest.fixture
def admin_b(other_commune):
    return UserFactory(username="admin-b", commune_admin=True, commune=other_commune)


@pytest.fixture
def keys(commune, other_commune, commune_admin, admin_b):
    """Raw keys by name: one per scope of A, all scopes of A, all scopes of B."""
    return {
        "procurations": make_key(commune, [Scope.PROCURATIONS_READ], commune_admin),
        "teledossiers": make_key(commune, [Scope.TELEDOSSIERS_READ], commune_admin),
        "write": make_key(commune, [Scope.TELEDOSSIERS_WRITE], commune_admin),
        "all": make_key(commune, Scope.values, commune_admin),
        "b": make_key(other_commune, Scope.values, admin_b),
    }


@pytest.fixture
def api(keys):
    return lambda name=None: Api(keys.get(name, name))


@pytest.fixture
def data(commune, other_commune, mandant_user, mandant_electeur):
    """Procurations in A (two bureaux, two scrutins, several statuses), one in B, a télédossier in A with a
    pièce and a document, one in B."""
    from listes.models import Demarche, Document, Piece, Teledossier

    b2 = BureauDeVoteFactory(commune=commune, numero=2)
    s1, s2 = ScrutinFactory(), ScrutinFactory(date_tour1=datetime.date.today() + datetime.timedelta(days=90))
    p = {
        "attente": ProcurationFactory(commune=commune, scrutin=s1, en_attente=True),
        "autorite": ProcurationFactory(commune=commune, scrutin=s1, validee_autorite=True,
                                       mandant=ElecteurFactory(commune=commune, bureau=b2)),
        "mairie": ProcurationFactory(commune=commune, scrutin=s2, validee_mairie=True),
        "brouillon": ProcurationFactory(commune=commune, scrutin=s1),
        "b": ProcurationFactory(commune=other_commune, mandant=ElecteurFactory(commune=other_commune),
                                en_attente=True),
    }

    def dossier(c, user):
        piece = Piece(owner=user, kind="identite", original_name="cni.pdf", content_type="application/pdf",
                      size=len(TINY_PDF))
        piece.file.save("cni.pdf", ContentFile(TINY_PDF), save=False)
        piece.save()
        return Teledossier.deposer(
            usager=user, pieces=[piece], demarche=Demarche.ILE, commune=c, nom="DUPONT", prenoms="Marie",
            sexe="F", date_naissance=datetime.date(1980, 5, 12), lieu_naissance="Albi", adresse="3 rue des Lilas",
            code_postal="81190", ville="Almayrac", motif_rattachement="domicile",
        )

    d = dossier(commune, mandant_user)
    agent = UserFactory(username="listes-doc", agent_listes=True, commune=commune)
    doc = Document(teledossier=d, title="Attestation", size=len(TINY_PDF), created_by=agent)
    doc.file.save("attestation.pdf", ContentFile(TINY_PDF), save=False)
    doc.save()
    other = dossier(other_commune, UserFactory(username="usager-b", email="ub@example.fr"))
    return {"p": p, "s1": s1, "s2": s2, "d": d, "doc": doc, "d_b": other}
