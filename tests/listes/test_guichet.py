"""Guichet de suivi: list, search, filters, detail, state machine, ILE decision, documents, scoping."""

import pytest
from django.urls import reverse

from listes.models import Decision, Document, Etat, Teledossier
from procuration.exceptions import DomainError, TransitionError
from procuration.models import Electeur
from tests.listes.conftest import pdf_bytes, upload


def test_list_by_type_search_filters_and_closed_findable(client, agent_listes, file_ile, jeune, commune):
    a = file_ile()
    b = file_ile()
    client.force_login(agent_listes)
    html = client.get(reverse("listes:home")).content.decode()
    assert a.numero in html and b.numero in html and "(2 à traiter)" in html
    # Other type: none.
    assert a.numero not in client.get(reverse("listes:home") + "?demarche=rco").content.decode()
    # Search by number, typed loosely.
    loose = a.numero.lower().replace("-", " ")
    html = client.get(reverse("listes:home"), {"q": loose}).content.decode()
    assert a.numero in html and b.numero not in html
    # Search by name.
    assert a.numero in client.get(reverse("listes:home"), {"q": "dupont"}).content.decode()
    # Closed ones leave the default list but stay findable.
    a.accepter(by=agent_listes, comment="Bienvenue")
    html = client.get(reverse("listes:home")).content.decode()
    assert a.numero not in html and b.numero in html
    assert a.numero in client.get(reverse("listes:home"), {"etat": "clos"}).content.decode()
    assert a.numero in client.get(reverse("listes:home"), {"q": a.numero}).content.decode()
    html = client.get(reverse("listes:home"), {"etat": "tous"}).content.decode()
    assert a.numero in html and b.numero in html


def test_pagination(client, agent_listes, mandant_user, commune, settings):
    import datetime

    settings.LISTES_TELEDOSSIERS_PER_DAY = 23  # one usager files them all today
    for i in range(23):
        Teledossier.deposer(usager=mandant_user, pieces=[], demarche="ile", commune=commune, nom=f"NOM{i:02d}",
                            prenoms="X", sexe="F", date_naissance=datetime.date(1990, 1, 1), lieu_naissance="Albi",
                            adresse="1 rue", code_postal="81000", ville="Albi", motif_rattachement="domicile")
    client.force_login(agent_listes)
    first = client.get(reverse("listes:home")).content.decode()
    assert "Page 1 sur 2" in first and first.count("<tr>") == 21
    second = client.get(reverse("listes:home"), {"page": 2}).content.decode()
    assert second.count("<tr>") == 4


def test_detail_shows_number_demarche_email_date(client, agent_listes, file_ile):
    d = file_ile()
    client.force_login(agent_listes)
    html = client.get(reverse("listes:dossier", args=[d.numero])).content.decode()
    assert d.numero in html and "Inscription sur les listes électorales" in html
    assert "marie.dupont@example.fr" in html and d.created_at.astimezone().strftime("%d/%m/%Y") in html
    assert "Télécharger les éléments du dossier" in html


