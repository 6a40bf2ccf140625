"""The public pages every user may read without logging in: help (FAQ), contact form, legal notices,
personal data, cookies, site map. The retention periods shown are read from the settings, so the
page says what the product really does."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path
from dsfr.forms import DsfrBaseForm

from procuration import emails, ratelimit
from procuration.expiry import DEMANDE_LIFETIME_MONTHS
from procuration.models import Commune
from procuration.network import client_ip
from procuration.reference import InvalidReference, normalize_reference

RATE_LIMITED = ("Vous avez envoyé trop de messages en peu de temps. Réessayez dans une heure, ou contactez "
                "directement votre mairie.")


class ContactForm(DsfrBaseForm):
    commune = forms.ModelChoiceField(
        label="À qui écrivez-vous ?", queryset=Commune.objects.order_by("nom"), required=False,
        empty_label="Au support national (question sur le site, problème technique)",
        help_text="Choisissez votre commune pour écrire à sa mairie (procuration, inscription sur les listes, "
                  "recensement).",
        error_messages={"invalid_choice": "Cette commune n'existe pas : choisissez-la dans la liste."},
    )
    nom = forms.CharField(label="Vos nom et prénom", max_length=150,
                          error_messages={"required": "Indiquez vos nom et prénom."})
    email = forms.EmailField(
        label="Votre adresse électronique", help_text="Pour vous répondre. Format attendu : nom@domaine.fr",
        error_messages={"required": "Indiquez votre adresse électronique.",
                        "invalid": "Cette adresse électronique n'est pas valide. Format attendu : nom@domaine.fr"},
    )
    reference = forms.CharField(
        label="Référence de votre procuration (facultatif)", required=False, max_length=12,
        help_text="6 caractères, par exemple K7M2QX. Elle figure dans « Mes procurations ».",
    )
    sujet = forms.CharField(label="Objet", max_length=150, error_messages={"required": "Indiquez l'objet de votre message."})
    message = forms.CharField(
        label="Votre message", widget=forms.Textarea(attrs={"rows": 8}), max_length=3000,
        help_text="3 000 caractères au plus. N'indiquez pas de numéro de pièce d'identité.",
        error_messages={"required": "Écrivez votre message.",
                        "max_length": "Votre message est trop long : 3 000 caractères au plus."},
    )

    def clean_reference(self):
        raw = self.cleaned_data["reference"]
        if not raw.strip():
            return ""
        try:
            return normalize_reference(raw)
        except InvalidReference as exc:
            raise forms.ValidationError(exc.message) from None


def contact(request):
    form = ContactForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not ratelimit.hit("contact-ip", client_ip(request), settings.CONTACT_LIMIT, settings.CONTACT_WINDOW_SECONDS):
            form.add_error(None, RATE_LIMITED)
            status = 429
        else:
            d = form.cleaned_data
            commune = d["commune"]
            to = (commune.email_service if commune else "") or settings.SUPPORT_EMAIL
            with transaction.atomic():
                emails.contact_message(to=to, commune=commune, nom=d["nom"], email=d["email"], sujet=d["sujet"],
                                       message=d["message"], reference=d["reference"])
            where = f"la mairie {commune.de_nom}" if commune else "le support national"
            messages.success(request, f"Votre message a été transmis à {where}. La réponse vous sera adressée "
                                      f"à {d['email']}.")
            return redirect("contact")
    elif request.method == "POST":
        status = 400
    return render(request, "pages/contact.html", {"form": form}, status=status)


def aide(request):
    return render(request, "pages/aide.html", {"lifetime_months": DEMANDE_LIFETIME_MONTHS})


def mentions_legales(request):
    return render(request, "pages/mentions_legales.html")


def donnees_personnelles(request):
    return render(request, "pages/donnees_personnelles.html", {
        "retention_days": settings.PROCURATION_RETENTION_DAYS,
        "purge_days": settings.PROCURATION_PURGE_EXPIRED_AFTER_DAYS,
        "lifetime_months": DEMANDE_LIFETIME_MONTHS,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
        "listes_pieces_days": settings.LISTES_PIECES_RETENTION_DAYS,  # listes.retention
        "listes_teledossiers_days": settings.LISTES_TELEDOSSIERS_RETENTION_DAYS,
    })


def cookies(request):
    return render(request, "pages/cookies.html", {
        "session_cookie": settings.SESSION_COOKIE_NAME, "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "csrf_days": settings.CSRF_COOKIE_AGE // 86400,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
    })


def plan_du_site(request):
    return render(request, "pages/plan_du_site.html")


urlpatterns = [
    path("aide/", aide, name="aide"),
    path("contact/", contact, name="contact"),
    path("mentions-legales/", mentions_legales, name="mentions_legales"),
    path("donnees-personnelles/", donnees_personnelles, name="donnees_personnelles"),
    path("cookies/", cookies, name="cookies"),
    path("plan-du-site/", plan_du_site, name="plan_du_site"),
]
