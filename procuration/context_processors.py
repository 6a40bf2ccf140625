import threading
import time

from django.conf import settings
from django.utils.translation import get_language

PORTAL_NAMES = {
    "mandant": "Procurations — Espace électeur",
    "police": "Procurations — Espace police et gendarmerie",
    "mairie": "Procurations — Espace mairie",
    "listes": "Listes électorales et recensement citoyen",
    "backoffice": "Administration nationale",
    "elus": "Crédit d'heures des élus",
}


def portal(request):
    name = getattr(getattr(request, "resolver_match", None), "namespace", "") or ""
    return {
        "portal": name,
        "portal_name": PORTAL_NAMES.get(name, "Démarches électorales"),
        "dev_mailbox": settings.DEV_MAILBOX,
    }


# django-dsfr's own context processor reads DsfrConfig (site title, mourning, notice banner) with
# one or two queries on every page, usually finding no row. The row changes a few times a year,
# from the admin: keep it per process for SITE_CONFIG_TTL seconds; a change through the ORM clears
# this process's copy at once (procuration/signals.py), the other processes follow within the TTL.
SITE_CONFIG_TTL = 60.0
_site_configs: dict[str, tuple[float, object]] = {}
_site_configs_lock = threading.Lock()


def site_config(request):
    from dsfr.models import DsfrConfig

    language = get_language()
    cached = _site_configs.get(language)
    if cached is None or time.monotonic() - cached[0] > SITE_CONFIG_TTL:
        config = DsfrConfig.objects.filter(language=language).first() or DsfrConfig.objects.first()
        cached = (time.monotonic(), config)
        with _site_configs_lock:
            _site_configs[language] = cached
    return {"SITE_CONFIG": cached[1]}


def forget_site_config() -> None:
    with _site_configs_lock:
        _site_configs.clear()