def test_another_communes_agent_gets_404_everywhere(client, agent_listes_b, file_ile, agent_listes):
    d = file_ile()
    piece = d.pieces.first()
    doc = Document.objects.create(teledossier=d, title="Attestation", size=1, created_by=agent_listes, file="x.pdf")
    client.force_login(agent_listes_b)
    for url in (
        reverse("listes:dossier", args=[d.numero]),
        reverse("listes:dossier_zip", args=[d.numero]),
        reverse("listes:agent_piece", args=[d.numero, piece.pk]),
        reverse("listes:agent_document", args=[d.numero, doc.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for action in ("recevoir", "accepter", "refuser", "clore"):
        response = client.post(reverse("listes:transition", args=[d.numero, action]),
                               {f"{action}-comment": "x", f"{action}-motif": "x"})
        assert response.status_code == 404
    response = client.post(reverse("listes:document_add", args=[d.numero]),
                           {"title": "A", "file": upload("a.pdf", pdf_bytes())})
    assert response.status_code == 404
    assert client.post(reverse("listes:attestation_rco", args=[d.numero])).status_code == 404
    assert d.documents.count() == 1
    d.refresh_from_db()
    assert d.etat == Etat.TRANSMIS
    html = client.get(reverse("listes:home"), {"q": d.numero, "etat": "tous"}).content.decode()
    assert "Aucun télédossier ne correspond." in html and f">{d.numero}</a>" not in html


def test_transitions_log_and_email_the_comment(client, agent_listes, file_ile, mailoutbox,
                                               django_capture_on_commit_callbacks):
    d = file_ile()
    mailoutbox.clear()
    client.force_login(agent_listes)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:transition", args=[d.numero, "recevoir"]),
                               {"recevoir-comment": "Nous avons bien reçu votre dossier."})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.etat == Etat.RECU
    event = d.events.last()
    assert (event.from_state, event.to_state, event.actor, event.comment) == (
        Etat.TRANSMIS, Etat.RECU, agent_listes, "Nous avons bien reçu votre dossier.")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["marie.dupont@example.fr"]
    assert "Dossier reçu par le service traitant" in mailoutbox[0].subject
    assert "Nous avons bien reçu votre dossier." in mailoutbox[0].body
    # Replayed: clear message, nothing changes.
    response = client.post(reverse("listes:transition", args=[d.numero, "recevoir"]),
                           {"recevoir-comment": "encore"}, follow=True)
    assert d.events.count() == 2
    # An ILE is not closed without a decision.
    response = client.post(reverse("listes:transition", args=[d.numero, "clore"]),
                           {"clore-comment": "fin"}, follow=True)
    assert "se clôt en l&#x27;acceptant ou en la refusant" in response.content.decode()
    d.refresh_from_db()
    assert d.etat == Etat.RECU


def test_comment_is_required(client, agent_listes, file_ile):
    d = file_ile()
    client.force_login(agent_listes)
    response = client.post(reverse("listes:transition", args=[d.numero, "recevoir"]), {"recevoir-comment": ""},
                           follow=True)
    d.refresh_from_db()
    assert d.etat == Etat.TRANSMIS
    with pytest.raises(DomainError):
        d.recevoir(by=agent_listes, comment="  ")
    assert "Ce champ est obligatoire" in response.content.decode()


def test_accept_adds_the_elector_seen_by_procuration_lookups(client, agent_listes, file_ile, mailoutbox, commune,
                                                             django_capture_on_commit_callbacks):
    import datetime

    from tests.factories import UserFactory

    # Somebody on no list yet (the mandant_user fixture is already on Almayrac's list: see
    # tests/listes/test_ile_law.py for an elector who moves and keeps their NNE).
    newcomer = UserFactory(username="nouvelle", first_name="Marie Claire", last_name="DUPONT", gender="F",
                           birthdate=datetime.date(1995, 7, 3), birthplace="81004", birthcountry="99100",
                           email="marie.dupont@example.fr")
    d = file_ile(user=newcomer)
    mailoutbox.clear()
    client.force_login(agent_listes)
    before = Electeur.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:transition", args=[d.numero, "accepter"]), {"accepter-comment": "Bienvenue !"})
    d.refresh_from_db()
    assert d.etat == Etat.CLOS and d.decision == Decision.ACCEPTEE and d.closed_at
    assert Electeur.objects.count() == before + 1
    e = d.electeur
    assert e.commune == commune and e.nom == "DUPONT" and e.prenoms == "Marie Claire" and e.inscrit
    assert e.nne.isdigit() and len(e.nne) == 9 and e.peut_voter
    # The procuration side finds the new elector by état civil in the commune.
    assert Electeur.objects.filter(commune=commune, nom__iexact="dupont", date_naissance=e.date_naissance,
                                   nne=e.nne).exists()
    assert len(mailoutbox) == 1 and e.nne in mailoutbox[0].body and "Bienvenue !" in mailoutbox[0].body
    html = client.get(reverse("listes:electeurs"), {"q": "dupont"}).content.decode()
    assert e.nne in html
    # Replay: refused with a message, no second elector.
    with pytest.raises(TransitionError):
        d.accepter(by=agent_listes, comment="bis")
    assert Electeur.objects.count() == before + 1


def test_refuse_requires_a_reason_and_tells_the_recours(client, agent_listes, file_ile, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    d = file_ile()
    mailoutbox.clear()
    client.force_login(agent_listes)
    response = client.post(reverse("listes:transition", args=[d.numero, "refuser"]), {"refuser-motif": ""}, follow=True)
    assert "Indiquez le motif du refus" in response.content.decode()
    d.refresh_from_db()
    assert d.etat == Etat.TRANSMIS and not mailoutbox
    with pytest.raises(DomainError, match="motif du refus"):
        d.refuser(by=agent_listes, motif=" ")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:transition", args=[d.numero, "refuser"]),
                    {"refuser-motif": "Justificatif de domicile de plus de 3 mois."})
    d.refresh_from_db()
    assert d.etat == Etat.CLOS and d.decision == Decision.REFUSEE and d.electeur is None
    body = mailoutbox[0].body
    assert "Justificatif de domicile de plus de 3 mois." in body
    assert "commission de contrôle" in body and "5 jours" in body
    client.force_login(d.usager)
    html = client.get(reverse("listes:usager_dossier", args=[d.numero])).content.decode()
    assert "commission de contrôle" in html and "Justificatif de domicile de plus de 3 mois." in html


def test_document_upload_limits(client, agent_listes, file_ile, settings):
    d = file_ile()
    client.force_login(agent_listes)
    url = reverse("listes:document_add", args=[d.numero])
    # 1025 Ko: refused.
    big = upload("attestation.pdf", pdf_bytes(size=1025 * 1024))
    html = client.post(url, {"title": "Attestation", "file": big}, follow=True).content.decode()
    assert "pèse 1025 Ko : la taille maximale est de 1024 Ko" in html
    # A .pdf that is not a PDF: refused.
    forged = upload("attestation.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    html = client.post(url, {"title": "Attestation", "file": forged}, follow=True).content.decode()
    assert "n&#x27;est pas un PDF" in html
    assert not d.documents.exists()
    # Exactly 1024 Ko, real PDF: accepted and shown to the usager.
    ok = upload("attestation.pdf", pdf_bytes("Attestation d'inscription", size=1024 * 1024))
    client.post(url, {"title": "Attestation d'inscription", "file": ok})
    doc = d.documents.get()
    assert doc.size == 1024 * 1024
    client.force_login(d.usager)
    html = client.get(reverse("listes:usager_dossier", args=[d.numero])).content.decode()
    assert "Attestation d&#x27;inscription" in html
    response = client.get(reverse("listes:usager_document", args=[d.numero, doc.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_no_document_after_closing(agent_listes, file_ile):
    from listes import documents

    d = file_ile()
    d.accepter(by=agent_listes, comment="ok")
    with pytest.raises(DomainError, match="clos"):
        documents.add_document(d, by=agent_listes, title="x", upload=upload("a.pdf", pdf_bytes()))


def test_pieces_are_not_public_media(client, file_ile, settings):
    d = file_ile()
    piece = d.pieces.first()
    assert str(settings.LISTES_PRIVATE_ROOT) in piece.file.path
    assert not piece.file.path.startswith(str(settings.MEDIA_ROOT) + "/")
    client.logout()
    response = client.get(reverse("listes:usager_piece", args=[piece.pk]))
    assert response.status_code == 302


def test_replayed_recevoir_changes_nothing_and_says_so(client, agent_listes, file_ile, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    d = file_ile()
    d.recevoir(by=agent_listes, comment="reçu")
    mailoutbox.clear()
    client.force_login(agent_listes)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(reverse("listes:transition", args=[d.numero, "recevoir"]),
                           {"recevoir-comment": "encore"}, follow=True).content.decode()
    assert "rien n&#x27;a changé" in html
    assert d.events.count() == 2 and not mailoutbox


def test_without_service_address_the_guichet_agents_are_emailed(client, mandant_user, agent_listes, listes_admin,
                                                                commune, mailoutbox, scrutin,
                                                                django_capture_on_commit_callbacks):
    from tests.listes.conftest import ile_post_data

    commune.email_service = ""
    commune.save()
    client.force_login(mandant_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    d = Teledossier.objects.get()
    to_agents = sorted(m.to[0] for m in mailoutbox if d.numero in m.subject and m.to[0] != mandant_user.email)
    assert to_agents == sorted([agent_listes.email, listes_admin.email])


def test_nav_links_follow_the_role(client, agent_listes, listes_admin, mandant_user):
    client.force_login(mandant_user)
    html = client.get(reverse("listes:usager_home")).content.decode()
    assert reverse("listes:usager_ile_new") in html and reverse("listes:electeurs") not in html
    client.force_login(agent_listes)
    html = client.get(reverse("listes:home")).content.decode()
    assert reverse("listes:electeurs") in html and reverse("listes:usager_ile_new") not in html
    assert reverse("listes:users") not in html
    client.force_login(listes_admin)
    html = client.get(reverse("listes:home")).content.decode()
    assert reverse("listes:users") in html and reverse("listes:config") in html


def test_agent_piece_download_is_audited(client, agent_listes, file_ile):
    from procuration.models import AuditLog

    d = file_ile()
    piece = d.pieces.get(kind="attache")
    client.force_login(agent_listes)
    response = client.get(reverse("listes:agent_piece", args=[d.numero, piece.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert AuditLog.objects.filter(action="listes.piece_download", actor=agent_listes, object_id=str(d.pk)).exists()
