"""PDF documents rendered with WeasyPrint from Django templates.

Every render goes through html_document(): its URL fetcher serves the project's own static files
and the data: URIs we build ourselves (stamp and signature images), and refuses everything else
(http:, https:, ftp:, file: outside the static folders), so a template or a value written into
one can never make the server fetch a URL or read a file.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string


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


def html_document(html: str):
    """A WeasyPrint HTML document whose relative URLs resolve in the project's static folder."""
    from weasyprint import HTML  # imported lazily: pango is loaded on first use

    base = static_roots()[0]
    return HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=_fetcher())


def render_pdf(template: str, context: dict) -> bytes:
    return html_document(render_to_string(template, context)).write_pdf()
