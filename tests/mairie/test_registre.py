import csv
import datetime
import io
import subprocess
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mairie.models import ExportJob, RegistrePrint
from mairie.tasks import build_registre
from procuration.models import Portee, Status
from tests.factories import BureauDeVoteFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory


def pdftotext(data: bytes, tmp_path, layout=False) -> str:
    """The PDF's text; without layout, whitespace collapsed so wrapped cells read as one line."""
    path = tmp_path / "registre.pdf"
    path.write_bytes(data)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return text if layout else " ".join(text.split())


@pytest.fixture
def registre_data(commune, agent_mairie):
    s = ScrutinFactory(libelle="Municipales 2026")
    b1 = ElecteurFactory(commune=commune).bureau
    b2 = BureauDeVoteFactory(commune=commune, numero=2, nom="École Jean Jaurès")

    def p(nom, bureau, **kw):
        return ProcurationFactory(
            validee_mairie=True, commune=commune, scrutin=s, mairie_by=agent_mairie,
            mandant=ElecteurFactory(commune=commune, nom=nom, prenoms="Anne", bureau=bureau),
            mandataire=ElecteurFactory(commune=commune, nom=f"MANDATAIRE-{nom}", prenoms="Paul"), **kw,
        )

    return {
        "scrutin": s, "b1": b1, "b2": b2,
        "durand": p("DURAND", b1),
        "tour2_only": p("SECONDTOUR", b1, tour1=False),
        "martin": p("MARTIN", b2),
        "waiting": ProcurationFactory(validee_autorite=True, commune=commune, scrutin=s,
                                      mandant=ElecteurFactory(commune=commune, nom="ATTENTE", bureau=b1)),
        "duree": ProcurationFactory(
            validee_mairie=True, mairie_by=agent_mairie, commune=commune, portee=Portee.DUREE, scrutin=None,
            valid_from=s.date_tour1 - datetime.timedelta(days=10), valid_until=s.date_tour1 + datetime.timedelta(days=2),
            mandant=ElecteurFactory(commune=commune, nom="LONGUEDUREE", bureau=b1),
        ),
    }


def _export(agent, data, **kw):
    job = ExportJob.objects.create(commune=agent.commune, requested_by=agent, scrutin=data["scrutin"],
                                   tour=kw.pop("tour", 1), format=kw.pop("format", "pdf"), **kw)
    assert build_registre(job.pk) == "done"
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_registre_pdf_per_bureau_read_with_pdftotext(agent_mairie, registre_data, tmp_path):
    d = registre_data
    job = _export(agent_mairie, d, bureau=d["b1"])
    assert job.state == ExportJob.State.DONE and job.progress == 100 and job.total == 2
    text = pdftotext(job.file.read(), tmp_path)
    assert "Registre des procurations — Bureau n° 1 — Bureau 1" in text
    assert "Municipales 2026 — 1er tour du" in text
    assert "DURAND Anne" in text and "MANDATAIRE-DURAND Paul" in text
    assert "LONGUEDUREE" in text  # a durée limitée covering the date
    assert "MARTIN Anne" not in text and "MANDATAIRE-MARTIN" not in text  # bureau 2 (a random name may contain « MARTIN »)
    assert "SECONDTOUR" not in text  # 2nd tour only
    assert "ATTENTE" not in text  # not yet validated by the mairie
    assert "Première édition de ce registre." in text


@pytest.mark.django_db
def test_new_since_last_print_flags_late_arrivals(agent_mairie, commune, registre_data, tmp_path):
    d = registre_data
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        _export(agent_mairie, d, bureau=d["b1"])
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        d["waiting"].valider_mairie(by=agent_mairie)  # arrives late, after the first print
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        job = _export(agent_mairie, d, bureau=d["b1"])
        data = job.file.read()
        assert "1 procuration nouvelle depuis" in pdftotext(data, tmp_path)
        text = pdftotext(data, tmp_path, layout=True)
        late = next(line for line in text.splitlines() if "ATTENTE" in line)
        assert "NOUVELLE" in late
        assert "NOUVELLE" not in next(line for line in text.splitlines() if "DURAND" in line)
        # Only the new ones: a supplement sheet for the bureau.
        supplement = _export(agent_mairie, d, bureau=d["b1"], nouveaux_seulement=True, format="csv")
    assert supplement.total == 0  # the second print already covered it
    prints = RegistrePrint.objects.filter(bureau=d["b1"]).order_by("printed_at")
    assert [p.new_count for p in prints] == [2, 1, 0]


