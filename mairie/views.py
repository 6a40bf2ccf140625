"""The mairie portal. Every view checks the role at the door and scopes to the agent's commune:
another commune's object answers 404."""

import datetime
from functools import partial, wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import FileResponse, Http404, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from elus.forms import MandatEditForm, MandatForm
from elus.models import Mandat, eligible_accounts
from listes.rules import ILE_DECISION_DAYS, ile_decisions_overdue
from mairie import alerts, listing, queue_rows
from mairie.forms import (
    AgentForm,
    AlertPreferenceForm,
    CommuneSettingsForm,
    InvalidationForm,
    RegistreForm,
    SearchForm,
    ValidationForm,
    mairie_cerfa_form_class,
)
from mairie.models import ExportJob, RegistrePrint
from procuration import checks, counts
from procuration.access import portal_required
from procuration.activation import issue_activation, new_staff_username, reset_access, save_staff_changes, set_active
from procuration.exceptions import DomainError, TransitionError
from procuration.fixed_select import CompiledOnce, FixedSelect
from procuration.forms import add_domain_error
from procuration.models import AuditLog, IdentiteVerifiee, Procuration, Role, Scrutin, Status, User, Verificateur
from procuration.models.procuration import ProcurationEvent
from procuration.models.territory import de
from procuration.views import PortalLoginView

QUEUE_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 50
BATCH_MAX = 200
# The checks the queue shows in columns; the others are shown only when they fail.
QUEUE_COLUMNS = ("mandant_inscrit", "mandataire_inscrit", "plafond")
# The queue reads only the columns it shows and the checks read, as light rows (procuration.rows).
QUEUE_ROW_COLUMNS = queue_rows.COLUMNS | checks.COLUMNS


class LoginView(PortalLoginView):
    portal = "mairie"


def commune_admin_required(view):
    """The commune's administrateur only (after portal_required)."""

    @portal_required("mairie")
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_commune_admin:
            raise PermissionDenied("Réservé à l'administrateur de la commune.")
        return view(request, *args, **kwargs)

    return wrapper


def _procuration(request, pk: int) -> Procuration:
    user = request.user
    commune = getattr(user, "commune_id", None)
    shape = (user.is_authenticated and user.is_active, getattr(user, "role", None), commune is not None)
    p = _FICHE.first(shape, pk=pk, user=user.pk, commune=commune)
    if p is None:
        raise Http404
    return p


def _fiche(shape, *, pk, user, commune):
    """The fiche's queryset for a user of this shape: visible_to (the one scoping rule) applied to a
    stand-in user whose key and commune are the values' sentinels."""
    active, role, has_commune = shape
    stand_in = User(pk=user, role=role or "", is_active=active, commune_id=commune if has_commune else None)
    qs = Procuration.objects.visible_to(stand_in) if active else Procuration.objects.none()
    return qs.select_related(
        "mandant", "mandant__bureau", "mandataire", "mandataire__commune", "scrutin", "commune", "mairie_by"
    ).filter(pk=pk).order_by()


# Compiled once per process and shape (procuration/fixed_select.py CompiledOnce): 7 joined tables.
_FICHE = CompiledOnce(_fiche, "pk", "user", "commune")


def _post_only(request):
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


