"""Documents of a télédossier: the pre-filled CERFA(s), the XML export, the ZIP of the dossier, the
attestation de recensement."""

import base64
import io
import xml.etree.ElementTree as ET
import zipfile

from django.core.files.base import ContentFile
from django.utils import timezone

from listes import rules
from listes.models import Demarche, Document, ListesCommuneConfig, Teledossier
from listes.retention import files_discarded_unless_committed
from procuration.exceptions import DomainError
from procuration.pdf import render_pdf

XML_NAMESPACE = "urn:demarches-electorales:listes:teledossier:1"
RCO_DECLARATION = ("pdf/listes_cerfa_rco.html", "declaration_recensement.pdf")
# One template for the ILE's forms (which forms a dossier needs: listes.rules.ile_cerfas).
ILE_TEMPLATE = "pdf/listes_cerfa_ile.html"
# The XML element of each statement of the EU citizen's declaration (rules.DECLARATIONS_UE's order).
XML_DECLARATIONS = {
    "declaration_nationalite": "nationalite",
    "declaration_adresse": "adresseEnFrance",
    "declaration_droit_de_vote": "nonDechuDuDroitDeVote",
    "declaration_vote_en_france": "voteEuropeenEnFranceSeulement",
}


def cerfas(d: Teledossier) -> list[tuple[str, str, rules.Cerfa | None]]:
    """(template, name in the ZIP, rules.Cerfa) of each pre-filled form of the dossier: the ILE's
    by listes.rules.ile_cerfas (12669*02, or 12670*02 and/or 12671*02), the RCO's declaration."""
    if d.demarche == Demarche.ILE:
        return [(ILE_TEMPLATE, c.filename, c) for c in rules.ile_cerfas(d)]
    template, name = RCO_DECLARATION
    return [(template, name, None)]


def cerfa_pdf(d: Teledossier, cerfa: rules.Cerfa | None = None) -> bytes:
    """One pre-filled form of the dossier: `cerfa` (a rules.Cerfa of the ILE), else its first."""
    chosen = [(template, form) for template, _, form in cerfas(d) if cerfa is None or form == cerfa]
    if not chosen:
        raise ValueError(f"Le télédossier {d.numero} ne relève pas du formulaire {cerfa}.")
    template, cerfa = chosen[0]
    context = {"d": d, "pieces": list(d.pieces.all()), "generated_at": timezone.now(), "cerfa": cerfa}
    if cerfa is not None and cerfa.declaration:
        # The statements the law behind this form requires (LO227-4, or loi 77-729 art. 2-3).
        context["declarations"] = [(decl, made) for decl, made in d.declarations_ue
                                   if cerfa.declaration in decl.sources]
    return render_pdf(template, context)


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
        declarations = d.declarations_ue
        if declarations:  # a citizen of another EU member state (listes.rules.ile_declarations)
            ue = sub(ile, "citoyenUE")
            sub(ue, "nationalite", d.nationalite)
            sub(ue, "listeMunicipales", "true" if d.complementaire_municipales else "false")
            sub(ue, "listeEuropeennes", "true" if d.complementaire_europeennes else "false")
            declaration = sub(ue, "declaration")
            for decl, made in declarations:
                sub(declaration, XML_DECLARATIONS[decl.field], "true" if made else "false")
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
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for _, name, cerfa in cerfas(d):
            zf.writestr(name, cerfa_pdf(d, cerfa))
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
    with files_discarded_unless_committed() as saved:
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
        saved.append(doc.file.name)
        doc.save()
    return doc


def add_document(d: Teledossier, *, by, title: str, upload) -> Document:
    """A document uploaded by the mairie (already checked: PDF, ≤ 1024 Ko)."""
    with files_discarded_unless_committed() as saved:
        locked = Teledossier.objects.select_for_update(of=("self",)).get(pk=d.pk)
        if locked.est_clos:
            raise DomainError("Ce dossier est clos : aucun document ne peut plus y être ajouté.")
        doc = Document(teledossier=locked, kind=Document.Kind.ATTESTATION, title=title, size=upload.size, created_by=by)
        doc.file.save("document.pdf", upload, save=False)
        saved.append(doc.file.name)
        doc.save()
    return doc
