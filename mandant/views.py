"""Portail mandant: login, demande in three steps, Mes procurations.

The demande's steps keep their data in the session; nothing is written before the final
confirmation, which creates the procuration, submits it (reference + e-mail) and, after a
certified France Identité login, validates it, all in one transaction.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from mandant import services
from mandant.forms import MandataireForm, RecapForm, ValiditeForm, build_procuration
from procuration import checks, identity, normalize, ratelimit
from procuration.access import portal_required
from procuration.documents import recepisse_pdf
from procuration.exceptions import DomainError
from procuration.fixed_select import FixedSelect
from procuration.models import IdentiteVerifiee, Procuration, Status
from procuration.models.procuration import ACTIVE_FOR_PLAFOND, MANDATAIRE_SEES_ENDED_DAYS

SESSION_KEY = identity.DEMANDE_SESSION_KEY  # kept when the same account logs in again
STEPS = ["Validité de la procuration", "Votre mandataire", "Récapitulatif"]
# Where a refusal of the domain at confirmation is shown: the step that holds the field.
CODE_STEP = {
    "self": "mandataire", "mandataire_non_inscrit": "mandataire", "mandataire_inscrit": "mandataire",
    "plafond": "mandataire", "tutelle": "mandataire", "liste_complementaire": "mandataire",
    "passe": "validite", "doublon": "validite", "duree": "validite", "periode": "validite", "scrutin": "validite",
    "scrutin_hors_commune": "validite",
    "tour": "validite",
}


LOOKUP_WINDOW_SECONDS = 600
TOO_MANY_LOOKUPS = "Trop de recherches de mandataire en peu de temps : réessayez dans quelques minutes."


def _lookup_allowed(request) -> bool:
    """Register lookups (NNE + date of birth reveal a name) are limited per user and window."""
    limit = getattr(settings, "MANDANT_LOOKUPS_PER_WINDOW", 60)
    return ratelimit.hit("mandant-lookup", str(request.user.pk), limit, LOOKUP_WINDOW_SECONDS)


def login(request):
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return render(request, "mandant/login.html",
                  {"next_url": next_url, "france_identite": identity.france_identite_configured()})


def _electeur_or_page(request):
    electeur, reason = services.electeur_for_user(request.user)
    if electeur is None:
        return None, render(request, "mandant/electeur_introuvable.html", {"reason": reason})
    return electeur, None


def _stepper(n: int) -> dict:
    return {"number": n, "count": len(STEPS), "title": STEPS[n - 1], "next": STEPS[n] if n < len(STEPS) else ""}


@portal_required("mandant")
def home(request):
    electeur, reason = services.electeur_for_user(request.user)
    donnees = (
        Procuration.objects.visible_to(request.user)
        .exclude(status=Status.BROUILLON)
        .select_related("mandataire", "scrutin")
        .order_by("-created_at")
    )
    confiees_en_vigueur = _confiees(electeur).filter(status__in=ACTIVE_FOR_PLAFOND).count()
    return render(
        request, "mandant/home.html",
        {"electeur": electeur, "reason": reason, "donnees": donnees, "confiees_en_vigueur": confiees_en_vigueur,
         "certified": identity.is_certified(request)},
    )


# ------------------------------------------------------------------------ demande
@portal_required("mandant")
def demande_start(request):
    request.session.pop(SESSION_KEY, None)
    return redirect("mandant:demande_validite")


@portal_required("mandant")
@require_http_methods(["GET", "POST"])
def demande_validite(request):
    electeur, page = _electeur_or_page(request)
    if page:
        return page
    demande = request.session.get(SESSION_KEY, {})
    if request.method == "POST":
        form = ValiditeForm(request.POST, electeur=electeur)
        if form.is_valid():
            kept = {"mandataire": demande["mandataire"]} if demande.get("mandataire") else {}
            request.session[SESSION_KEY] = {**form.to_session(), **kept}
            return redirect("mandant:demande_mandataire")
    else:
        initial = {k: v for k, v in demande.items() if k in ValiditeForm.base_fields}
        form = ValiditeForm(initial=initial, electeur=electeur)
    return render(request, "mandant/demande_validite.html", {"form": form, "stepper": _stepper(1)})


def _period(demande: dict) -> dict:
    keys = ("portee", "scrutin", "tour1", "tour2", "valid_from", "valid_until", "etablissement")
    return {k: demande[k] for k in keys} if all(k in demande for k in keys) else {}


@portal_required("mandant")
@require_http_methods(["GET", "POST"])
def demande_mandataire(request):
    electeur, page = _electeur_or_page(request)
    if page:
        return page
    demande = request.session.get(SESSION_KEY, {})
    period = _period(demande)
    if not period:
        return redirect("mandant:demande_validite")
    if request.method == "POST":
        form = MandataireForm(request.POST, electeur=electeur, period=period)
        if not _lookup_allowed(request):
            form.full_clean()
            form.add_error(None, TOO_MANY_LOOKUPS)
        elif form.is_valid():
            request.session[SESSION_KEY] = {**demande, "mandataire": form.mandataire.pk,
                                            "email_mandataire": form.cleaned_data["email_mandataire"],
                                            "mandataire_form": {k: v for k, v in request.POST.items()
                                                                if k in MandataireForm.base_fields}}
            return redirect("mandant:demande_recapitulatif")
    else:
        initial = {k: v for k, v in demande.get("mandataire_form", {}).items() if k in MandataireForm.base_fields}
        form = MandataireForm(initial=initial, electeur=electeur, period=period)
    return render(request, "mandant/demande_mandataire.html", {"form": form, "stepper": _stepper(2)})


@portal_required("mandant")
@require_GET
def verifier_mandataire(request):
    """Live checks while typing: an HTML fragment the step's script puts under the form."""
    electeur, reason = services.electeur_for_user(request.user)
    if electeur is None:
        raise Http404
    period = _period(request.session.get(SESSION_KEY, {}))
    form = MandataireForm(request.GET, electeur=electeur, period=period)
    complete = _enough_typed(request.GET)
    if complete and not _lookup_allowed(request):
        return render(request, "mandant/_live_checks.html",
                      {"complete": True, "ok": False, "mandataire": None, "results": [], "errors": [TOO_MANY_LOOKUPS]})
    ok = complete and form.is_valid()
    results = []
    if ok and period:
        p = build_procuration(electeur, {**period, "mandataire": form.mandataire.pk}, mandataire=form.mandataire)
        results = [r for r in checks.evaluate(p) if r.code != "mandant_inscrit"]
    errors = [e for field_errors in form.errors.values() for e in field_errors] if complete and not ok else []
    return render(request, "mandant/_live_checks.html",
                  {"complete": complete, "ok": ok, "mandataire": form.mandataire if ok else None,
                   "results": results, "errors": errors})


