"""The registre des procurations of a bureau de vote for one scrutin and tour (PDF and CSV).

A procuration belongs to the registre of the mandant's bureau (the mandataire votes there) when
the mairie has validated it (by an agent or automatically) and it covers the tour: a procuration
for that scrutin naming the tour, or a procuration for a durée limitée that includes the date.
Each edition is recorded (mairie.RegistrePrint); what the mairie validated after the previous
edition of the same bureau is marked "nouvelle" so late arrivals are not missed.
"""

import datetime
import io
from dataclasses import dataclass, field

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from mairie.models import RegistrePrint
from procuration.models import BureauDeVote, Portee, Procuration, Status
from procuration.spreadsheet import safe_csv_writer

# An edition is dated when its rows were read and covers what was committed then. A validation
# committing during the read may be missing from it: the next edition flags as "nouvelle"
# everything validated from this margin before, so a late one is repeated rather than lost.
PRINT_SAFETY_MARGIN = datetime.timedelta(minutes=1)


def tour_date(scrutin, tour: int):
    return scrutin.date_tour1 if tour == 1 else scrutin.date_tour2


def covers_tour(scrutin, tour: int) -> Q:
    """Procurations that let the mandataire vote at this tour: for the scrutin naming the tour,
    or for a durée limitée including its date."""
    date = tour_date(scrutin, tour)
    by_scrutin = Q(portee=Portee.SCRUTIN, scrutin=scrutin) & (Q(tour1=True) if tour == 1 else Q(tour2=True))
    return by_scrutin | Q(portee=Portee.DUREE, valid_from__lte=date, valid_until__gte=date)


def procurations_for(commune, scrutin, tour: int):
    return (
        Procuration.objects.filter(commune=commune, status=Status.VALIDEE_MAIRIE)
        .filter(covers_tour(scrutin, tour))
        .select_related("mandant", "mandataire", "mandant__bureau", "mairie_by")
        .order_by("mandant__nom", "mandant__prenoms", "pk")
    )


def last_print(commune, scrutin, tour: int, bureau):
    return (
        RegistrePrint.objects.filter(commune=commune, scrutin=scrutin, tour=tour, bureau=bureau)
        .order_by("-printed_at", "-pk")
        .first()
    )


@dataclass
class BureauSection:
    bureau: BureauDeVote | None
    rows: list = field(default_factory=list)
    since: object = None  # datetime of the previous edition, or None

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.rows if r.nouvelle)

    @property
    def title(self) -> str:
        return str(self.bureau) if self.bureau else "Électeurs sans bureau de vote attribué"


def sections(commune, scrutin, tour: int, bureau=None, nouveaux_seulement=False, on_section=None) -> list[BureauSection]:
    """The registre split by bureau, each row flagged .nouvelle against that bureau's last edition."""
    qs = procurations_for(commune, scrutin, tour)
    bureaux = [bureau] if bureau else list(BureauDeVote.objects.filter(commune=commune).order_by("numero"))
    if bureau:
        qs = qs.filter(mandant__bureau=bureau)
    rows_by_bureau: dict = {}
    for p in qs:
        rows_by_bureau.setdefault(p.mandant.bureau_id, []).append(p)
    if not bureau and rows_by_bureau.get(None):
        bureaux.append(None)
    result = []
    for b in bureaux:
        previous = last_print(commune, scrutin, tour, b)
        since = previous.printed_at if previous else None
        rows = rows_by_bureau.get(b.pk if b else None, [])
        for p in rows:
            p.nouvelle = since is None or (p.mairie_at is not None and p.mairie_at > since - PRINT_SAFETY_MARGIN)
            p.automatique = p.mairie_by_id is None
        if nouveaux_seulement:
            rows = [p for p in rows if p.nouvelle]
        result.append(BureauSection(bureau=b, rows=rows, since=since))
        if on_section:
            on_section(len(result), len(bureaux))
    return result


def tours_label(p) -> str:
    if p.portee == Portee.DUREE:
        return f"Du {p.valid_from:%d/%m/%Y} au {p.valid_until:%d/%m/%Y}"
    return " et ".join(t for t, on in (("1er tour", p.tour1), ("2nd tour", p.tour2)) if on)


# The PDF lays each row out as fixed-width text columns in a monospace font: WeasyPrint lays out
# plain text lines about six times faster than table cells, which keeps a 1,000-line registre
# under three seconds (bench/load/measure.py). Long values wrap inside their column.
PDF_COLUMNS = [  # (header, width in characters)
    ("Réf.", 6), ("Mandant", 28), ("Né(e) le", 10), ("Mandataire", 28), ("Né(e) le", 10),
    ("Validité", 24), ("Enregistrée le", 17), ("", 8), ("Émargement du mandataire", 24),
]
PDF_GAP = "  "


