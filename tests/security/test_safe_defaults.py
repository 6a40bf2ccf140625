"""Safe by default: DEBUG off unless set, /dev/ pages only in development and only to the machine
itself, no default secret in the stack, the production image without test packages, CSV cells
that are never formulas, PDFs that fetch nothing but our static files."""

import csv
import io
import os
import re
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

ROOT = Path(django_settings.BASE_DIR)


# ------------------------------------------------------------------ DEBUG is off unless set


def _settings_probe(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
         "'procuration.settings'); from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_debug_is_off_when_the_variable_is_not_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECURE_SSL_REDIRECT")}
    env.update(VAR_DIR=str(tmp_path), SECRET_KEY="x" * 50)
    result = _settings_probe(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_without_debug_there_is_no_default_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env["VAR_DIR"] = str(tmp_path)
    result = _settings_probe(env)
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire" in result.stderr


# ------------------------------------------------------------------ /dev/ pages: DEBUG on and loopback only


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dev_mailbox", "dev_totp"])
@pytest.mark.parametrize("debug, address, status", [
    (True, "127.0.0.1", 200), (True, "127.8.9.10", 200), (True, "::1", 200),
    (True, "192.0.2.10", 404), (True, "10.0.0.1", 404), (True, "::ffff:192.0.2.10", 404), (True, "", 404),
    (False, "127.0.0.1", 404),
])
def test_dev_pages_exist_only_in_development_and_only_for_loopback(client, settings, name, debug, address, status):
    settings.DEBUG = debug
    settings.DEV_MAILBOX = True
    response = client.get(reverse(name), REMOTE_ADDR=address)
    assert response.status_code == status, (name, debug, address)


# ------------------------------------------------------------------ the stack and the image


def test_docker_compose_has_no_default_secret_key():
    compose = (ROOT / "docker-compose.yml").read_text()
    lines = [line.strip() for line in compose.splitlines() if line.strip().startswith("SECRET_KEY:")]
    assert lines, "docker-compose.yml sets no SECRET_KEY"
    for line in lines:
        value = line.split(":", 1)[1].strip()
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", value), f"SECRET_KEY must be required: {line}"


LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\]+)", re.M)


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {name.lower().replace("_", "-"): version for name, version in LOCK_LINE.findall(text)}


def test_production_image_installs_the_runtime_lock_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"-r\s+(\S+\.lock)", dockerfile)
    assert installs == ["requirements/runtime.lock"]
    assert "--require-hashes" in dockerfile
    assert "dev.lock" not in dockerfile and "bench.lock" not in dockerfile


def test_runtime_lock_has_the_runtime_dependencies_and_no_test_or_bench_package():
    runtime = _pins("runtime.lock")
    for forbidden in ("pytest", "pytest-django", "pytest-playwright", "playwright", "hypothesis", "locust",
                      "factory-boy", "aiosmtpd", "ruff", "time-machine"):
        assert forbidden not in runtime, forbidden
    text = (ROOT / "requirements" / "runtime.lock").read_text()
    assert all(block.count("--hash=sha256:") for block in text.split("==")[1:]), "every pin carries its hashes"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", requirement).groups()
        assert runtime[name.lower().replace("_", "-")] == version, requirement
    # The image runs what the tests ran: the same version of every package.
    dev = _pins("dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


# ------------------------------------------------------------------ CSV cells are never formulas


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://evil.example\";\"x\")", "'=HYPERLINK(\"http://evil.example\";\"x\")"),
    ("+33 6 12", "'+33 6 12"), ("-2+3", "'-2+3"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("DUPONT", "DUPONT"), ("Jean-Pierre", "Jean-Pierre"), ("", ""), (None, ""), (3, "3"),
])
def test_csv_cells_that_start_a_formula_are_neutralised(value, cell):
    from procuration.spreadsheet import safe_csv_writer

    out = io.StringIO()
    safe_csv_writer(out, delimiter=";").writerow([value, "fin"])
    assert next(csv.reader(io.StringIO(out.getvalue()), delimiter=";")) == [cell, "fin"]


def test_no_csv_writer_outside_the_helper():
    offenders = [
        str(path.relative_to(ROOT)) for app in ("procuration", "mairie", "police", "listes", "mandant")
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text()) and path.name != "spreadsheet.py"
    ]
    assert offenders == []


# ------------------------------------------------------------------ WeasyPrint fetches only our static files


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        body = b"body::before { content: 'VENU-DU-RESEAU'; }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_server():
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.hits
    server.shutdown()
    server.server_close()


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split())


def test_pdf_fetches_nothing_but_the_static_files(settings, tmp_path, recording_server):
    from procuration.pdf import render_pdf

    port, hits = recording_server
    static = tmp_path / "static"
    static.mkdir()
    (static / "print.css").write_text("body::after { content: 'FEUILLE-STATIQUE'; }")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.css").write_text("body::before { content: 'HORS-STATIQUE'; }")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "hostile.html").write_text(
        f'<html lang="fr"><head><title>Hostile</title><link rel="stylesheet" href="http://127.0.0.1:{port}/feuille.css">'
        f'<link rel="stylesheet" href="{(outside / "secret.css").as_uri()}">'
        '<link rel="stylesheet" href="print.css"></head><body>'
        f'<img src="http://127.0.0.1:{port}/image.png" alt="">'
        f'<img src="http://localhost:{port}/autre.png" alt="">'
        '<img src="file:///etc/passwd" alt=""><iframe src="file:///etc/passwd"></iframe>'
        '<p>Corps du document</p></body></html>'
    )
    settings.STATICFILES_DIRS = [static]
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [templates, *settings.TEMPLATES[0]["DIRS"]]}]

    text = _pdf_text(render_pdf("hostile.html", {}), tmp_path)

    assert hits == [], "the PDF renderer made HTTP requests"
    assert "HORS-STATIQUE" not in text and "VENU-DU-RESEAU" not in text
    assert "root:" not in text
    assert "Corps du document" in text and "FEUILLE-STATIQUE" in text  # our static file is served


def test_pdf_fetcher_refuses_files_outside_static(settings, tmp_path):
    from procuration.pdf import static_file_for

    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "ok.css").write_text("p {}")
    (tmp_path / "secret.txt").write_text("secret")
    settings.STATICFILES_DIRS = [static]
    assert static_file_for((static / "css" / "ok.css").as_uri()) == (static / "css" / "ok.css").resolve()
    for url in ("file:///etc/passwd", (tmp_path / "secret.txt").as_uri(), (static / "css").as_uri() + "/../../secret.txt",
                "http://127.0.0.1/static/css/ok.css", "file://evil.example" + str(static / "css" / "ok.css")):
        assert static_file_for(url) is None, url


def test_every_weasyprint_render_goes_through_the_safe_fetcher():
    offenders = [
        str(path.relative_to(ROOT)) for app in ("procuration", "mairie", "police", "listes", "mandant")
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"\bHTML\(", path.read_text()) and path != ROOT / "procuration" / "pdf.py"
    ]
    assert offenders == []