def _enough_typed(q) -> bool:
    if q.get("mode") == "nne":
        return len(normalize.strip_nne(q.get("nne", ""))) >= 8 and bool(q.get("date_naissance_nne"))
    if q.get("mode") == "etat_civil":
        return all(q.get(k) for k in ("nom", "prenoms", "sexe", "date_naissance", "commune"))
    return False


@portal_required("mandant")
@require_http_methods(["GET", "POST"])
def demande_recapitulatif(request):
    electeur, page = _electeur_or_page(request)
    if page:
        return page
    demande = request.session.get(SESSION_KEY, {})
    if not _period(demande):
        return redirect("mandant:demande_validite")
    if not demande.get("mandataire"):
        return redirect("mandant:demande_mandataire")
    p = build_procuration(electeur, demande)
    step_errors = {}
    # The certification of this session's login, read once: it may expire while the page is open.
    certification = identity.certification(request)
    if request.method == "POST":
        form = RecapForm(request.POST)
        if certification == identity.EXPIRED:
            step_errors["general"] = _expired_message()  # nothing is saved: log in again first
            form.add_error(None, step_errors["general"])
        elif form.is_valid():
            p.mandant_user = request.user
            p.email_contact = form.cleaned_data["email_contact"]
            try:
                # One transaction; the identity checked online (France Identité): established at once.
                p.deposer(by=request.user, identite=IdentiteVerifiee.france_identite(electeur)
                          if certification == identity.CERTIFIED else None)
            except DomainError as e:
                p = build_procuration(electeur, demande)  # the transaction rolled back: nothing saved
                step_errors[CODE_STEP.get(e.code, "general")] = e.message
                form.add_error(None, e.message)
            else:
                request.session.pop(SESSION_KEY, None)
                return redirect("mandant:confirmation", pk=p.pk)
    else:
        form = RecapForm(initial={"email_contact": request.user.email})
    results = [r for r in checks.evaluate(p)]
    return render(
        request, "mandant/demande_recapitulatif.html",
        {"form": form, "p": p, "results": results, "step_errors": step_errors, "stepper": _stepper(3),
         "certified": certification == identity.CERTIFIED, "expired": certification == identity.EXPIRED,
         "expired_message": _expired_message(), "france_identite": identity.france_identite_configured()},
    )


def _expired_message() -> str:
    minutes = settings.IDENTITY_CERTIFICATION_MAX_AGE // 60
    return (
        f"Votre connexion avec France Identité date de plus de {minutes} minutes : elle ne peut plus valider "
        "votre procuration en ligne. Reconnectez-vous avec France Identité pour confirmer la demande ; "
        "les informations saisies sont conservées."
    )


