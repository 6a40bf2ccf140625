"""The national back office (DSFR): communes with their population, bureaux de vote, scrutins and
their scope, police and gendarmerie units with their officers, commune administrators, national
figures, and the import of a commune's register extract.

Door: the national administrator only (role admin_national), password + TOTP
(procuration/access.py, portal « backoffice »): anonymous → its login page, other roles → 403."""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from backoffice import charts
from backoffice.forms import (
    BureauForm,
    CommuneAdminEditForm,
    CommuneForm,
    CommuneSearchForm,
    ImportForm,
    MandatForm,
    OfficerEditForm,
    OfficerForm,
    ScrutinForm,
    StaffAccountForm,
    UniteEtablissementForm,
    etablissement_label,
)
from elus.models import Mandat
from procuration import counts, reu
from procuration.access import portal_required
from procuration.activation import issue_activation, reset_access, save_staff_changes, set_active
from procuration.exceptions import DomainError
from procuration.models import AuditLog, Commune, Procuration, Role, Scrutin, Status, User
from procuration.models.accounts import unite_a_l_etranger
from procuration.models.territory import de
from procuration.views import PortalLoginView

DAYS = 30
PAGE_SIZE = 50


class LoginView(PortalLoginView):
    portal = "backoffice"


national_admin_required = portal_required("backoffice")


def _commune(pk: int) -> Commune:
    return get_object_or_404(Commune, pk=pk)


# The staff accounts this back office creates and manages: the officers and agents of police and
# gendarmerie (« unités ») and the commune administrators (« commune »). Any other account, the
# national administrators' own included, is not found here (404).
OFFICERS = Q(role=Role.POLICIER)
COMMUNE_ADMINS = Q(role__in=[Role.AGENT_MAIRIE, Role.AGENT_LISTES], is_commune_admin=True, commune__isnull=False)


def _account(pk: int) -> User:
    """An officer or a commune administrator (the one access helper of the account actions)."""
    return get_object_or_404(User.objects.filter(OFFICERS | COMMUNE_ADMINS), pk=pk)


def _account_page_url(account: User) -> str:
    """The page that lists the account: the units for an officer, the commune for its administrator."""
    if account.role == Role.POLICIER:
        return reverse("backoffice:unites")
    return reverse("backoffice:commune", args=[account.commune_id])


def _account_page(account: User):
    return redirect(_account_page_url(account))


# ----------------------------------------------------------------- figures
@national_admin_required
def home(request):
    labels = dict(Status.choices)
    by_status: dict = {}
    for row in counts.national():  # kept as they change (procuration.counts): flat in the procurations
        by_status[row["statut"]] = by_status.get(row["statut"], 0) + row["n"]
    statuses = [(labels[s], by_status[s]) for s in Status.values if s in by_status]
    today = timezone.localdate()
    start = today - datetime.timedelta(days=DAYS - 1)
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    per_day = dict(
        Procuration.objects.filter(submitted_at__gte=since)
        .annotate(day=TruncDate("submitted_at")).values_list("day").annotate(n=Count("pk")).order_by()
    )
    days = [start + datetime.timedelta(days=i) for i in range(DAYS)]
    rows = [(d.strftime("%d/%m"), per_day.get(d, 0)) for d in days]
    return render(request, "backoffice/home.html", {
        "statuses": statuses, "total": sum(by_status.values()), "chart": charts.bars(rows),
        "days": [(d, per_day.get(d, 0)) for d in days], "start": start, "today": today,
        "submitted": sum(per_day.values()),
        "counts": {"communes": Commune.objects.count(), "scrutins": Scrutin.objects.count(),
                   "officiers": User.objects.filter(role=Role.POLICIER).count()},
    })


# ----------------------------------------------------------------- communes
@national_admin_required
def communes(request):
    form = CommuneSearchForm(request.GET or None)
    qs = Commune.objects.annotate(nb_bureaux=Count("bureaux", distinct=True)).order_by("nom")
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"].strip()
        qs = qs.filter(Q(nom__icontains=q) | Q(code_insee__startswith=q))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "backoffice/communes.html", {"form": form, "page": page, "params": params.urlencode()})


