"""Documents generated for a procuration."""

from django.utils import timezone

from procuration.pdf import render_pdf


def recepisse_pdf(p) -> bytes:
    """The récépissé of a procuration (WeasyPrint), as the mandant downloads it."""
    return render_pdf(
        "pdf/recepisse.html",
        {"p": p, "events": list(p.events.select_related("actor")), "generated_at": timezone.now()},
    )
