"""The production URLconf plus bench-only views, never mounted in production:

- /bench/nu/<nne>/: the bare view, one indexed SELECT (Electeur by NNE, unique index) through the
  same middleware stack, anonymous: the ceiling of the load benchmark;
- /bench/agent/: the cheapest page of a logged-in officer (the door of the police portal: session,
  user, TOTP mark), no query of its own;
- /bench/audit/: the same plus one audit entry (AuditLog.record: the chain head locked, the entry
  and the new head written), the floor of any authenticated and audited request, e.g. the lookup
  at the counter (bench/form_render.py, docs/performance.md).
"""

from django.http import HttpResponse
from django.urls import path

from procuration.access import portal_required
from procuration.models import AuditLog, Electeur
from procuration.urls import urlpatterns as production_urlpatterns


def bare(request, nne):
    nom = Electeur.objects.filter(nne=nne).values_list("nom", flat=True).first()
    return HttpResponse(nom or "-", content_type="text/plain; charset=utf-8")


@portal_required("police")
def agent(request):
    return HttpResponse(str(request.user.pk), content_type="text/plain; charset=utf-8")


@portal_required("police")
def audited(request):
    entry = AuditLog.record(request, "bench.floor", None)
    return HttpResponse(str(entry.pk), content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/nu/<str:nne>/", bare),
    path("bench/agent/", agent),
    path("bench/audit/", audited),
    *production_urlpatterns,
]
