from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from listes import documents, rules
from listes.forms import (
    AgentCreateForm,
    CommentForm,
    ConfigForm,
    DocumentForm,
    IleForm,
    RcoForm,
    RefuseForm,
    SearchForm,
)
from listes.models import Demarche, Document, Etat, ListesCommuneConfig, Piece, Teledossier, normalize_numero
from listes.retention import files_discarded_unless_committed
from procuration.access import portal_required
from procuration.activation import issue_activation, new_staff_username, reset_access, set_active
from procuration.exceptions import DomainError
from procuration.models import AuditLog, Electeur, Role, User
from procuration.views import PortalLoginView

PAGE_SIZE = 20
usager_required = portal_required("mandant", roles=[Role.MANDANT])
agent_required = portal_required("listes")


class LoginView(PortalLoginView):
    portal = "listes"


def _file_response(field, filename: str, content_type: str):
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ====================================================================== usager (espace personnel)


@usager_required
def usager_home(request):
    """Espace personnel of the usager (FranceConnect): dossiers and the pièces kept for reuse."""
    dossiers = Teledossier.objects.visible_to(request.user).select_related("commune")
    pieces = Piece.objects.filter(owner=request.user)
    return render(request, "listes/usager_home.html",
                  {"dossiers": dossiers, "pieces": pieces, "pieces_days": settings.LISTES_PIECES_RETENTION_DAYS})