@national_admin_required
def commune_new(request):
    form = CommuneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        commune = form.save()
        AuditLog.record(request, "backoffice.commune_create", commune)
        messages.success(request, f"Commune {commune.de_nom} créée.")
        return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/commune_form.html", {"form": form, "commune": None})


@national_admin_required
def commune(request, commune_pk: int):
    commune = _commune(commune_pk)
    form = CommuneForm(request.POST or None, instance=commune)
    if request.method == "POST" and form.is_valid():
        form.save()
        AuditLog.record(request, "backoffice.commune_update", commune, changed=form.changed_data)
        messages.success(request, "Commune enregistrée.")
        return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/commune.html", {
        "commune": commune, "form": form, "bureaux": commune.bureaux.annotate(nb=Count("electeurs")),
        "admins": commune.agents.filter(COMMUNE_ADMINS).order_by("last_name"),
        "mandats": Mandat.objects.filter(user__commune=commune).select_related("user").order_by("fonction"),
        "electeurs": commune.electeurs.filter(inscrit=True).count(),
    })


@national_admin_required
def bureau_new(request, commune_pk: int):
    commune = _commune(commune_pk)
    form = BureauForm(request.POST or None, commune=commune)
    if request.method == "POST" and form.is_valid():
        bureau = form.save(commit=False)
        bureau.commune = commune
        bureau.save()
        AuditLog.record(request, "backoffice.bureau_create", bureau)
        messages.success(request, f"Bureau de vote n° {bureau.numero} ajouté.")
        return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/bureau_form.html", {"form": form, "commune": commune})


ADMIN_ROLES = [(Role.AGENT_MAIRIE, "procurations (espace mairie)"), (Role.AGENT_LISTES, "listes électorales (guichet de suivi)")]


@national_admin_required
def commune_admin_new(request, commune_pk: int):
    commune = _commune(commune_pk)
    form = StaffAccountForm(request.POST or None)
    role = request.POST.get("role") if request.method == "POST" else Role.AGENT_MAIRIE
    if role not in dict(ADMIN_ROLES):
        role = Role.AGENT_MAIRIE
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.role, user.commune, user.is_commune_admin = role, commune, True
        with transaction.atomic():
            user.set_unusable_password()
            user.save()
            issue_activation(user)  # the person alone chooses the password and enrols TOTP
            AuditLog.record(request, "backoffice.commune_admin_create", user, role=role)
        messages.success(
            request, f"Compte {de(str(user))} créé. Un lien d'activation est envoyé à {user.email} : la personne y choisit "
            "son mot de passe, puis configure sa double authentification.",
        )
        return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/commune_admin_form.html", {
        "form": form, "commune": commune, "roles": ADMIN_ROLES, "role": role,
    })


@national_admin_required
def mandat_new(request, commune_pk: int):
    commune = _commune(commune_pk)
    form = MandatForm(request.POST or None, commune=commune)
    if request.method == "POST" and form.is_valid():
        mandat = form.save()
        AuditLog.record(request, "backoffice.mandat_create", mandat, fonction=mandat.fonction)
        messages.success(request, f"{mandat.user} est déclaré(e) {mandat.get_fonction_display().lower()}.")
        return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/mandat_form.html", {"form": form, "commune": commune})


