import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from police import services
from police.forms import HistoryForm, OfficerForm, ReferenceForm, RefusForm, ValidationForm
from procuration.access import portal_required
from procuration.activation import issue_activation, new_staff_username, reset_access, set_active
from procuration.cerfa import CerfaForm, enregistrer_cerfa
from procuration.exceptions import DomainError, TransitionError
from procuration.fixed_select import FixedSelect
from procuration.forms import add_domain_error
from procuration.models import (
    AuditLog,
    IdentiteVerifiee,
    Procuration,
    ProcurationEvent,
    Role,
    Status,
    User,
    Verificateur,
)
from procuration.views import PortalLoginView

ACTS = (Status.VALIDEE_AUTORITE, Status.REFUSEE_AUTORITE)
HISTORY_PAGE_SIZE = 50


class LoginView(PortalLoginView):
    portal = "police"


@portal_required("police")
def home(request):
    """The counter: type the reference the mandant gives."""
    form = ReferenceForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            p = services.lookup(request, form.cleaned_data["reference"])
        except services.RateLimited as exc:
            form.add_error("reference", exc.message)
            status = 429
        except DomainError as exc:
            form.add_error("reference", exc.message)
        else:
            return redirect("police:procuration", jeton=services.fiche_token(request.user, p.pk))
    return render(request, "police/home.html", {"form": form}, status=status)


# The procuration of the fiche, by one statement written once per process (procuration/fixed_select.py):
# the row and its five related ones of
# Procuration.objects.select_related("mandant", "mandataire", "mandataire__commune", "commune", "scrutin"),
# without building and compiling that query on every request (≈ 40 % of the fiche's CPU; issue 16,
# docs/performance.md « Pages du parcours : requêtes compilées une fois »).
_FICHE = FixedSelect(Procuration, ("mandant", "mandataire", "mandataire__commune", "commune", "scrutin"), 't."id" = %s')


def _allowed_procuration(request, jeton):
    """Only a procuration this officer found by a lookup (services.fiche_token); anything else is a 404."""
    pk = services.fiche_pk(request, jeton)
    found = [] if pk is None else _FICHE([pk])
    if not found:
        raise Http404
    return found[0]


@portal_required("police")
def procuration(request, jeton):
    p = _allowed_procuration(request, jeton)
    validation_form, refus_form = ValidationForm(), RefusForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "valider":
                validation_form = ValidationForm(request.POST)
                if validation_form.is_valid():
                    services.valider(p, by=request.user, **validation_form.cleaned_data)
                    if p.status == Status.ANNULEE:  # L.73: established over the mandataire's plafond, void
                        messages.warning(
                            request,
                            f"Procuration {p.reference} établie mais nulle : {p.motif_detail} Le mandant en est "
                            "informé par courriel ; il doit choisir un autre mandataire.",
                        )
                    else:
                        messages.success(
                            request,
                            f"Procuration {p.reference} validée. Elle est transmise à la mairie {p.commune.de_nom} "
                            "et le mandant est informé par courriel.",
                        )
                    return redirect("police:acte", procuration_pk=p.pk)
            elif action == "resilier" and p.resiliation_en_attente:
                validation_form = ValidationForm(request.POST)
                if validation_form.is_valid():
                    services.confirmer_resiliation(p, by=request.user, **validation_form.cleaned_data)
                    messages.success(
                        request,
                        f"Résiliation de la procuration {p.reference} confirmée. Le mandant et la mairie "
                        f"{p.commune.de_nom} sont informés par courriel.",
                    )
                    return redirect("police:home")
            elif action == "refuser":
                refus_form = RefusForm(request.POST)
                if refus_form.is_valid():
                    services.refuser(p, by=request.user, **refus_form.cleaned_data)
                    messages.success(request, f"Refus de la procuration {p.reference} enregistré. Le mandant est informé.")
                    return redirect("police:home")
            else:
                messages.error(request, "Choisissez de valider ou de refuser la procuration.")
        except (services.LookupRefused, TransitionError) as exc:
            messages.error(request, exc.message)
            return redirect("police:home")
        except DomainError as exc:  # a rule of the domain (plafond, doublon): the officer may still refuse
            messages.error(request, exc.message)
    else:
        try:
            services.check_actionable(p)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("police:home")
        AuditLog.record(request, "police.consultation", p, reference=p.reference)
    return render(
        request, "police/procuration.html", {"p": p, "validation_form": validation_form, "refus_form": refus_form}
    )


@portal_required("police")
def cerfa(request):
    form = CerfaForm(request.POST or None)
    validation_form = ValidationForm(request.POST or None)
    if request.method == "POST":
        forms_ok = form.is_valid() & validation_form.is_valid()  # both validated, to show every error at once
        if forms_ok:
            try:
                identite = IdentiteVerifiee(Verificateur.AUTORITE, by=request.user, **validation_form.cleaned_data)
                p = enregistrer_cerfa(form, identite)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Procuration papier enregistrée et validée sous la référence {p.reference}. "
                    f"Elle est transmise à la mairie {p.commune.de_nom}.",
                )
                return redirect("police:historique")
    return render(request, "police/cerfa.html", {"form": form, "validation_form": validation_form})


