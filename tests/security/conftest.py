"""One world owned by "A", built once per module, and one user per role.

The world lives inside an outer transaction opened by a module-scoped fixture; each test runs
in a savepoint (pytest-django's `db`), so what a test changes is rolled back and the next test
sees the world intact. Tests re-read objects by primary key (`world.pk[...]`).
"""

import datetime
import io
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from tests.conftest import Client
from tests.factories import (
    CommuneFactory,
    ElecteurFactory,
    ProcurationFactory,
    ScrutinFactory,
    UserFactory,
)

# The roles of the matrix. "A" owns the world; "B" is the same role elsewhere.
ANON = "anonyme"
MANDANT_A = "mandant_a"
MANDANT_B = "mandant_b"
POLICIER = "policier"
POLICE_ADMIN = "police_admin"  # administrateur de l'unité
AGENT_A = "agent_mairie_a"
AGENT_B = "agent_mairie_b"
COMMUNE_ADMIN = "admin_commune_a"  # administrateur (mairie) of commune A
LISTES_A = "agent_listes_a"
LISTES_B = "agent_listes_b"
LISTES_ADMIN = "admin_listes_a"  # administrateur du guichet of commune A
ADMIN_NATIONAL = "admin_national"

ROLES = [
    ANON, MANDANT_A, MANDANT_B, POLICIER, POLICE_ADMIN, AGENT_A, AGENT_B, COMMUNE_ADMIN,
    LISTES_A, LISTES_B, LISTES_ADMIN, ADMIN_NATIONAL,
]

TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 0, 145)).save(buf, format="PNG")
    return buf.getvalue()


_HANDLERS = {}


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> user pk
    pk: dict = field(default_factory=dict)  # object name -> pk (or numero)

    def user(self, role):
        from procuration.models import User

        return None if role == ANON else User.objects.get(pk=self.users[role])

    def client(self, role, enforce_csrf_checks=False) -> Client:
        c = Client(enforce_csrf_checks=enforce_csrf_checks)
        # One handler per CSRF mode for the whole run: loading the middleware (WhiteNoise scans
        # every static file with finders on) takes a second or more per new Client.
        c.handler = _HANDLERS.setdefault(enforce_csrf_checks, c.handler)
        if role != ANON:
            c.force_login(self.user(role))
        return c