# ----------------------------------------------------------------- dashboard
@portal_required("mairie")
def home(request):
    user = request.user
    qs = Procuration.objects.visible_to(user)
    status_labels = dict(Status.choices)
    # The commune's figures per scrutin and effective status, kept as they change (procuration.counts:
    # one query whatever the commune's size); the figures per status are their sums, and the scrutins'
    # names are read afterwards (a few rows by pk, no join).
    rows = counts.for_commune(user.commune_id)
    by_status: dict = {}
    for row in rows:
        by_status[row["statut"]] = by_status.get(row["statut"], 0) + row["n"]
    statuses = [(s, status_labels[s], by_status[s]) for s in Status.values if s in by_status]
    scrutin_rows = Scrutin.objects.filter(pk__in={row["scrutin_id"] for row in rows} - {None})
    named = {pk: (libelle, date) for pk, libelle, date in scrutin_rows.values_list("pk", "libelle", "date_tour1")}
    table: dict = {}
    for row in rows:
        libelle, date_tour1 = named.get(row["scrutin_id"], (None, None))
        key = (date_tour1 or datetime.date.max, row["scrutin_id"] or 0)
        entry = table.setdefault(key, {"libelle": libelle or "Procurations pour une durée limitée",
                                       "counts": {}, "total": 0})
        entry["counts"][row["statut"]] = row["n"]
        entry["total"] += row["n"]
    columns = [s for s in Status.values if s in by_status]
    scrutins = [
        {"libelle": e["libelle"], "total": e["total"], "cells": [e["counts"].get(s, 0) for s in columns]}
        for _, e in sorted(table.items(), key=lambda kv: kv[0], reverse=True)
    ]
    # The first entry of the index (commune, status, autorite_at): ordered by pk too, PostgreSQL may
    # read and sort every waiting row of the commune to break ties that hardly occur.
    oldest = qs.filter(status=Status.VALIDEE_AUTORITE).select_related("mandant").order_by("autorite_at").first()
    return render(request, "mairie/home.html", {
        "statuses": statuses, "columns": [status_labels[s] for s in columns], "scrutins": scrutins,
        "waiting": by_status.get(Status.VALIDEE_AUTORITE, 0), "oldest": oldest, "total": sum(by_status.values()),
        "urgent": _waiting_before_tour(user), "ile_overdue": _ile_overdue(user), "ile_days": ILE_DECISION_DAYS,
        "alert_days": alerts.REMINDER_STEPS[0],
    })


def _waiting_before_tour(user) -> int:
    """Procurations still waiting for the mairie whose tour comes within the reminders' window (J-7)."""
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=alerts.REMINDER_STEPS[0])
    pks = set()
    for scrutin in Scrutin.objects.filter(Q(date_tour1__range=(today, horizon)) | Q(date_tour2__range=(today, horizon))):
        for tour in (1, 2):
            date = scrutin.date_tour1 if tour == 1 else scrutin.date_tour2
            if date and today <= date <= horizon:
                pks.update(alerts.waiting_for_tour(user.commune_id, scrutin, tour).values_list("pk", flat=True))
    return len(pks)


def _ile_overdue(user) -> int:
    """ILE télédossiers of the commune the maire has not decided in time (listes.rules)."""
    from listes.models import Teledossier

    return ile_decisions_overdue(Teledossier.objects.filter(commune_id=user.commune_id)).count()


# ----------------------------------------------------------------- queue
@portal_required("mairie")
def queue(request):
    form = listing.queue_form(request.user, request.GET)
    status = form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""
    # The page's pks and the count in one query (the filters and the order in the ORM), then the
    # columns shown and checked of those rows by one statement written once per process.
    page, pks = listing.queue_page(request.user, form, request.GET.get("page"), QUEUE_PAGE_SIZE)
    rows = QUEUE_ROW_COLUMNS.by_pk(Procuration, pks, pad_to=QUEUE_PAGE_SIZE)
    verdicts = checks.evaluate_page(rows)
    for p in rows:
        p.verdict = verdicts[p.pk]
        p.columns = [r for r in p.verdict.results if r.code in QUEUE_COLUMNS]
    waiting_view = status in ("", Status.VALIDEE_AUTORITE)
    return render(request, "mairie/queue.html", {
        "form": form, "page": page, "rows": rows, "rows_html": queue_rows.rows_html(rows, waiting_view),
        "filters_html": queue_rows.filters_html(form),
        "waiting_view": waiting_view, "querystring": _querystring(request), "batch_max": BATCH_MAX,
    })


def _querystring(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@portal_required("mairie")
def search(request):
    """Every status, by reference, name, NNE or date of birth; a constant number of queries a page,
    each bounded however many procurations match (listing.search_page: the count stops past
    listing.SEARCH_COUNT_CAP; the CSV export holds every match)."""
    form = listing.search_form(request.user, request.GET)
    page, more = None, False
    if form.is_bound and form.is_valid():
        page, more = listing.search_page(request.user, form, request.GET.get("page"), SEARCH_PAGE_SIZE)
    return render(request, "mairie/search.html", {
        "form": form, "page": page, "searched": page is not None, "rows": page.object_list if page is not None else [],
        "querystring": _querystring(request), "more": more,
        "cap": f"{listing.SEARCH_COUNT_CAP:,}".replace(",", "\u00a0"),  # « 1 000 », never cut
    })


def _list_export(request, kind, form):
    """Start the CSV export of what the page shows (same filters, read again by the task)."""
    from mairie.tasks import build_list

    if (resp := _post_only(request)) is not None:
        return resp
    back = reverse("mairie:queue" if kind == ExportJob.Kind.FILE else "mairie:search")
    if form.is_bound and not form.is_valid():
        messages.error(request, "L'export n'a pas été lancé : corrigez les critères.")
        return redirect(f"{back}?{_querystring(request)}")
    criteria = {name: request.GET.get(name, "") for name in form.fields if request.GET.get(name)}
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind, criteria=criteria, commune=request.user.commune, requested_by=request.user,
            format=ExportJob.Format.CSV,
        )
        AuditLog.record(request, f"mairie.{kind}_export", job, criteria=criteria)
        transaction.on_commit(partial(_enqueue_export, build_list, job.pk))
    return redirect("mairie:export", export_pk=job.pk)