@national_admin_required
def commune_import(request, commune_pk: int):
    commune = _commune(commune_pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = reu.import_extract(commune, form.cleaned_data["fichier"].read())
        except DomainError as e:
            form.add_error(e.field, e.message)
        else:
            if report.ok:
                AuditLog.record(request, "backoffice.reu_import", commune, lines=report.lines, created=report.created,
                                updated=report.updated, radiated=report.radiated,
                                deaths_and_radiations=report.deaths_and_radiations, voided=report.voided)
                deaths = (f" Décès et radiations : {report.deaths_and_radiations} ; procurations annulées : "
                          f"{report.voided} (les mandants sont prévenus)." if report.deaths_and_radiations else "")
                messages.success(
                    request, f"Extrait importé. Électeurs ajoutés : {report.created} ; mis à jour : {report.updated} ; "
                    f"radiés (absents de l'extrait) : {report.radiated}.{deaths}",
                )
                return redirect("backoffice:commune", commune.pk)
    return render(request, "backoffice/import.html", {"form": form, "commune": commune, "report": report})


# ----------------------------------------------------------------- scrutins
@national_admin_required
def scrutins(request):
    qs = Scrutin.objects.prefetch_related("communes").order_by("-date_tour1")
    return render(request, "backoffice/scrutins.html", {"scrutins": qs})


@national_admin_required
def scrutin_new(request):
    return _scrutin_form(request, Scrutin())


@national_admin_required
def scrutin(request, scrutin_pk: int):
    return _scrutin_form(request, get_object_or_404(Scrutin, pk=scrutin_pk))


def _scrutin_form(request, scrutin):
    form = ScrutinForm(request.POST or None, instance=scrutin)
    if request.method == "POST" and form.is_valid():
        created = scrutin.pk is None
        with transaction.atomic():
            scrutin = form.save()
            AuditLog.record(request, "backoffice.scrutin_create" if created else "backoffice.scrutin_update", scrutin,
                            communes=[c.code_insee for c in form.cleaned_data["communes"]])
        messages.success(request, f"Scrutin « {scrutin.libelle} » enregistré.")
        return redirect("backoffice:scrutins")
    return render(request, "backoffice/scrutin_form.html", {"form": form, "scrutin": scrutin})


# ----------------------------------------------------------------- police and gendarmerie
@national_admin_required
def unites(request):
    return _unites_page(request)


def _unites_page(request, error: str = "", status: int = 200):
    """Each unit with its officers, and the form that says where the procurations it validates are
    established (its officers' accounts agree, or `mixed`: set it once to align them)."""
    officers = User.objects.filter(OFFICERS).order_by("unite", "last_name", "first_name")
    grouped: dict[str, list] = {}
    for officer in officers:
        grouped.setdefault(officer.unite, []).append(officer)
    units = []
    for n, (name, members) in enumerate(sorted(grouped.items(), key=lambda item: item[0] or "Sans unité"), start=1):
        abroad = {o.unite_a_l_etranger for o in members}
        form = None
        if name:  # officers without a unit are set one by one in /admin/
            form = UniteEtablissementForm(initial={"unite": name, "unite_a_l_etranger": True in abroad},
                                          auto_id=f"id_unite{n}_%s")
        units.append({"name": name or "Sans unité", "officers": members, "form": form, "mixed": len(abroad) > 1,
                      "etablissement": etablissement_label(True in abroad)})
    return render(request, "backoffice/unites.html", {"units": units, "error": error}, status=status)


@require_POST
@national_admin_required
def unite_etablissement(request):
    """Declare a unit abroad (a consulate, an embassy) or in France: every officer's account of the
    unit at once, one audit entry per account changed. Procurations already validated keep theirs."""
    form = UniteEtablissementForm(request.POST)
    if not form.is_valid():
        return _unites_page(request, error=" ".join(e for errors in form.errors.values() for e in errors), status=400)
    name, abroad = form.cleaned_data["unite"], form.cleaned_data["unite_a_l_etranger"]
    officers = User.objects.filter(role=Role.POLICIER, unite=name)
    if not officers.exists():
        raise Http404
    with transaction.atomic():
        changed = list(officers.select_for_update().exclude(unite_a_l_etranger=abroad).order_by("pk"))
        for officer in changed:
            officer.unite_a_l_etranger = abroad
            officer.save(update_fields=["unite_a_l_etranger"])
            AuditLog.record(request, "backoffice.unite_etablissement", officer, unite=name, unite_a_l_etranger=abroad)
    if changed:
        messages.success(request, f"Unité « {name} » : les procurations que valident ses officiers et agents sont "
                                  f"désormais établies {etablissement_label(abroad)}.")
    else:
        messages.info(request, f"Unité « {name} » : déjà déclarée {etablissement_label(abroad)}, rien n'a changé.")
    return redirect("backoffice:unites")


@national_admin_required
def officier_new(request):
    unite = request.GET.get("unite", "")[:200]
    form = OfficerForm(request.POST or None,
                       initial={"unite": unite, "unite_a_l_etranger": bool(unite and unite_a_l_etranger(unite))})
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.role = Role.POLICIER
        with transaction.atomic():
            user.set_unusable_password()
            user.save()
            issue_activation(user)  # the officer alone chooses the password and enrols TOTP
            AuditLog.record(request, "backoffice.officier_create", user, unite=user.unite,
                            unite_a_l_etranger=user.unite_a_l_etranger)
        messages.success(
            request, f"{user.get_qualite_display()} {user} habilité(e) dans l'unité « {user.unite} ». Un lien "
            f"d'activation est envoyé à {user.email} : la personne y choisit son mot de passe, puis configure sa "
            "double authentification.",
        )
        return redirect("backoffice:unites")
    return render(request, "backoffice/officier_form.html", {"form": form})


# ----------------------------------------------------------------- staff accounts (officers, commune administrators)
@national_admin_required
def compte_edit(request, pk: int):
    """An officer's or a commune administrator's details, with the fields and checks of its creation
    form (an officer's unit in France or abroad follows the unit), the identifiant aside. A new
    e-mail address is announced to the previous one (procuration.activation.save_staff_changes, as
    the mairie does for its agents); each save is in the audit trail, with the names of the fields
    changed; nothing changed, nothing written."""
    account = _account(pk)
    name = str(account)  # the form sets its values on the account before they are saved (or refused)
    form_class = OfficerEditForm if account.role == Role.POLICIER else CommuneAdminEditForm
    form = form_class(request.POST if request.method == "POST" else None, instance=account)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = save_staff_changes(account, form_class.Meta.fields)
            if changed:
                AuditLog.record(request, "backoffice.compte_edit", account, fields=changed)
        if not changed:
            messages.info(request, f"Le compte {de(name)} n'a pas changé : rien n'est enregistré.")
            return _account_page(account)
        message = f"Le compte {de(str(account))} est modifié."
        if "email" in changed:
            message += " L'ancienne adresse électronique est prévenue du changement."
            if account.is_active and not account.has_usable_password():  # not activated yet, or reset
                message += (" Le lien d'activation déjà envoyé ne s'ouvre plus : « Réinitialiser l'accès » en "
                            f"envoie un nouveau à {account.email}.")
        messages.success(request, message)
        return _account_page(account)
    return render(request, "backoffice/compte_form.html", {
        "form": form, "account": account, "de_name": de(name), "back": _account_page_url(account),
    })


@require_POST
@national_admin_required
def compte_activation(request, pk: int):
    """Disable (active=0) or enable again (active=1) an officer's or a commune administrator's
    account: the person's sessions end at their next request (procuration.activation.set_active)."""
    account = _account(pk)
    active = {"1": True, "0": False}.get(request.POST.get("active", ""))
    if active is None:
        return HttpResponseBadRequest("active : 1 (réactiver) ou 0 (désactiver).")
    try:
        set_active(request, account, active, action="backoffice.compte")
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"Le compte {de(str(account))} est {'réactivé' if active else 'désactivé'}.")
    return _account_page(account)


@require_POST
@national_admin_required
def compte_reset(request, pk: int):
    """Lost phone, forgotten password: the account's password and TOTP authenticators are removed
    and a new activation link is e-mailed (procuration.activation.issue_activation, as the mairie and
    the units do for their agents). Removing the authenticators alone would let whoever knows the
    password enrol their own TOTP: one factor for a staff account. The person's sessions end at the
    next request (the password changed)."""
    account = _account(pk)
    try:
        reset_access(request, account, action="backoffice.compte_reset")
    except DomainError as e:
        messages.error(request, e.message)
        return _account_page(account)
    messages.success(
        request, f"L'accès {de(str(account))} est réinitialisé : son mot de passe et son application "
        f"d'authentification ne sont plus acceptés. Un nouveau lien d'activation est envoyé à {account.email}.",
    )
    return _account_page(account)
