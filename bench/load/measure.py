"""The non-HTTP measures of the load benchmark, on the same database (run by bench/run_load.sh):

- registre PDF of 1,000 lines: mairie.registre.sections() + build_pdf(), as the export task does;
- the listes ZIP (« Télécharger les éléments du dossier »): listes.documents.dossier_zip() of a
  télédossier with two pièces (1 Mo PDF, PNG);
- e-mails per second through the Celery worker: BENCH_EMAILS outbox messages written, handed to
  the broker, timed until the worker has sent them all to the SMTP sink.
Writes its numbers as JSON to BENCH_RESULT.
"""

import datetime
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from procuration import counts  # noqa: E402
from procuration.models import (  # noqa: E402
    BureauDeVote,
    Commune,
    Electeur,
    OutboxEmail,
    Procuration,
    Role,
    Scrutin,
    Status,
    User,
)
from procuration.reference import generate_reference  # noqa: E402

RESULT = {}
N_EMAILS = int(os.environ.get("BENCH_EMAILS", "2000"))
DOB = datetime.date(1970, 3, 1)


def registre_pdf(lines: int = 1000) -> None:
    from mairie import registre

    scrutin = Scrutin.objects.get(pk=json.loads(Path(os.environ["BENCH_DATA"]).read_text())["scrutin"])
    commune = Commune.objects.create(code_insee="R0001", nom="Registre-sur-Bench", departement="99")
    bureau = BureauDeVote.objects.create(commune=commune, numero=1, nom="Mairie")
    electeurs = Electeur.objects.bulk_create([
        Electeur(nne=f"9{i:08d}", nom=f"REGISTRE{i:04d}", prenoms="Jean Paul", sexe="M", date_naissance=DOB,
                 commune=commune, bureau=bureau)
        for i in range(2 * lines)
    ])
    now = timezone.now()
    refs: set[str] = set()
    while len(refs) < lines:  # fresh references: 1 M are already taken
        refs |= {generate_reference() for _ in range(lines - len(refs))}
        refs -= set(Procuration.objects.filter(reference__in=refs).values_list("reference", flat=True))
    refs_list = sorted(refs)
    with transaction.atomic():  # their figures with them (procuration.counts)
        counts.created(*Procuration.objects.bulk_create([
            Procuration(mandant=electeurs[2 * i], mandataire=electeurs[2 * i + 1], commune=commune, scrutin=scrutin,
                        tour1=True, tour2=True, valid_from=scrutin.date_tour1, valid_until=scrutin.date_tour2,
                        status=Status.VALIDEE_MAIRIE, reference=refs_list[i], email_contact="r@example.fr",
                        submitted_at=now, autorite_at=now, mairie_at=now)
            for i in range(lines)
        ]))
    # A long-lived export worker has WeasyPrint's fonts loaded already: warm up once (cold start
    # of a fresh process, ≈ 1 s of fontconfig, is not part of each export).
    from weasyprint import HTML

    HTML(string="<p>échauffement</p>").write_pdf()
    t = time.perf_counter()
    secs = registre.sections(commune, scrutin, 1)
    t_query = time.perf_counter() - t
    pdf = registre.build_pdf(secs, commune=commune, scrutin=scrutin, tour=1)
    elapsed = time.perf_counter() - t
    count = sum(len(s.rows) for s in secs)
    assert count == lines, count
    RESULT["registre"] = {"lines": count, "seconds": elapsed, "query_seconds": t_query, "bytes": len(pdf)}
    print(f"registre PDF {count} lignes : {elapsed:.2f} s (dont lecture {t_query:.2f} s), {len(pdf) / 1024:.0f} Ko",
          flush=True)


