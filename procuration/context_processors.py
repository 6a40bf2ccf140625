from django.conf import settings

PORTAL_NAMES = {
    "mandant": "Procurations — Espace électeur",
    "police": "Procurations — Espace police et gendarmerie",
    "mairie": "Procurations — Espace mairie",
    "listes": "Listes électorales et recensement citoyen",
}


def portal(request):
    name = getattr(getattr(request, "resolver_match", None), "namespace", "") or ""
    return {
        "portal": name,
        "portal_name": PORTAL_NAMES.get(name, "Démarches électorales"),
        "dev_mailbox": settings.DEV_MAILBOX,
    }