@portal_required("police")
def historique(request):
    form = HistoryForm(request.GET or None)
    # Purged dossiers keep their events (the audit chain) but no longer show in the history.
    events = ProcurationEvent.objects.filter(to_status__in=ACTS, procuration__isnull=False).select_related(
        "procuration", "actor"
    )
    scope = "moi"
    if form.is_valid():
        scope = form.cleaned_data.get("scope") or "moi"
        tz = timezone.get_current_timezone()
        if form.cleaned_data.get("du"):
            events = events.filter(at__gte=datetime.datetime.combine(form.cleaned_data["du"], datetime.time.min, tz))
        if form.cleaned_data.get("au"):
            end = form.cleaned_data["au"] + datetime.timedelta(days=1)
            events = events.filter(at__lt=datetime.datetime.combine(end, datetime.time.min, tz))
        if form.cleaned_data.get("reference"):
            events = events.filter(procuration__reference=form.cleaned_data["reference"])
    elif form.is_bound:
        events = events.none()
    if scope == "unite" and request.user.unite:
        events = events.filter(actor__role=Role.POLICIER, actor__unite=request.user.unite)
    else:
        scope = "moi"
        events = events.filter(actor=request.user)
    page = Paginator(events.order_by("-at", "-pk"), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "police/historique.html", {
        "form": form, "events": page.object_list, "page": page, "scope": scope, "querystring": params.urlencode(),
    })


def _my_act(request, pk) -> Procuration:
    """A procuration this officer validated; any other answers 404 (a colleague's act included)."""
    return get_object_or_404(
        Procuration.objects.select_related("mandant", "mandataire", "mandataire__commune", "commune", "scrutin")
        .filter(events__actor=request.user, events__to_status=Status.VALIDEE_AUTORITE).distinct(),
        pk=pk,
    )


@portal_required("police")
def acte(request, procuration_pk):
    """The confirmation after a validation: what to tell the mandant, and the récépissé to print."""
    p = _my_act(request, procuration_pk)
    return render(request, "police/acte.html", {"p": p})


@portal_required("police")
def acte_recepisse(request, procuration_pk):
    from procuration.documents import recepisse_pdf

    p = _my_act(request, procuration_pk)
    AuditLog.record(request, "police.recepisse", p, reference=p.reference)
    response = HttpResponse(recepisse_pdf(p), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="recepisse-{p.reference}.pdf"'
    return response


# ---------------------------------------------------------------- unit administration
def _require_unit_admin(request):
    if not (request.user.is_unit_admin and request.user.unite):
        raise PermissionDenied("Réservé à l'administrateur de l'unité.")


def _unit_officers(user):
    return User.objects.filter(role=Role.POLICIER, unite=user.unite)


@portal_required("police")
def unite(request):
    _require_unit_admin(request)
    form = OfficerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        officer = User(
            username=new_staff_username(data["first_name"], data["last_name"]), first_name=data["first_name"],
            last_name=data["last_name"].upper(), email=data["email"], role=Role.POLICIER, qualite=data["qualite"],
            matricule=data["matricule"], unite=request.user.unite,
            unite_a_l_etranger=request.user.unite_a_l_etranger,  # a fact of the unit, set by the national admin
        )
        with transaction.atomic():
            officer.set_unusable_password()
            officer.save()
            issue_activation(officer)
            AuditLog.record(request, "police.compte_cree", officer, matricule=officer.matricule, unite=officer.unite,
                            unite_a_l_etranger=officer.unite_a_l_etranger)
        messages.success(
            request,
            f"Compte créé pour {officer.officer_label} (identifiant « {officer.username} »). Un lien d'activation "
            f"est envoyé à {officer.email} : l'agent y choisit son mot de passe, puis configure sa double "
            "authentification.",
        )
        return redirect("police:unite")
    officers = _unit_officers(request.user).order_by("last_name", "first_name")
    return render(request, "police/unite.html", {"form": form, "officers": officers})


@require_POST
@portal_required("police")
def unite_activation(request, pk):
    _require_unit_admin(request)
    officer = get_object_or_404(_unit_officers(request.user), pk=pk)
    activate = request.POST.get("active") == "1"
    try:  # the one rule of disabling a staff account (its sessions end for good, nobody disables their own)
        set_active(request, officer, activate, action="police.compte")
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("police:unite")
    messages.success(
        request, f"Compte de {officer.officer_label} {'réactivé' if activate else 'désactivé'}."
    )
    return redirect("police:unite")


@require_POST
@portal_required("police")
def unite_reset(request, pk):
    """No password and no authenticator any more, and a new activation link to the officer."""
    _require_unit_admin(request)
    officer = get_object_or_404(_unit_officers(request.user), pk=pk)
    if officer.is_unit_admin:  # the unit admin's own account included
        messages.error(request, "L'accès d'un administrateur d'unité est réinitialisé par l'administration nationale.")
        return redirect("police:unite")
    try:
        reset_access(request, officer, action="police.compte_reinitialise")
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("police:unite")
    messages.success(
        request,
        f"L'accès de {officer.officer_label} est réinitialisé : un nouveau lien d'activation est envoyé à "
        f"{officer.email}.",
    )
    return redirect("police:unite")
