"""The élus' pages: the public simulator and each élu's own space (mairie portal door).

The crédit d'heures rule is procuration/credit_heures.py; domain errors become field errors."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from elus.forms import AbsenceForm, SimulateurForm
from elus.models import Absence, Mandat
from procuration import credit_heures
from procuration.access import portal_required
from procuration.credit_heures import Assemblee, format_minutes
from procuration.exceptions import DomainError
from procuration.models import AuditLog
from procuration.pdf import render_pdf


def _law_context() -> dict:
    return {
        "cap": format_minutes(credit_heures.ANNUAL_CAP_MINUTES),
        "majoration_max": credit_heures.MAJORATION_MAX,
        "compensation_hours": credit_heures.COMPENSATION_HOURS_MAX,
        "compensation_rate": credit_heures.COMPENSATION_RATE_MAX,
        "compensation_max": credit_heures.compensation_max(),
        "notice_days": credit_heures.NOTICE_DAYS,
    }


def simulateur(request):
    form = SimulateurForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            minutes = credit_heures.credit_trimestriel(
                assemblee=data["assemblee"], fonction=data["fonction"],
                population=data["population"] if data["assemblee"] == Assemblee.COMMUNE else None,
                majoration=0 if data["majoration"] is None else data["majoration"],
                temps_travail=100 if data["temps_travail"] is None else data["temps_travail"],
            )
        except DomainError as e:
            form.add_error(e.field, e.message)
        else:
            result = {"trimestre": format_minutes(minutes), "annee": format_minutes(4 * minutes)}
    return render(request, "elus/simulateur.html", {"form": form, "result": result, **_law_context()})


def elu_required(view):
    """A mairie-portal user who holds a mandate (maire, adjoint, conseiller); other agents 403."""

    @portal_required("mairie")
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        mandat = Mandat.objects.filter(user=request.user).select_related("user__commune").first()
        if mandat is None:
            raise PermissionDenied("Cet espace est réservé aux élus de la commune.")
        return view(request, mandat, *args, **kwargs)

    return wrapper


def _absence(mandat: Mandat, pk: int) -> Absence:
    """The élu's own absence; anyone else's answers 404."""
    return get_object_or_404(Absence.objects.filter(mandat=mandat), pk=pk)


@elu_required
def espace(request, mandat):
    today = timezone.localdate()
    form = AbsenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            absence = mandat.enregistrer_absence(
                date=data["date"], duree=data["duree"], nature=data["nature"], objet=data["objet"]
            )
        except DomainError as e:
            form.add_error(e.field, e.message)
        else:
            AuditLog.record(request, "elus.absence", absence, duree=absence.duree, nature=absence.nature)
            messages.success(request, f"Absence du {absence.date:%d/%m/%Y} enregistrée ({absence.duree_display}).")
            if absence.late_notice:
                messages.warning(
                    request,
                    f"Attention : votre employeur doit être informé par écrit au moins {credit_heures.NOTICE_DAYS} "
                    "jours avant l'absence. Remettez-lui l'avis dès maintenant.",
                )
            return redirect("elus:espace")
    summary = mandat.summary(today)
    return render(request, "elus/espace.html", {
        "mandat": mandat, "form": form, "s": summary, "fmt": {k: format_minutes(v) for k, v in summary.items()
                                                              if isinstance(v, int)},
        "absences": mandat.absences.filter(date__year=today.year), **_law_context(),
    })


@elu_required
def avis(request, mandat, absence_pk: int):
    absence = _absence(mandat, absence_pk)
    summary = mandat.summary(absence.date)
    pdf = render_pdf("pdf/elus_avis_absence.html", {
        "mandat": mandat, "absence": absence, "elu": mandat.user, "commune": mandat.user.commune,
        "left_quarter": format_minutes(summary["left_quarter"]), "credit": format_minutes(summary["credit"]),
        "quarter_start": summary["quarter_start"], "quarter_end": summary["quarter_end"],
        "notice_days": credit_heures.NOTICE_DAYS, "today": timezone.localdate(),
    })
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="avis-absence-{absence.date:%Y-%m-%d}.pdf"'
    return response
