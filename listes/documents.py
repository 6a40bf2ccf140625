"""Documents of a télédossier: the pre-filled CERFA, the XML export, the ZIP of the dossier, the
attestation de recensement."""

import base64
import io
import xml.etree.ElementTree as ET
import zipfile

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from listes.models import Demarche, Document, ListesCommuneConfig, Teledossier
from procuration.exceptions import DomainError
from procuration.pdf import render_pdf

XML_NAMESPACE = "urn:demarches-electorales:listes:teledossier:1"
CERFA = {
    Demarche.ILE: ("pdf/listes_cerfa_ile.html", "cerfa_12669-02_inscription.pdf"),
    Demarche.RCO: ("pdf/listes_cerfa_rco.html", "declaration_recensement.pdf"),
}


def cerfa_pdf(d: Teledossier) -> bytes:
    template, _ = CERFA[d.demarche]
    return render_pdf(template, {"d": d, "pieces": list(d.pieces.all()), "generated_at": timezone.now()})


def teledossier_xml(d: Teledossier) -> bytes:
    """The dossier's data, following listes/xml/teledossier.xsd (documented in docs/listes.md)."""
    ET.register_namespace("", XML_NAMESPACE)

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{XML_NAMESPACE}}}{tag}", {k: str(v) for k, v in attrs.items()})
        if text is not None:
            el.text = str(text)
        return el

    root = ET.Element(f"{{{XML_NAMESPACE}}}teledossier", {"version": "1"})
    sub(root, "numero", d.numero)
    sub(root, "demarche", d.demarche)
    sub(root, "etat", d.etat)
    sub(root, "deposeLe", timezone.localtime(d.created_at).isoformat(timespec="seconds"))
    sub(root, "commune", d.commune.nom, codeInsee=d.commune.code_insee)
    sub(root, "courriel", d.email)
    ec = sub(root, "etatCivil")
    sub(ec, "nom", d.nom)
    sub(ec, "nomUsage", d.nom_usage)
    sub(ec, "prenoms", d.prenoms)
    sub(ec, "sexe", d.sexe)
    sub(ec, "dateNaissance", d.date_naissance.isoformat())
    sub(ec, "lieuNaissance", d.lieu_naissance)
    sub(ec, "departementOuPaysNaissance", d.departement_naissance)
    adr = sub(root, "adresse")
    sub(adr, "voie", d.adresse)
    sub(adr, "codePostal", d.code_postal)
    sub(adr, "ville", d.ville)
    sub(adr, "telephone", d.telephone)
    if d.demarche == Demarche.ILE:
        ile = sub(root, "inscription")
        sub(ile, "motifRattachement", d.motif_rattachement)
        sub(ile, "liste", "principale" if d.nationalite == "FR" else "complementaire")
        if d.scrutin_id:
            sub(ile, "scrutin", d.scrutin.libelle, dateTour1=d.scrutin.date_tour1.isoformat())
    else:
        rco = sub(root, "recensement")
        sub(rco, "nationaliteFrancaise", "true" if d.nationalite_francaise else "false")
        pere = sub(rco, "pere")
        sub(pere, "nom", d.pere_nom)
        sub(pere, "prenoms", d.pere_prenoms)
        mere = sub(rco, "mere")
        sub(mere, "nom", d.mere_nom)
        sub(mere, "prenoms", d.mere_prenoms)
    pieces = sub(root, "pieces")
    for name, piece in piece_names(d):
        p = sub(pieces, "piece")
        sub(p, "nature", piece.kind)
        sub(p, "fichier", name)
        sub(p, "typeMime", piece.content_type)
        sub(p, "taille", piece.size)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def piece_names(d: Teledossier):
    """Stable names of the pièces inside the ZIP: pieces/<n>_<nature>.<ext>."""
    return [(f"pieces/{i}_{p.kind}.{p.extension}", p) for i, p in enumerate(d.pieces.order_by("pk"), start=1)]


def dossier_zip(d: Teledossier) -> bytes:
    buffer = io.BytesIO()
    _, cerfa_name = CERFA[d.demarche]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(cerfa_name, cerfa_pdf(d))
        zf.writestr("donnees.xml", teledossier_xml(d))
        for name, piece in piece_names(d):
            with piece.file.open("rb") as fh:
                zf.writestr(name, fh.read())
    return buffer.getvalue()


def _data_uri(field) -> str:
    if not field:
        return ""
    with field.open("rb") as fh:
        raw = fh.read()
    mime = "image/png" if raw.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def attestation_recensement(d: Teledossier, *, by) -> Document:
    """Generate the attestation de recensement (stamp and signature of the commune) into the espace."""
    if d.demarche != Demarche.RCO:
        raise DomainError("L'attestation de recensement ne concerne que les dossiers de recensement citoyen.")
    with transaction.atomic():
        locked = Teledossier.objects.select_for_update(of=("self",)).get(pk=d.pk)
        if locked.est_clos:
            raise DomainError("Ce dossier est clos : aucun document ne peut plus y être ajouté.")
        if locked.documents.filter(kind=Document.Kind.ATTESTATION_RECENSEMENT).exists():
            raise DomainError("L'attestation de recensement de ce dossier a déjà été délivrée ; elle n'est pas modifiable.")
        config = ListesCommuneConfig.objects.filter(commune_id=locked.commune_id).first()
        pdf = render_pdf(
            "pdf/listes_attestation_recensement.html",
            {
                "d": locked,
                "config": config,
                "tampon": _data_uri(config.tampon) if config else "",
                "signature": _data_uri(config.signature) if config else "",
                "delivered_at": timezone.localdate(),
            },
        )
        doc = Document(
            teledossier=locked, kind=Document.Kind.ATTESTATION_RECENSEMENT, title="Attestation de recensement",
            size=len(pdf), created_by=by,
        )
        doc.file.save(f"attestation_recensement_{locked.numero}.pdf", ContentFile(pdf), save=False)
        doc.save()
    return doc


def add_document(d: Teledossier, *, by, title: str, upload) -> Document:
    """A document uploaded by the mairie (already checked: PDF, ≤ 1024 Ko)."""
    with transaction.atomic():
        locked = Teledossier.objects.select_for_update(of=("self",)).get(pk=d.pk)
        if locked.est_clos:
            raise DomainError("Ce dossier est clos : aucun document ne peut plus y être ajouté.")
        doc = Document(teledossier=locked, kind=Document.Kind.ATTESTATION, title=title, size=upload.size, created_by=by)
        doc.file.save("document.pdf", upload, save=False)
        doc.save()
    return doc