def _file_dossier(request, demarche: str):
    user = request.user
    form_class = IleForm if demarche == Demarche.ILE else RcoForm
    template = "listes/usager_ile_form.html" if demarche == Demarche.ILE else "listes/usager_rco_form.html"
    blocking = None
    scrutin = None
    try:
        if not (user.birthdate and user.last_name and user.first_name and user.gender):
            raise DomainError("Votre identité transmise par FranceConnect est incomplète : adressez-vous à votre mairie.")
        rules.check_teledossiers_today(user)
        if demarche == Demarche.RCO:  # the ILE's deadline and age depend on the commune: IleForm.clean
            rules.check_rco_age(user.birthdate)
    except DomainError as e:
        blocking = e.message
    form = form_class(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and blocking is None and form.is_valid():
        data = form.cleaned_data
        fields = dict(
            demarche=demarche,
            commune=data["commune"],
            nom=user.last_name.upper(),
            prenoms=user.first_name,
            sexe=user.gender,
            date_naissance=user.birthdate,
            lieu_naissance=data["lieu_naissance"],
            departement_naissance=data["departement_naissance"],
            adresse=data["adresse"],
            code_postal=data["code_postal"],
            ville=data["ville"],
            telephone=data["telephone"],
        )
        if demarche == Demarche.ILE:
            scrutin = form.scrutin
            fields.update(
                nom_usage=data["nom_usage"], motif_rattachement=data["motif_rattachement"], scrutin=scrutin,
                nationalite=form.listes.nationalite, complementaire_municipales=form.listes.complementaire_municipales,
                complementaire_europeennes=form.listes.complementaire_europeennes, **form.declarations,
            )
        else:
            fields.update(
                nationalite_francaise=True, pere_nom=data["pere_nom"], pere_prenoms=data["pere_prenoms"],
                mere_nom=data["mere_nom"], mere_prenoms=data["mere_prenoms"],
            )
        # The files saved here are deleted again if this transaction does not commit (listes.retention).
        with files_discarded_unless_committed() as saved:
            pieces = list(form.reused_pieces)
            for kind, upload, mime in form.new_pieces:
                piece = Piece(
                    owner=user, kind=kind, original_name=upload.name[:200], content_type=mime, size=upload.size
                )
                piece.file.save(upload.name, upload, save=False)
                saved.append(piece.file.name)
                piece.save()
                pieces.append(piece)
            try:
                dossier = Teledossier.deposer(usager=user, pieces=pieces, **fields)
            except DomainError as e:  # the cap, reached by a filing at the same moment
                transaction.set_rollback(True)
                blocking = e.message
        if blocking is not None:  # rendered once the transaction has rolled back (the page reads the database)
            return render(request, template, {"form": form, "blocking": blocking, "scrutin": scrutin})
        messages.success(request, f"Votre démarche a été transmise à la mairie. Numéro de télédossier : {dossier.numero}.")
        return redirect("listes:usager_dossier", numero=dossier.numero)
    return render(request, template, {"form": form, "blocking": blocking, "scrutin": getattr(form, "scrutin", None)})


@usager_required
def usager_ile_new(request):
    return _file_dossier(request, Demarche.ILE)


@usager_required
def usager_rco_new(request):
    return _file_dossier(request, Demarche.RCO)


@usager_required
def usager_dossier(request, numero):
    d = get_object_or_404(Teledossier.objects.visible_to(request.user).select_related("commune"), numero=numero)
    return render(
        request, "listes/usager_dossier.html",
        {"d": d, "comments": d.comments(), "documents": d.documents.all(), "pieces": d.pieces.all(),
         "teledossiers_days": settings.LISTES_TELEDOSSIERS_RETENTION_DAYS},
    )


@usager_required
def usager_document(request, numero, pk):
    d = get_object_or_404(Teledossier.objects.visible_to(request.user), numero=numero)
    doc = get_object_or_404(d.documents, pk=pk)
    return _file_response(doc.file, f"{doc.title} - {d.numero}.pdf", "application/pdf")


@usager_required
def usager_piece(request, pk):
    piece = get_object_or_404(Piece, pk=pk, owner=request.user)
    return _file_response(piece.file, piece.original_name, piece.content_type)


# ====================================================================== guichet de suivi (agents)


def _dossier_for_agent(request, numero) -> Teledossier:
    return get_object_or_404(Teledossier.objects.visible_to(request.user).select_related("commune"), numero=numero)


@agent_required
def home(request):
    """Télédossiers of the commune by type, searchable, filtered, paginated. Closed ones stay findable."""
    form, demarche, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # The maire decides within 5 days (listes.rules): days left on each waiting ILE, overdue ones counted.
    now = timezone.now()
    page.object_list = list(page.object_list)
    for d in page.object_list:
        d.delai = rules.ile_decision_delai(d, now)
    overdue = rules.ile_decisions_overdue(Teledossier.objects.visible_to(request.user), now).count()
    counts = {
        value: Teledossier.objects.visible_to(request.user).filter(demarche=value).exclude(etat=Etat.CLOS).count()
        for value in Demarche.values
    }
    params = request.GET.copy()
    params.pop("page", None)
    export = params.copy()
    export["demarche"] = demarche
    tabs = [
        {"value": value, "label": label, "count": counts[value], "active": value == demarche}
        for value, label in Demarche.choices
    ]
    return render(
        request, "listes/home.html",
        {"form": form, "page": page, "demarche": demarche, "tabs": tabs, "querystring": params.urlencode(),
         "export_query": export.urlencode(), "overdue": overdue, "ile_days": rules.ILE_DECISION_DAYS},
    )


def _filtered(request):
    """The list's filters (démarche, état, numéro or name), on the agent's télédossiers only: the
    page and its CSV read the same rows."""
    demarche = request.GET.get("demarche") or Demarche.ILE
    if demarche not in Demarche.values:
        demarche = Demarche.ILE
    form = SearchForm(request.GET or None)
    qs = Teledossier.objects.visible_to(request.user).filter(demarche=demarche)
    etat, q = "", ""
    if form.is_valid():
        etat, q = form.cleaned_data["etat"], form.cleaned_data["q"].strip()
    if q:
        numero = normalize_numero(q)
        qs = qs.filter(Q(numero=numero) | Q(nom__icontains=q) | Q(nom_usage__icontains=q) | Q(prenoms__icontains=q))
    elif etat == "":
        qs = qs.exclude(etat=Etat.CLOS)
    if etat == "retard":
        qs = rules.ile_decisions_overdue(qs)
    if etat in Etat.values:
        qs = qs.filter(etat=etat)
    return form, demarche, qs.order_by("-created_at", "-pk")


CSV_HEADER = [
    "Numéro", "Démarche", "État", "Décision", "Déposé le", "Clos le", "Nom de naissance", "Nom d'usage", "Prénoms",
    "Date de naissance", "Lieu de naissance", "Adresse", "Code postal", "Ville", "Courriel", "Téléphone",
]


@agent_required
def export_csv(request):
    """The filtered list as a CSV file (cells neutralised by procuration.spreadsheet)."""
    import io

    from procuration.spreadsheet import safe_csv_writer

    _, demarche, qs = _filtered(request)
    out = io.StringIO()
    writer = safe_csv_writer(out, delimiter=";")
    writer.writerow(CSV_HEADER)
    for d in qs.iterator(chunk_size=500):
        writer.writerow([
            d.numero, d.get_demarche_display(), d.get_etat_display(), d.get_decision_display() if d.decision else "",
            timezone.localtime(d.created_at).strftime("%d/%m/%Y %H:%M"),
            timezone.localtime(d.closed_at).strftime("%d/%m/%Y %H:%M") if d.closed_at else "",
            d.nom.upper(), d.nom_usage.upper(), d.prenoms, f"{d.date_naissance:%d/%m/%Y}", d.lieu_naissance,
            d.adresse, d.code_postal, d.ville, d.email, d.telephone,
        ])
    AuditLog.record(request, "listes.export_csv", None, demarche=demarche)
    response = HttpResponse(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="teledossiers-{demarche}-{stamp}.csv"'
    return response


@agent_required
def dossier(request, numero):
    d = _dossier_for_agent(request, numero)
    context = {
        "d": d,
        "delai": rules.ile_decision_delai(d),
        "events": d.events.select_related("actor"),
        "documents": d.documents.all(),
        "pieces": d.pieces.all(),
        "recevoir_form": CommentForm(prefix="recevoir"),
        "accepter_form": CommentForm(prefix="accepter"),
        "clore_form": CommentForm(prefix="clore"),
        "refuse_form": RefuseForm(prefix="refuser"),
        "document_form": DocumentForm(),
        "can": {name: d.can(name) for name in ("recevoir", "clore", "accepter", "refuser")},
        "has_attestation_rco": d.documents.filter(kind=Document.Kind.ATTESTATION_RECENSEMENT).exists(),
    }
    return render(request, "listes/dossier.html", context)


@require_POST
@agent_required
def transition(request, numero, action):
    d = _dossier_for_agent(request, numero)
    if action not in ("recevoir", "clore", "accepter", "refuser"):
        raise Http404()
    form = (RefuseForm if action == "refuser" else CommentForm)(request.POST, prefix=action)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("listes:dossier", numero=d.numero)
    try:
        if action == "refuser":
            changed = d.refuser(by=request.user, motif=form.cleaned_data["motif"], comment=form.cleaned_data["comment"])
        else:
            changed = getattr(d, action)(by=request.user, comment=form.cleaned_data["comment"])
    except DomainError as e:
        messages.error(request, e.message)
    else:
        if not changed:
            messages.info(request, f"Le dossier est déjà à l'état « {d.get_etat_display()} » : rien n'a changé.")
            return redirect("listes:dossier", numero=d.numero)
        AuditLog.record(request, f"listes.{action}", d)
        if action == "accepter":
            messages.success(request, f"Inscription acceptée : {d.prenoms} {d.nom} est inscrit(e) (NNE {d.electeur.nne}).")
        else:
            messages.success(request, f"Dossier {d.numero} : {d.get_etat_display()}. L'usager a été informé.")
    return redirect("listes:dossier", numero=d.numero)


@require_POST
@agent_required
def document_add(request, numero):
    d = _dossier_for_agent(request, numero)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            documents.add_document(d, by=request.user, title=form.cleaned_data["title"], upload=form.cleaned_data["file"])
        except DomainError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, "Le document a été déposé dans l'espace de l'usager.")
            return redirect("listes:dossier", numero=d.numero)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("listes:dossier", numero=d.numero)


@require_POST
@agent_required
def attestation_rco(request, numero):
    d = _dossier_for_agent(request, numero)
    try:
        documents.attestation_recensement(d, by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "L'attestation de recensement a été déposée dans l'espace de l'usager.")
    return redirect("listes:dossier", numero=d.numero)


@agent_required
def dossier_zip(request, numero):
    d = _dossier_for_agent(request, numero)
    AuditLog.record(request, "listes.export_zip", d)
    response = HttpResponse(documents.dossier_zip(d), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="teledossier_{d.numero}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@agent_required
def agent_piece(request, numero, pk):
    d = _dossier_for_agent(request, numero)
    piece = get_object_or_404(d.pieces, pk=pk)
    AuditLog.record(request, "listes.piece_download", d, piece=piece.pk)
    return _file_response(piece.file, piece.original_name, piece.content_type)


@agent_required
def agent_document(request, numero, pk):
    d = _dossier_for_agent(request, numero)
    doc = get_object_or_404(d.documents, pk=pk)
    return _file_response(doc.file, f"{doc.title} - {d.numero}.pdf", "application/pdf")


@agent_required
def electeurs(request):
    """The commune's electoral list (REU extract), where accepted inscriptions appear."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    qs = Electeur.objects.filter(commune_id=request.user.commune_id, inscrit=True)
    if q:
        qs = qs.filter(Q(nom__icontains=q) | Q(prenoms__icontains=q) | Q(nne=q))
    page = Paginator(qs.order_by("nom", "prenoms"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "listes/electeurs.html", {"page": page, "q": q})


# ====================================================================== administrateur de la commune


def _require_admin(request):
    if not request.user.is_commune_admin:
        raise PermissionDenied("Réservé à l'administrateur du guichet de la commune.")


@agent_required
def users(request):
    _require_admin(request)
    form = AgentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            agent = User(
                username=new_staff_username(data["first_name"], data["last_name"]), first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"], role=Role.AGENT_LISTES,
                commune_id=request.user.commune_id, is_commune_admin=False,
            )
            agent.set_unusable_password()
            agent.save()
            issue_activation(agent)
            AuditLog.record(request, "listes.agent_create", agent, username=agent.username)
        messages.success(
            request,
            f"Le compte « {agent.username} » a été créé. Un lien d'activation est envoyé à {agent.email} : "
            "l'utilisateur y choisit son mot de passe, puis configure la double authentification.",
        )
        return redirect("listes:users")
    agents = User.objects.filter(role=Role.AGENT_LISTES, commune_id=request.user.commune_id).order_by("last_name")
    return render(request, "listes/users.html", {"form": form, "agents": agents})


@require_POST
@agent_required
def user_toggle(request, pk):
    _require_admin(request)
    agent = get_object_or_404(User, pk=pk, role=Role.AGENT_LISTES, commune_id=request.user.commune_id)
    try:  # the one rule of disabling a staff account (its sessions end for good, nobody disables their own)
        set_active(request, agent, not agent.is_active, action="listes.agent")
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("listes:users")
    messages.success(request, f"Compte « {agent.username} » {'réactivé' if agent.is_active else 'désactivé'}.")
    return redirect("listes:users")


@require_POST
@agent_required
def user_reset(request, pk):
    """No password and no authenticator any more, and a new activation link to the agent."""
    _require_admin(request)
    agent = get_object_or_404(User, pk=pk, role=Role.AGENT_LISTES, commune_id=request.user.commune_id)
    if agent.is_commune_admin:  # the admin's own account included
        messages.error(request, "L'accès d'un administrateur est réinitialisé par l'administration nationale.")
        return redirect("listes:users")
    try:
        reset_access(request, agent, action="listes.agent_reset")
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("listes:users")
    messages.success(
        request, f"L'accès de « {agent.username} » est réinitialisé : un nouveau lien d'activation est envoyé à "
        f"{agent.email}.",
    )
    return redirect("listes:users")


@agent_required
def config(request):
    _require_admin(request)
    cfg, _ = ListesCommuneConfig.objects.get_or_create(commune_id=request.user.commune_id)
    form = ConfigForm(
        request.POST or None, request.FILES or None,
        initial={"signataire": cfg.signataire, "qualite_signataire": cfg.qualite_signataire},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cfg.signataire = data["signataire"]
        cfg.qualite_signataire = data["qualite_signataire"]
        for name in ("tampon", "signature"):
            if data.get(name):
                getattr(cfg, name).save(data[name].name, data[name], save=False)
        cfg.save()
        AuditLog.record(request, "listes.config", cfg)
        messages.success(request, "La configuration des attestations a été enregistrée.")
        return redirect("listes:config")
    return render(request, "listes/config.html", {"form": form, "cfg": cfg})


@agent_required
def config_image(request, name):
    _require_admin(request)
    if name not in ("tampon", "signature"):
        raise Http404()
    cfg = get_object_or_404(ListesCommuneConfig, commune_id=request.user.commune_id)
    field = getattr(cfg, name)
    if not field:
        raise Http404()
    with field.open("rb") as fh:
        raw = fh.read()
    mime = "image/png" if raw.startswith(b"\x89PNG") else "image/jpeg"
    response = HttpResponse(raw, content_type=mime)
    response["Cache-Control"] = "private, no-store"
    return response
