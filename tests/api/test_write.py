"""Write endpoints: the guichet's domain methods, forms, checks and e-mails, through a teledossiers:write key."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import Change
from listes.models import Document, Teledossier, TeledossierEvent
from procuration.models import AuditLog, OutboxEmail
from tests.api.conftest import TINY_PDF

pytestmark = pytest.mark.django_db


def url(d, what="transitions"):
    return f"/api/v1/teledossiers/{d.numero}/{what}/"


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def state(d):
    d.refresh_from_db()
    return d.etat, d.events.count(), Document.objects.filter(teledossier=d).count()


def test_recevoir_goes_through_the_domain_with_its_email(api, data, commune_admin, django_capture_on_commit_callbacks):
    d = data["d"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api("write").post(url(d), {"action": "recevoir", "comment": "Nous étudions votre demande."})
    assert response.status_code == 200, response.content
    assert response.json()["changed"] is True and response.json()["teledossier"]["etat"] == "recu"
    event = TeledossierEvent.objects.filter(teledossier=d).last()
    assert (event.action, event.comment, event.actor) == ("recevoir", "Nous étudions votre demande.", commune_admin)
    assert OutboxEmail.objects.filter(kind="listes_changement_etat", to=d.email).count() == 1
    assert Change.objects.filter(kind="teledossier", object_id=d.pk, event="teledossier.recevoir").exists()
    assert AuditLog.objects.filter(action="listes.recevoir", object_id=str(d.pk)).exists()
    # Again: already there, nothing changes, no second e-mail.
    again = api("write").post(url(d), {"action": "recevoir", "comment": "Encore"})
    assert again.json()["changed"] is False
    assert OutboxEmail.objects.filter(kind="listes_changement_etat", to=d.email).count() == 1


@pytest.mark.parametrize("body,field", [
    ({"action": "recevoir", "comment": ""}, "comment"),
    ({"action": "recevoir"}, "comment"),
    ({"action": "refuser", "comment": "non"}, "motif"),
    ({"action": "supprimer", "comment": "x"}, "action"),
    ({"comment": "x"}, "action"),
])
def test_bad_input_answers_400_naming_the_field_and_changes_nothing(api, data, body, field):
    d = data["d"]
    before = state(d)
    body = problem(api("write").post(url(d), body), 400)
    assert [e["field"] for e in body["errors"]] == [field]
    assert state(d) == before


def test_domain_refusals_are_422_or_409(api, data):
    d = data["d"]
    assert "acceptant ou en la refusant" in problem(api("write").post(url(d), {"action": "clore", "comment": "x"}),
                                                    422)["detail"]
    assert api("write").post(url(d), {"action": "refuser", "motif": "Pas de justificatif de domicile"}).status_code == 200
    d.refresh_from_db()
    assert d.etat == "clos" and d.decision == "refusee"
    assert problem(api("write").post(url(d), {"action": "recevoir", "comment": "x"}), 409)["status"] == 409


def test_scope_and_commune(api, data):
    d, before = data["d"], state(data["d"])
    problem(api("teledossiers").post(url(d), {"action": "recevoir", "comment": "x"}), 403)
    problem(api("b").post(url(d), {"action": "recevoir", "comment": "x"}), 404)
    problem(api("write").post(url(data["d_b"]), {"action": "recevoir", "comment": "x"}), 404)
    assert state(d) == before


def test_attach_a_pdf_document(api, data):
    d = data["d"]
    client = api("write")
    pdf = SimpleUploadedFile("attestation.pdf", TINY_PDF, content_type="application/pdf")
    response = client.client.post(url(d, "documents"), {"title": "Attestation d'inscription", "file": pdf},
                                  headers=client.headers)
    assert response.status_code == 201, response.content
    assert Document.objects.filter(teledossier=d, title="Attestation d'inscription").count() == 1
    assert response.json()["url"].startswith("http")


@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="application/pdf"),
    SimpleUploadedFile("gros.pdf", TINY_PDF + b"0" * (1024 * 1024 + 1), content_type="application/pdf"),
])
def test_bad_document_is_refused_by_the_guichets_rule(api, data, upload):
    d = data["d"]
    before = state(d)
    client = api("write")
    response = client.client.post(url(d, "documents"), {"title": "Attestation", "file": upload}, headers=client.headers)
    assert [e["field"] for e in problem(response, 400)["errors"]] == ["file"]
    assert state(d) == before


def test_attestation_recensement_only_for_rco(api, data, mandant_user, commune):
    problem(api("write").post(url(data["d"], "attestation-recensement")), 422)
    rco = Teledossier.deposer(
        usager=mandant_user, pieces=[], demarche="rco", commune=commune, nom="DURAND", prenoms="Léo", sexe="M",
        date_naissance=datetime.date.today() - datetime.timedelta(days=16 * 366), lieu_naissance="Albi",
        adresse="1 rue Haute", code_postal="81190", ville="Almayrac",
    )
    response = api("write").post(url(rco, "attestation-recensement"))
    assert response.status_code == 201, response.content
    assert Document.objects.get(teledossier=rco).kind == "attestation_rco"
    problem(api("write").post(url(rco, "attestation-recensement")), 422)  # not modifiable: once
