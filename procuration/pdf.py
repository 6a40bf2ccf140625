"""PDF documents rendered with WeasyPrint from Django templates.

Every render goes through html_document(): its URL fetcher serves the project's own static files
and the data: URIs we build ourselves (stamp and signature images), and refuses everything else
(http:, https:, ftp:, file: outside the static folders), so a template or a value written into
one can never make the server fetch a URL or read a file.

Every PDF is also tagged (PDF/UA-1: a structure tree, MarkInfo /Marked true, the language and
title taken from the template's <html lang="fr"> and <title>, shown as the window title): the
document html_document() returns writes PDF/UA-1 unless told otherwise, and write_pdf() does the
same for a document laid out then joined (the registre). A template without a title or a language
fails loudly here rather than producing an untitled, language-less document.
"""

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}
_TITLE = re.compile(r"<title>\s*[^<\s]", re.I)
_LANG = re.compile(r"<html[^>]*\slang=\"fr\"", re.I)


def static_roots() -> list[Path]:
    """The folders whose files a PDF may use: STATICFILES_DIRS and STATIC_ROOT, resolved."""
    roots = [Path(d[1] if isinstance(d, (list, tuple)) else d) for d in settings.STATICFILES_DIRS]
    roots.append(Path(settings.STATIC_ROOT))
    return [r.resolve() for r in roots]


def static_file_for(url: str) -> Path | None:
    """The static file a file: URL names, or None when it is not one (symlinks and .. resolved)."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_file():
        return None
    return path if any(path.is_relative_to(root) for root in static_roots()) else None


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler: no I/O
            path = static_file_for(url)
            if path is None:
                raise ValueError(f"Ressource refusée dans un PDF (seuls les fichiers statiques sont servis) : {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})

    return StaticFilesFetcher(allowed_protocols=("file", "data"), allow_redirects=False)


def _tagged_html_class():
    from weasyprint import HTML  # imported lazily: pango is loaded on first use

    class TaggedHTML(HTML):
        """WeasyPrint's HTML, rendering and writing PDF/UA-1 by default."""

        def render(self, *args, **options):
            return super().render(*args, **{**PDF_OPTIONS, **options})

        def write_pdf(self, *args, **options):
            return super().write_pdf(*args, **{**PDF_OPTIONS, **options})

    return TaggedHTML


def html_document(html: str):
    """A WeasyPrint HTML document whose relative URLs resolve in the project's static folder,
    written as tagged PDF (PDF/UA-1). Refuses a page without <html lang="fr"> or <title>."""
    if not (_TITLE.search(html) and _LANG.search(html)):
        raise ValueError('A PDF template needs <html lang="fr"> and a non-empty <title>')
    base = static_roots()[0]
    return _tagged_html_class()(string=html, base_url=base.as_uri() + "/", url_fetcher=_fetcher())


def write_pdf(document) -> bytes:
    """Write a laid-out document (e.g. pages of several joined) as tagged PDF (PDF/UA-1)."""
    return document.write_pdf(**PDF_OPTIONS)


def render_pdf(template: str, context: dict) -> bytes:
    return html_document(render_to_string(template, context)).write_pdf()