def listes_zip() -> None:
    from weasyprint import HTML

    from listes import documents
    from listes.models import Piece, Teledossier

    commune = Commune.objects.get(code_insee="R0001")
    usager = User.objects.create(username="zip-bench", first_name="Marie", last_name="Dupont", role=Role.MANDANT,
                                 email="zip@example.fr", birthdate=datetime.date(1990, 5, 12), gender="F")
    pdf = HTML(string="<p>Carte d'identité</p>").write_pdf()
    pdf += b"\n%" + b"x" * (1024 * 1024 - len(pdf) - 2)  # a 1 Mo scan
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1200, 800), (0, 0, 145)).save(buf, format="PNG")
    pieces = []
    for kind, name, content, ctype in (("identite", "cni.pdf", pdf, "application/pdf"),
                                       ("attache", "facture.png", buf.getvalue(), "image/png")):
        p = Piece(owner=usager, kind=kind, original_name=name, content_type=ctype, size=len(content))
        p.file.save(name, ContentFile(content), save=True)
        pieces.append(p)
    d = Teledossier.deposer(
        usager=usager, pieces=pieces, demarche="ile", commune=commune, nom="DUPONT", prenoms="Marie Claire",
        sexe="F", date_naissance=datetime.date(1990, 5, 12), lieu_naissance="Albi", adresse="3 rue des Lilas",
        code_postal="81190", ville="Almayrac", motif_rattachement="domicile",
    )
    durations = []
    for _ in range(5):
        t = time.perf_counter()
        data = documents.dossier_zip(d)
        durations.append(time.perf_counter() - t)
    durations.sort()
    RESULT["zip"] = {"seconds_median": durations[2], "seconds_max": durations[-1], "bytes": len(data)}
    print(f"ZIP du télédossier (CERFA + XML + 2 pièces, {len(data) / 1024:.0f} Ko) : médiane {durations[2]:.3f} s, "
          f"max {durations[-1]:.3f} s sur 5", flush=True)


def emails_per_second() -> None:
    from procuration import outbox

    # Let the flow's e-mails drain first, so that only these are timed.
    deadline = time.time() + 120
    while OutboxEmail.objects.filter(state=OutboxEmail.State.PENDING).exists() and time.time() < deadline:
        time.sleep(0.5)
    subject, text, html = outbox.render_email("reference_issued", _reference_context())
    rows = OutboxEmail.objects.bulk_create([
        OutboxEmail(kind="reference_issued", to=f"debit{i}@example.fr", subject=subject, body_text=text,
                    body_html=html, object_ref="bench:emails")
        for i in range(N_EMAILS)
    ])
    t = time.perf_counter()
    for m in rows:
        outbox.enqueue(m.pk)
    t_enqueue = time.perf_counter() - t
    qs = OutboxEmail.objects.filter(object_ref="bench:emails")
    deadline = time.time() + 600
    while qs.filter(state=OutboxEmail.State.PENDING).exists() and time.time() < deadline:
        time.sleep(0.2)
    elapsed = time.perf_counter() - t
    sent = qs.filter(state=OutboxEmail.State.SENT).count()
    RESULT["emails"] = {"n": N_EMAILS, "sent": sent, "seconds": elapsed, "per_second": sent / elapsed,
                        "enqueue_seconds": t_enqueue}
    print(f"courriels : {sent}/{N_EMAILS} envoyés par le worker en {elapsed:.1f} s — {sent / elapsed:.0f}/s "
          f"(mise en file {t_enqueue:.1f} s)", flush=True)


def _reference_context() -> dict:
    p = Procuration.objects.filter(status=Status.EN_ATTENTE).select_related("mandant", "mandataire", "scrutin").first()
    from procuration.emails import _context  # the context the real "reference_issued" e-mail gets

    return _context(p)


def main() -> None:
    which = sys.argv[1:] or ["registre", "zip", "emails"]
    if "registre" in which:
        registre_pdf()
    if "zip" in which:
        listes_zip()
    if "emails" in which:
        emails_per_second()
    Path(os.environ["BENCH_RESULT"]).write_text(json.dumps(RESULT))


if __name__ == "__main__":
    main()