# ------------------------------------------------------------------------ Mes procurations
# The mandant's procuration with its related rows: the scoping rule (visible_to) built by the ORM on
# every request, the columns, joins and converters of the five related rows written once per process
# (procuration/fixed_select.py): the rows of .select_related(*_OWN.related).get(pk=…), ≈ 40 % less
# CPU for the confirmation page (issue 16, docs/performance.md).
_OWN = FixedSelect(Procuration, ("mandant", "mandataire", "mandataire__commune", "commune", "scrutin"))


def _get_own(request, pk):
    found = _OWN.rows_of(Procuration.objects.visible_to(request.user).exclude(status=Status.BROUILLON).filter(pk=pk))
    if not found:
        raise Http404
    return found[0]


@portal_required("mandant")
def confirmation(request, pk):
    p = _get_own(request, pk)
    return render(request, "mandant/confirmation.html", {"p": p, "expires_on": p.expires_on()})


@portal_required("mandant")
def detail(request, pk):
    p = _get_own(request, pk)
    return render(
        request, "mandant/detail.html",
        {"p": p, "events": list(p.events.all()), "expires_on": p.expires_on(),
         "can_resilier": Procuration.allowed("resilier", p.statut_effectif)},
    )


@portal_required("mandant")
def recepisse(request, pk):
    p = _get_own(request, pk)
    response = HttpResponse(recepisse_pdf(p), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="recepisse-procuration-{p.reference}.pdf"'
    return response


@portal_required("mandant")
@require_http_methods(["GET", "POST"])
def resilier(request, pk):
    """L.75: a demande still « en attente » is withdrawn at once; a procuration established by an
    authority is revoked at once only with a certified France Identité login, else the mandant's
    request waits for an identity check at the counter (the officer types the same reference)."""
    p = _get_own(request, pk)
    if not Procuration.allowed("resilier", p.statut_effectif):  # an expired demande included, recorded or not
        messages.error(request, f"Cette procuration ne peut plus être résiliée (statut : {p.statut_effectif_label}).")
        return redirect("mandant:detail", pk=p.pk)
    if request.method == "POST":
        certified = identity.certification(request) == identity.CERTIFIED
        try:
            if p.statut_effectif == Status.EN_ATTENTE:
                done = p.resilier(by=request.user, reason="Demande retirée en ligne par le mandant")
            elif certified:
                done = p.resilier(by=request.user, identite=IdentiteVerifiee.france_identite(p.mandant),
                                  reason="Résiliation en ligne par le mandant")
            else:
                if p.demander_resiliation(by=request.user):
                    messages.success(
                        request,
                        f"Votre demande de résiliation est enregistrée. Elle prendra effet quand votre identité aura été "
                        f"vérifiée : présentez-vous avec une pièce d'identité et la référence {p.reference} dans un "
                        "commissariat, une brigade de gendarmerie ou un consulat, ou reconnectez-vous avec France "
                        "Identité et confirmez la résiliation.",
                    )
                return redirect("mandant:detail", pk=p.pk)
        except DomainError as e:
            messages.error(request, e.message)
        else:
            if done:
                messages.success(request, f"La procuration {p.reference} est résiliée. Un courriel vous le confirme.")
        return redirect("mandant:detail", pk=p.pk)
    return render(request, "mandant/resilier.html", {
        "p": p, "needs_identity": p.statut_effectif != Status.EN_ATTENTE,
        "certified": identity.certification(request) == identity.CERTIFIED,
    })


# ------------------------------------------------------------------------ Procurations qui me sont confiées
def _confiees(electeur):
    """The mandataire's espace, scoped to the elector of this login (None: nothing)."""
    return (
        Procuration.objects.confiees_a(electeur)
        .select_related("mandant", "mandant__bureau", "commune", "scrutin")
        .order_by("valid_from", "pk")
    )


def _get_confiee(request, pk):
    """The one access helper for a procuration seen by its mandataire: another elector's answers 404."""
    electeur, _ = services.electeur_for_user(request.user)
    return get_object_or_404(_confiees(electeur), pk=pk)


@portal_required("mandant")
def confiees(request):
    """The procurations where the elector of this FranceConnect / France Identité login is the
    mandataire: in force, and ended recently (procuration.models.procuration.MANDATAIRE_SEES_ENDED_DAYS)."""
    electeur, reason = services.electeur_for_user(request.user)
    rows = list(_confiees(electeur))
    return render(request, "mandant/confiees.html", {
        "electeur": electeur, "reason": reason,
        "en_vigueur": [p for p in rows if p.status in ACTIVE_FOR_PLAFOND],
        "terminees": [p for p in rows if p.status not in ACTIVE_FOR_PLAFOND],
        "ended_days": MANDATAIRE_SEES_ENDED_DAYS,
    })


@portal_required("mandant")
def confiee(request, pk):
    p = _get_confiee(request, pk)
    return render(request, "mandant/confiee.html", {"p": p, "en_vigueur": p.status in ACTIVE_FOR_PLAFOND})