@portal_required("mairie")
def queue_export(request):
    return _list_export(request, ExportJob.Kind.FILE, listing.queue_form(request.user, request.GET))


@portal_required("mairie")
def search_export(request):
    # Bound even when empty: an export without criteria is refused, as the search is.
    return _list_export(request, ExportJob.Kind.RECHERCHE, SearchForm(request.GET))


@portal_required("mairie")
def batch_validate(request):
    if (resp := _post_only(request)) is not None:
        return resp
    ids = [int(x) for x in request.POST.getlist("ids") if x.isascii() and x.isdigit()][:BATCH_MAX]  # not "²"
    back = request.POST.get("next") or reverse("mairie:queue")
    if not back.startswith(reverse("mairie:queue")):
        back = reverse("mairie:queue")
    if not ids:
        messages.error(request, "Cochez au moins une procuration à valider.")
        return redirect(back)
    done, skipped = 0, []
    for p in Procuration.objects.visible_to(request.user).filter(pk__in=ids, status=Status.VALIDEE_AUTORITE):
        # valider_mairie runs the checks again on the current data: a row that no longer passes is left alone.
        try:
            if p.valider_mairie(by=request.user):
                done += 1
        except DomainError:
            skipped.append(p.reference)
    if done:
        messages.success(request, f"{done} procuration{'s' if done > 1 else ''} validée{'s' if done > 1 else ''}.")
    if skipped:
        messages.warning(
            request, "Non validées (un contrôle n'est plus conforme ou le statut a changé) : " + ", ".join(skipped) + "."
        )
    if not done and not skipped:
        messages.info(request, "Aucune des procurations cochées n'attendait plus la mairie.")
    return redirect(back)


# ----------------------------------------------------------------- detail and decisions
@portal_required("mairie")
def detail(request, procuration_pk):
    p = _procuration(request, procuration_pk)
    return _render_detail(request, p)


# The fiche's history, by one statement written once per process (procuration/fixed_select.py): the
# rows of p.events.select_related("actor") in the model's order (at, pk), without building and
# compiling that query on every request (issue 16, docs/performance.md).
_EVENTS = FixedSelect(ProcurationEvent, ("actor",), 't."procuration_id" = %s ORDER BY t."at", t."id"')


def _render_detail(request, p, *, invalidation_form=None, validation_form=None, status=200):
    results = checks.evaluate(p)
    events = _EVENTS([p.pk])
    return render(request, "mairie/detail.html", {
        "p": p, "results": results, "all_ok": all(r.ok for r in results), "events": events,
        "plafond_ok": all(r.ok for r in results if r.code == "plafond"),
        "waiting": p.status == Status.VALIDEE_AUTORITE,
        "invalidation_form": invalidation_form or InvalidationForm(),
        "validation_form": validation_form or ValidationForm(),
    }, status=status)


@portal_required("mairie")
def validate(request, procuration_pk):
    p = _procuration(request, procuration_pk)
    if (resp := _post_only(request)) is not None:
        return resp
    form = ValidationForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, p, validation_form=form, status=400)
    try:
        changed = p.valider_mairie(by=request.user, forcer=form.cleaned_data["forcer"],
                                  motif_forcage=form.cleaned_data["motif_forcage"])
    except TransitionError as exc:
        messages.error(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)
        messages.error(request, f"La procuration n'a pas été validée : {exc.message}")
        return _render_detail(request, p, validation_form=form, status=400)
    else:
        if changed:
            messages.success(request, f"Procuration {p.reference} validée. Le mandant en est informé par courriel.")
        else:
            messages.info(request, f"La procuration {p.reference} était déjà validée.")
    return redirect("mairie:detail", procuration_pk=p.pk)