def _pdf_block(cells: list[str]) -> str:
    """Cells wrapped to their column width and padded, as lines of a monospace block."""
    import textwrap

    wrapped = [textwrap.wrap(c, w, break_long_words=True) or [""] for c, (_, w) in zip(cells, PDF_COLUMNS, strict=True)]
    height = max(len(lines) for lines in wrapped)
    return "\n".join(
        PDF_GAP.join(
            (lines[i] if i < len(lines) else "").ljust(w) for lines, (_, w) in zip(wrapped, PDF_COLUMNS, strict=True)
        ).rstrip()
        for i in range(height)
    )


PDF_HEADER = _pdf_block([h for h, _ in PDF_COLUMNS])


def pdf_row(p, since) -> str:
    registered = timezone.localtime(p.mairie_at).strftime("%d/%m/%Y") if p.mairie_at else ""
    return _pdf_block([
        p.reference or "",
        f"{p.mandant.nom.upper()} {p.mandant.prenoms}",
        f"{p.mandant.date_naissance:%d/%m/%Y}",
        f"{p.mandataire.nom.upper()} {p.mandataire.prenoms}",
        f"{p.mandataire.date_naissance:%d/%m/%Y}",
        tours_label(p),
        f"{registered} (auto)" if p.automatique else registered,
        "NOUVELLE" if p.nouvelle and since else "",
        "",
    ])


CSV_HEADER = [
    "Bureau n°", "Bureau", "Référence", "Mandant nom", "Mandant prénoms", "Mandant date de naissance",
    "Mandataire nom", "Mandataire prénoms", "Mandataire date de naissance", "Mandataire NNE", "Validité",
    "Validée par la mairie le", "Validation", "Nouvelle depuis la dernière édition",
]


def build_csv(secs: list[BureauSection]) -> bytes:
    out = io.StringIO()
    writer = safe_csv_writer(out, delimiter=";")
    writer.writerow(CSV_HEADER)
    for s in secs:
        for p in s.rows:
            writer.writerow([
                s.bureau.numero if s.bureau else "", s.bureau.nom if s.bureau else "", p.reference,
                p.mandant.nom.upper(), p.mandant.prenoms, f"{p.mandant.date_naissance:%d/%m/%Y}",
                p.mandataire.nom.upper(), p.mandataire.prenoms, f"{p.mandataire.date_naissance:%d/%m/%Y}",
                p.mandataire.nne, tours_label(p),
                timezone.localtime(p.mairie_at).strftime("%d/%m/%Y %H:%M") if p.mairie_at else "",
                "automatique" if p.automatique else "agent", "oui" if p.nouvelle else "non",
            ])
    # A BOM so spreadsheet software opens the accents correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def build_pdf(secs: list[BureauSection], *, commune, scrutin, tour: int, on_page=None) -> bytes:
    """One document per bureau rendered in turn (progress can be reported), then joined."""
    from procuration.pdf import html_document, write_pdf

    documents = []
    now = timezone.now()
    for i, s in enumerate(secs, start=1):
        for p in s.rows:
            p.pdf_text = pdf_row(p, s.since)
        html = render_to_string(
            "mairie/pdf/registre.html",
            {"section": s, "commune": commune, "scrutin": scrutin, "tour": tour,
             "date": tour_date(scrutin, tour), "generated_at": now, "header": PDF_HEADER},
        )
        documents.append(html_document(html).render())
        if on_page:
            on_page(i, len(secs))
    if not documents:
        html = render_to_string(
            "mairie/pdf/registre.html",
            {"section": BureauSection(bureau=None), "commune": commune, "scrutin": scrutin, "tour": tour,
             "date": tour_date(scrutin, tour), "generated_at": now, "header": PDF_HEADER},
        )
        documents.append(html_document(html).render())
    pages = [page for doc in documents for page in doc.pages]
    return write_pdf(documents[0].copy(pages))




def record_prints(job, secs: list[BureauSection], *, read_at) -> None:
    RegistrePrint.objects.bulk_create([
        RegistrePrint(
            commune_id=job.commune_id, scrutin_id=job.scrutin_id, tour=job.tour, bureau=s.bureau, job=job,
            printed_at=read_at, printed_by_id=job.requested_by_id, count=len(s.rows), new_count=s.new_count,
        )
        for s in secs
    ])
