import email
import ipaddress
from email import policy
from pathlib import Path

from allauth.account.views import LoginView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from procuration.context_processors import PORTAL_NAMES
from procuration.models import Role

ROLE_HOME = {
    Role.MANDANT: "mandant:home",
    Role.POLICIER: "police:home",
    Role.AGENT_MAIRIE: "mairie:home",
    Role.AGENT_LISTES: "listes:home",
    Role.ADMIN_NATIONAL: "backoffice:home",
}


def home(request):
    tiles = [
        {"url": reverse("mandant:home"), "title": "Donner procuration",
         "desc": "Électeur : faire une demande de procuration avec FranceConnect, suivre et résilier vos procurations."},
        {"url": reverse("listes:usager_home"), "title": "Listes électorales et recensement",
         "desc": "S'inscrire sur les listes électorales, se faire recenser, suivre vos démarches."},
        {"url": reverse("police:home"), "title": "Police et gendarmerie",
         "desc": "Officiers et agents habilités : valider les procurations au guichet."},
        {"url": reverse("mairie:home"), "title": "Mairie — procurations",
         "desc": "Agents de mairie : contrôler et enregistrer les procurations, registre des bureaux de vote."},
        {"url": reverse("listes:home"), "title": "Mairie — guichet de suivi",
         "desc": "Agents de mairie : instruire les télédossiers d'inscription et de recensement."},
    ]
    return render(request, "home.html", {"tiles": tiles})


def accessibilite(request):
    return render(request, "accessibilite.html")


@login_required
def after_login(request):
    return redirect(ROLE_HOME.get(request.user.role, "home"))


class PortalLoginView(LoginView):
    """allauth's login, dressed for one staff portal."""

    portal = ""
    template_name = "portal_login.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["portal_title"] = PORTAL_NAMES[self.portal]
        return ctx


# ----------------------------------------------------------------- staff activation link
INVALID_LINK = (
    "Ce lien d'activation n'est plus valable : il a déjà servi, un lien plus récent a été envoyé ou "
    "il a expiré. Demandez un nouveau lien à l'administrateur de votre service."
)


def staff_activation(request, uidb64, token):
    """The single-use link of a new or reset staff account: the agent chooses a password, then
    logs in at their portal, whose door has them enrol their own TOTP (procuration/access.py)."""
    from procuration import activation
    from procuration.forms import ActivationForm

    user = activation.user_for_link(uidb64, token)
    if user is None:
        return render(request, "activation.html", {"invalid": INVALID_LINK})
    form = ActivationForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        if activation.activate(uidb64, token, form.cleaned_data["password1"]) is None:
            return render(request, "activation.html", {"invalid": INVALID_LINK})
        if request.user.is_authenticated:
            logout(request)  # whoever was logged in on this browser is not the agent
        portal = ROLE_HOME[user.role].split(":")[0]
        messages.success(
            request,
            f"Votre mot de passe est enregistré. Connectez-vous avec votre identifiant « {user.username} » : "
            "vous configurerez ensuite votre application d'authentification.",
        )
        return redirect(f"{reverse(portal + ':login')}?next={reverse(ROLE_HOME[user.role])}")
    return render(request, "activation.html", {"form": form, "account": user})


# ----------------------------------------------------------------- dev-only mailbox
def _mail_files():
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.log"), key=lambda f: f.stat().st_mtime, reverse=True)


def _parse(path: Path):
    raw = path.read_bytes()
    # The file backend writes one or more messages separated by a line of dashes.
    for chunk in raw.split(b"\n" + b"-" * 79 + b"\n"):
        if chunk.strip():
            msg = email.message_from_bytes(chunk, policy=policy.default)
            text = msg.get_body(preferencelist=("plain",))
            yield {
                "subject": msg["subject"],
                "to": msg["to"],
                "date": msg["date"],
                "text": text.get_content() if text else "",
            }


def _dev_only(request, enabled: bool = True) -> None:
    """The /dev/ pages exist only with DEBUG on, and answer only to the machine itself (loopback):
    anyone else gets the 404 a production server gives."""
    if not (settings.DEBUG and enabled and _is_loopback(request.META.get("REMOTE_ADDR", ""))):
        raise Http404


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False


def dev_mailbox(request):
    _dev_only(request, settings.DEV_MAILBOX)
    messages_ = []
    for path in _mail_files()[:100]:
        for item in _parse(path):
            item["id"] = path.stem
            messages_.append(item)
    return render(request, "dev_mailbox.html", {"mails": messages_})


def dev_totp(request):
    """Development only: the current TOTP code of the demo staff accounts."""
    _dev_only(request)
    from procuration.demo import DEMO_TOTP_SECRET
    from procuration.mfa import current_totp_code

    code = current_totp_code(DEMO_TOTP_SECRET)
    return render(request, "dev_totp.html", {"code": code, "secret": DEMO_TOTP_SECRET})
