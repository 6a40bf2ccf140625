import html


def text(response) -> str:
    """The page as a reader sees it (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def fiche_url(officer, pk: int) -> str:
    """The procuration page's address that a lookup by `officer` gives (police.services.fiche_token)."""
    from django.urls import reverse

    from police.services import fiche_token

    return reverse("police:procuration", args=[fiche_token(officer, pk)])


def fiche_pk(url: str, officer) -> int:
    """The procuration a lookup's redirect opens, checked to be signed for `officer`."""
    from django.core import signing
    from django.urls import resolve

    from police.services import FICHE_SALT

    match = resolve(url)
    assert match.view_name == "police:procuration", url
    pk, officer_pk = signing.loads(match.kwargs["jeton"], salt=FICHE_SALT)
    assert officer_pk == officer.pk
    return pk