@portal_required("mairie")
def invalidate(request, procuration_pk):
    p = _procuration(request, procuration_pk)
    if (resp := _post_only(request)) is not None:
        return resp
    form = InvalidationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "La procuration n'a pas été invalidée : corrigez le formulaire.")
        return _render_detail(request, p, invalidation_form=form, status=400)
    try:
        changed = p.invalider_mairie(by=request.user, motif=form.cleaned_data["motif"],
                                     detail=form.cleaned_data["detail"].strip())
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, f"Procuration {p.reference} invalidée. Le mandant reçoit le motif par courriel.")
        else:
            messages.info(request, f"La procuration {p.reference} était déjà invalidée.")
    return redirect("mairie:detail", procuration_pk=p.pk)


# ----------------------------------------------------------------- registre
@portal_required("mairie")
def registre(request):
    user = request.user
    form = RegistreForm(request.POST if request.method == "POST" else None, commune=user.commune)
    if request.method == "POST" and form.is_valid():
        from mairie.tasks import build_registre

        data = form.cleaned_data
        with transaction.atomic():
            job = ExportJob.objects.create(
                commune=user.commune, requested_by=user, scrutin=data["scrutin"], tour=data["tour"],
                bureau=data["bureau"], format=data["format"], nouveaux_seulement=data["nouveaux_seulement"],
            )
            AuditLog.record(request, "mairie.registre_export", job, format=job.format)
            transaction.on_commit(partial(_enqueue_export, build_registre, job.pk))
        return redirect("mairie:export", export_pk=job.pk)
    jobs = ExportJob.objects.filter(commune=user.commune, kind=ExportJob.Kind.REGISTRE).select_related("scrutin", "bureau", "requested_by")[:20]
    prints = RegistrePrint.objects.filter(commune=user.commune).select_related("scrutin", "bureau", "printed_by")[:20]
    return render(request, "mairie/registre.html", {"form": form, "jobs": jobs, "prints": prints})


def _enqueue_export(task, pk):
    try:
        task.delay(pk)
    except Exception:  # broker down: the job stays "en file d'attente"; the page says so
        ExportJob.objects.filter(pk=pk, state=ExportJob.State.PENDING).update(
            error="Le service de traitement est indisponible ; relancez l'export dans quelques minutes."
        )


def _export(request, pk) -> ExportJob:
    return get_object_or_404(
        ExportJob.objects.select_related("scrutin", "bureau", "commune"), pk=pk, commune_id=request.user.commune_id
    )


@portal_required("mairie")
def export(request, export_pk):
    job = _export(request, export_pk)
    back = QueryDict(mutable=True)
    back.update(job.criteria or {})
    return render(request, "mairie/export.html", {"job": job, "refresh": not job.is_finished,
                                                  "back_query": back.urlencode()})


@portal_required("mairie")
def export_download(request, export_pk):
    job = _export(request, export_pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404("Ce fichier n'est pas (encore) disponible.")
    content_type = "application/pdf" if job.format == ExportJob.Format.PDF else "text/csv; charset=utf-8"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)


# ----------------------------------------------------------------- settings and alerts
@commune_admin_required
def parametres(request):
    commune = request.user.commune
    form = CommuneSettingsForm(request.POST if request.method == "POST" else None, initial={"auto_validation": commune.auto_validation})
    if request.method == "POST" and form.is_valid():
        value = form.cleaned_data["auto_validation"]
        if value != commune.auto_validation:
            commune.auto_validation = value
            commune.save(update_fields=["auto_validation"])
            AuditLog.record(request, "mairie.auto_validation", commune, value=value)
        messages.success(
            request,
            "Validation automatique activée." if value else "Validation automatique désactivée : chaque procuration "
            "sera contrôlée par un agent.",
        )
        return redirect("mairie:parametres")
    return render(request, "mairie/parametres.html", {"form": form, "commune": commune})


@portal_required("mairie")
def alertes(request):
    pref = alerts.preference_for(request.user)
    form = AlertPreferenceForm(request.POST if request.method == "POST" else None, initial={
        "nouvelles_arrivees": pref.nouvelles_arrivees, "rappels_scrutin": pref.rappels_scrutin,
        "inscriptions_en_retard": pref.inscriptions_en_retard,
    })
    if request.method == "POST" and form.is_valid():
        fields = ["nouvelles_arrivees", "rappels_scrutin", "inscriptions_en_retard"]
        for name in fields:
            setattr(pref, name, form.cleaned_data[name])
        pref.save(update_fields=fields)
        messages.success(request, "Vos préférences d'alerte sont enregistrées.")
        return redirect("mairie:alertes")
    return render(request, "mairie/alertes.html", {"form": form, "has_email": bool(request.user.email)})