def build_world() -> World:
    from listes.models import Demarche, Document, ListesCommuneConfig, Piece, Teledossier
    from mairie.models import ExportJob
    from procuration.models import Procuration, ProcurationEvent, Status

    w = World()
    commune = CommuneFactory(nom="Almayrac", code_insee="81005")
    other = CommuneFactory(nom="Loisieux", code_insee="38214")
    scrutin = ScrutinFactory(libelle="Municipales", date_tour1=datetime.date.today() + datetime.timedelta(days=120))
    electeur = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", date_naissance=datetime.date(1980, 5, 12))
    ElecteurFactory(commune=other)  # commune B has a register too
    users = {
        MANDANT_A: UserFactory(
            username="mandant-a", first_name=electeur.prenoms, last_name=electeur.nom, birthdate=electeur.date_naissance,
            gender=electeur.sexe, birthplace=electeur.code_lieu_naissance, birthcountry=electeur.code_pays_naissance,
            email="marie.dupont@example.fr",
        ),
        MANDANT_B: UserFactory(username="mandant-b", email="b@example.fr"),
        POLICIER: UserFactory(username="opj", policier=True, first_name="Julie", last_name="Martin"),
        POLICE_ADMIN: UserFactory(username="opj-chef", policier=True, is_unit_admin=True),
        AGENT_A: UserFactory(username="agent-a", agent_mairie=True, commune=commune),
        AGENT_B: UserFactory(username="agent-b", agent_mairie=True, commune=other),
        COMMUNE_ADMIN: UserFactory(username="admin-a", commune_admin=True, commune=commune),
        LISTES_A: UserFactory(username="listes-a", agent_listes=True, commune=commune),
        LISTES_B: UserFactory(username="listes-b", agent_listes=True, commune=other),
        LISTES_ADMIN: UserFactory(username="listes-admin", agent_listes=True, is_commune_admin=True, commune=commune),
        ADMIN_NATIONAL: UserFactory(username="national", admin_national=True),
    }
    w.users = {role: u.pk for role, u in users.items()}
    mandant_a = users[MANDANT_A]

    # Procurations of mandant A in commune A, at various statuses.
    def proc(**traits):
        return ProcurationFactory(mandant=electeur, mandant_user=mandant_a, scrutin=scrutin, **traits)

    w.pk["brouillon"] = proc().pk
    w.pk["en_attente"] = proc(en_attente=True).pk
    w.pk["validee_autorite"] = proc(validee_autorite=True, tour2=False).pk
    # Validated at the counter by POLICIER (police:acte, police:acte_recepisse).
    ProcurationEvent.append(Procuration.objects.get(pk=w.pk["validee_autorite"]), from_status=Status.EN_ATTENTE,
                            to_status=Status.VALIDEE_AUTORITE, actor=users[POLICIER])
    w.pk["validee_mairie"] = proc(validee_mairie=True, tour1=False).pk
    w.pk["refusee"] = proc(en_attente=True, status=Status.REFUSEE_AUTORITE, tour1=False, tour2=False).pk
    # A procuration another elector of A's commune gave to mandant A's elector (mandant:confiee).
    w.pk["confiee"] = ProcurationFactory(validee_mairie=True, mandant=ElecteurFactory(commune=commune, nom="FAURE"),
                                         mandataire=electeur, scrutin=scrutin).pk

    # Mairie objects of commune A: a finished registre export and the agents.
    job = ExportJob(commune=commune, requested_by=users[AGENT_A], scrutin=scrutin, tour=1, format="csv",
                    state=ExportJob.State.DONE, progress=100)
    job.file.save("registre-securite.csv", ContentFile(b"bureau;mandant\n1;DUPONT\n"), save=False)
    job.save()
    w.pk["export"] = job.pk

    # A télédossier of usager A in commune A, with a pièce and a document of the mairie.
    piece = Piece(owner=mandant_a, kind="identite", original_name="cni.pdf", content_type="application/pdf",
                  size=len(TINY_PDF))
    piece.file.save("cni.pdf", ContentFile(TINY_PDF), save=False)
    piece.save()
    d = Teledossier.deposer(
        usager=mandant_a, pieces=[piece], demarche=Demarche.ILE, commune=commune, nom="DUPONT",
        prenoms="Marie Claire", sexe="F", date_naissance=datetime.date(1980, 5, 12), lieu_naissance="Albi",
        departement_naissance="Tarn (81)", adresse="3 rue des Lilas", code_postal="81190", ville="Almayrac",
        scrutin=scrutin, motif_rattachement="domicile",
    )
    doc = Document(teledossier=d, title="Attestation", size=len(TINY_PDF), created_by=users[LISTES_A])
    doc.file.save("attestation.pdf", ContentFile(TINY_PDF), save=False)
    doc.save()
    cfg = ListesCommuneConfig(commune=commune, signataire="Le maire")
    cfg.tampon.save("tampon.png", ContentFile(png_bytes()), save=False)
    cfg.save()
    # The commune admin of A is its maire: an élu with an absence (elus/).
    from elus.models import Mandat
    from procuration.credit_heures import Nature

    mandat = Mandat.objects.create(user=users[COMMUNE_ADMIN], fonction="maire")
    w.pk["absence"] = mandat.enregistrer_absence(date=datetime.date.today(), duree=60, nature=Nature.CREDIT).pk
    # An API key of commune A (api/), made by its administrator.
    from api.models import ApiKey

    w.pk["api_key"] = ApiKey.objects.create(commune=commune, name="Logiciel", prefix="dea_matrix", key_hash="0" * 64,
                                            scopes=["procurations:read"], created_by=users[COMMUNE_ADMIN]).pk
    from api.models import Change, WebhookDelivery, WebhookEndpoint

    hook = WebhookEndpoint.objects.create(commune=commune, url="https://elections.almayrac.example/hook",
                                          secret="whsec_" + "A" * 44, created_by=users[COMMUNE_ADMIN])
    change = Change.objects.filter(commune=commune).first()
    w.pk["webhook"] = hook.pk
    w.pk["webhook_delivery"] = WebhookDelivery.objects.create(endpoint=hook, change=change, msg_id="msg_matrix").pk
    w.pk.update(numero=d.numero, teledossier=d.pk, piece=piece.pk, document=doc.pk, commune=commune.pk,
                other_commune=other.pk, scrutin=scrutin.pk)
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction rolled back at the module's end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            w = build_world()
            yield w
            transaction.set_rollback(True)
