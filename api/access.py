"""One access helper per kind of object the API serves: everything is scoped to the key's commune;
anything else answers 404."""

from django.db.models import DateTimeField, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from listes.models import Teledossier, TeledossierEvent
from procuration.models import Procuration, Status


def procurations_for(key):
    """Submitted procurations of the key's commune, with `updated_at` (the latest dated act)."""
    return (
        Procuration.objects.filter(commune_id=key.commune_id)
        .exclude(status=Status.BROUILLON)
        .annotate(
            updated_at=Greatest(
                "created_at",
                *(Coalesce(f, F("created_at"), output_field=DateTimeField())
                  for f in ("submitted_at", "autorite_at", "mairie_at", "ended_at")),
            )
        )
    )


def teledossiers_for(key):
    """Télédossiers of the key's commune, with `updated_at` (the latest event of their log)."""
    last_event = (
        TeledossierEvent.objects.filter(teledossier_id=OuterRef("pk")).values("teledossier_id")
        .annotate(m=Max("at")).values("m")
    )
    return Teledossier.objects.filter(commune_id=key.commune_id).annotate(
        updated_at=Coalesce(Subquery(last_event), F("created_at"), output_field=DateTimeField())
    )