# ----------------------------------------------------------------- agents (commune administrator)
def _agent(request, pk) -> User:
    """Another commune's agent answers 404 to anyone, admin or not; then only the admin may act."""
    agent = get_object_or_404(User, pk=pk, role=Role.AGENT_MAIRIE, commune_id=request.user.commune_id)
    if not request.user.is_commune_admin:
        raise PermissionDenied("Réservé à l'administrateur de la commune.")
    return agent


@commune_admin_required
def agents(request):
    users = User.objects.filter(role=Role.AGENT_MAIRIE, commune_id=request.user.commune_id).order_by(
        "-is_active", "last_name", "first_name"
    )
    return render(request, "mairie/agents.html", {"agents": users, "activation_hours": settings.STAFF_ACTIVATION_LINK_HOURS})


@commune_admin_required
def agent_create(request):
    form = AgentForm(request.POST if request.method == "POST" else None, commune=request.user.commune)
    if request.method == "POST" and form.is_valid():
        agent = User(role=Role.AGENT_MAIRIE, commune=request.user.commune, is_commune_admin=False)
        form.apply(agent)
        agent.username = new_staff_username(agent.first_name, agent.last_name)
        with transaction.atomic():
            agent.set_unusable_password()
            agent.save()
            issue_activation(agent)
            AuditLog.record(request, "mairie.agent_create", agent)
        messages.success(
            request,
            f"Le compte {de(str(agent))} est créé (identifiant « {agent.username} »). Un lien d'activation est envoyé "
            f"à {agent.email} : l'agent y choisit son mot de passe, puis configure sa double authentification.",
        )
        return redirect("mairie:agents")
    return render(request, "mairie/agent_form.html", {"form": form, "agent": None})


def _editable(request, agent):
    if agent.pk == request.user.pk or agent.is_commune_admin:
        raise PermissionDenied("L'administrateur de la commune est géré par l'administration nationale.")


@portal_required("mairie")
def agent_edit(request, agent_pk):
    agent = _agent(request, agent_pk)
    _editable(request, agent)
    form = AgentForm(request.POST if request.method == "POST" else None, instance=agent, commune=request.user.commune)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # Activation links go to the e-mail address: a new one is announced to the previous one.
            changed = save_staff_changes(agent, form.apply(agent))
            AuditLog.record(request, "mairie.agent_edit", agent, fields=changed)
        messages.success(request, f"Le compte {de(str(agent))} est modifié.")
        return redirect("mairie:agents")
    return render(request, "mairie/agent_form.html", {"form": form, "agent": agent})


@portal_required("mairie")
def agent_toggle(request, agent_pk):
    agent = _agent(request, agent_pk)
    if (resp := _post_only(request)) is not None:
        return resp
    _editable(request, agent)
    set_active(request, agent, not agent.is_active, action="mairie.agent")
    messages.success(request, f"Le compte {de(str(agent))} est {'réactivé' if agent.is_active else 'désactivé'}.")
    return redirect("mairie:agents")


@portal_required("mairie")
def agent_reset(request, agent_pk):
    """No password and no authenticator any more, and a new activation link to the agent (lost
    phone, forgotten password): only the agent, through the link, sets them again."""
    agent = _agent(request, agent_pk)
    if (resp := _post_only(request)) is not None:
        return resp
    _editable(request, agent)
    try:
        reset_access(request, agent, action="mairie.agent_reset")
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("mairie:agents")
    messages.success(
        request,
        f"L'accès de {agent} est réinitialisé : son mot de passe et son application d'authentification ne sont "
        f"plus acceptés. Un nouveau lien d'activation est envoyé à {agent.email}.",
    )
    return redirect("mairie:agents")


# ----------------------------------------------------------------- élus' mandates (commune administrator)
def _mandat(request, pk) -> Mandat:
    """Another commune's mandate answers 404 to anyone, admin or not; then only the admin may act."""
    mandat = get_object_or_404(Mandat.objects.of_commune(request.user.commune_id).select_related("user"), pk=pk)
    if not request.user.is_commune_admin:
        raise PermissionDenied("Réservé à l'administrateur de la commune.")
    return mandat