@pytest.mark.django_db
def test_registre_csv_all_bureaux_and_auto_validated_rows(agent_mairie, commune, registre_data, policier,
                                                          django_capture_on_commit_callbacks):
    d = registre_data
    commune.auto_validation = True
    commune.save()
    auto = ProcurationFactory(en_attente=True, commune=commune, scrutin=d["scrutin"],
                              mandant=ElecteurFactory(commune=commune, nom="AUTOMATIQUE", bureau=d["b2"]))
    with django_capture_on_commit_callbacks(execute=True):
        auto.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="9999")
    auto.refresh_from_db()
    assert auto.status == Status.VALIDEE_MAIRIE
    assert auto.events.last().reason == "Validation automatique (tous les contrôles satisfaits)"
    job = _export(agent_mairie, d, format="csv")
    rows = list(csv.reader(io.StringIO(job.file.read().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Bureau n°"
    by_name = {r[3]: r for r in rows[1:]}
    assert set(by_name) == {"DURAND", "LONGUEDUREE", "MARTIN", "AUTOMATIQUE"}
    assert by_name["MARTIN"][1] == "École Jean Jaurès"
    assert by_name["AUTOMATIQUE"][12] == "automatique" and by_name["DURAND"][12] == "agent"
    assert all(r[13] == "oui" for r in rows[1:])


@pytest.mark.django_db
def test_registre_form_rejects_a_second_tour_that_does_not_exist(client, agent_mairie):
    s = ScrutinFactory(date_tour2=None)
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:registre"), {"scrutin": s.pk, "tour": 2, "format": "pdf"})
    assert r.status_code == 200
    assert "Ce scrutin n&#x27;a pas de second tour." in r.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_export_page_refreshes_while_running(client, agent_mairie, registre_data):
    job = ExportJob.objects.create(commune=agent_mairie.commune, requested_by=agent_mairie,
                                   scrutin=registre_data["scrutin"], tour=1, format="pdf", state="running", progress=40)
    client.force_login(agent_mairie)
    html = client.get(reverse("mairie:export", args=[job.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'value="40"' in html and "En cours" in html
    assert client.get(reverse("mairie:export_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_export_runs_in_a_celery_worker_and_is_downloadable(client, agent_mairie, registre_data, celery_worker, tmp_path):
    d = registre_data
    client.force_login(agent_mairie)
    r = client.post(reverse("mairie:registre"), {"scrutin": d["scrutin"].pk, "tour": 1, "format": "pdf"})
    job = ExportJob.objects.get()
    assert r["Location"] == reverse("mairie:export", args=[job.pk])
    for _ in range(300):
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.1)
    assert job.state == ExportJob.State.DONE, job.error
    html = client.get(reverse("mairie:export", args=[job.pk])).content.decode()
    assert "http-equiv" not in html and "Télécharger" in html
    response = client.get(reverse("mairie:export_download", args=[job.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdftotext(b"".join(response.streaming_content), tmp_path)
    # One part per bureau, in order (the full name: a random elector of bureau 1 may be called « MARTIN »).
    assert text.index("Bureau n° 1") < text.index("Bureau n° 2 — École Jean Jaurès") < text.index("MARTIN Anne")
    assert RegistrePrint.objects.filter(job=job).count() == 2


@pytest.mark.django_db
def test_registre_csv_neutralises_cells_that_would_be_formulas(agent_mairie, commune, registre_data):
    """OWASP CSV injection: a name typed by an elector never runs as a formula in the spreadsheet."""
    d = registre_data
    ProcurationFactory(
        validee_mairie=True, commune=commune, scrutin=d["scrutin"], mairie_by=agent_mairie,
        mandant=ElecteurFactory(commune=commune, nom='=HYPERLINK("http://evil.example";"x")', prenoms="@SUM(1+1)",
                                bureau=d["b1"]),
        mandataire=ElecteurFactory(commune=commune, nom="+CMD", prenoms="-2+3"),
    )
    job = _export(agent_mairie, d, format="csv")
    rows = list(csv.reader(io.StringIO(job.file.read().decode("utf-8-sig")), delimiter=";"))
    hostile = next(r for r in rows[1:] if "HYPERLINK" in r[3])
    assert hostile[3:5] == ["'=HYPERLINK(\"HTTP://EVIL.EXAMPLE\";\"X\")", "'@SUM(1+1)"]
    assert hostile[6:8] == ["'+CMD", "'-2+3"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.fixture
def queued_for_real():
    """Tasks go to the Redis broker (not run inline) for this test; nothing consumes them."""
    from procuration.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.mark.django_db
def test_an_export_asked_while_the_broker_is_down_waits_and_says_so(client, agent_mairie, registre_data,
                                                                     queued_for_real,
                                                                     django_capture_on_commit_callbacks):
    """Redis stopped for real: the export is recorded, the page asks to start it again later."""
    from tests.services import redis_env, start_redis, stop_redis

    port, scratch = redis_env()
    client.force_login(agent_mairie)
    stop_redis(port)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(reverse("mairie:registre"), {"scrutin": registre_data["scrutin"].pk, "tour": 1,
                                                         "format": "pdf"})
        job = ExportJob.objects.get()
        assert r["Location"] == reverse("mairie:export", args=[job.pk])
        assert (job.state, job.error) == (
            ExportJob.State.PENDING, "Le service de traitement est indisponible ; relancez l'export dans quelques minutes.")
        assert "Le service de traitement est indisponible ; relancez l&#x27;export dans quelques minutes." in (
            client.get(r["Location"]).content.decode())
    finally:
        start_redis(port, scratch)