# Maire, adjoints, then conseillers.
FONCTION_ORDER = Case(When(fonction="maire", then=Value(0)), When(fonction="adjoint", then=Value(1)), default=Value(2),
                      output_field=IntegerField())


@commune_admin_required
def mandats(request):
    commune = request.user.commune
    rows = Mandat.objects.of_commune(commune.pk).select_related("user").annotate(
        nb_absences=Count("absences")).order_by(FONCTION_ORDER, "user__last_name", "user__first_name")
    return render(request, "mairie/mandats.html", {
        "mandats": rows, "commune": commune, "can_declare": eligible_accounts(commune).exists(),
    })


@commune_admin_required
def mandat_create(request):
    form = MandatForm(request.POST if request.method == "POST" else None, commune=request.user.commune)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                mandat = form.save()
                AuditLog.record(request, "mairie.mandat_create", mandat, user=mandat.user_id, fonction=mandat.fonction,
                                temps_travail=mandat.temps_travail)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Le mandat {de(str(mandat.user))} est déclaré "
                                      f"({mandat.get_fonction_display().lower()}).")
            return redirect("mairie:mandats")
    return render(request, "mairie/mandat_form.html", {"form": form, "mandat": None, "heading": "Déclarer un élu"})


@portal_required("mairie")
def mandat_edit(request, mandat_pk):
    mandat = _mandat(request, mandat_pk)
    name = str(mandat.user)
    form = MandatEditForm(request.POST if request.method == "POST" else None, instance=mandat)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = mandat.modifier(temps_travail=form.cleaned_data["temps_travail"],
                                      employeur=form.cleaned_data["employeur"])
            AuditLog.record(request, "mairie.mandat_edit", mandat, fields=changed)
        messages.success(request, f"Le mandat {de(name)} est modifié.")
        return redirect("mairie:mandats")
    return render(request, "mairie/mandat_form.html", {
        "form": form, "mandat": mandat, "heading": f"Modifier le mandat {de(name)}",
    })


@portal_required("mairie")
def mandat_end(request, mandat_pk):
    """End a mandate: deleted while no absence was declared under it, refused otherwise (the
    absences stay in the élu's history: elus.models.Mandat.terminer)."""
    mandat = _mandat(request, mandat_pk)
    if (resp := _post_only(request)) is not None:
        return resp
    try:
        with transaction.atomic():
            AuditLog.record(request, "mairie.mandat_end", mandat, user=mandat.user_id, fonction=mandat.fonction)
            mandat.terminer()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Le mandat {de(str(mandat.user))} est supprimé.")
    return redirect("mairie:mandats")


# ----------------------------------------------------------------- paper CERFA keyed in by the mairie
@portal_required("mairie")
def cerfa(request):
    """Key a paper CERFA into the register. The paper carries the authority's validation: one domain
    call (procuration.cerfa.enregistrer_cerfa -> Procuration.etablir) records it « validée par
    l'autorité » with the authority named on the paper; it then waits in the queue for the usual
    mairie decision (or is validated automatically when the commune chose so)."""
    from procuration.cerfa import enregistrer_cerfa

    form_class = mairie_cerfa_form_class()
    form = form_class(request.POST if request.method == "POST" else None, commune=request.user.commune)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identite = IdentiteVerifiee(
            Verificateur.MAIRIE, by=request.user, autorite=data["autorite"], date_etablissement=data["date_etablissement"],
        )
        try:
            with transaction.atomic():
                p = enregistrer_cerfa(form, identite)
                AuditLog.record(request, "mairie.cerfa", p, modele=data.get("modele"))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if p.status == Status.ANNULEE:  # L.73: the paper was established over the mandataire's plafond
                messages.warning(request, f"Formulaire enregistré sous la référence {p.reference} : la procuration est "
                                          f"nulle. {p.get_annulation_motif_display()}. {p.motif_detail} Le mandant "
                                          "en est informé s'il a donné son adresse électronique.")
            elif p.status == Status.VALIDEE_MAIRIE:
                messages.success(request, f"Formulaire enregistré sous la référence {p.reference} et validé "
                                          "automatiquement : tous les contrôles sont conformes.")
            else:
                messages.success(request, f"Formulaire enregistré sous la référence {p.reference}. "
                                          "Contrôlez-le puis validez-le.")
            return redirect("mairie:detail", procuration_pk=p.pk)
    return render(request, "mairie/cerfa.html", {"form": form})
