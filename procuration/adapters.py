from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.urls import reverse

from procuration import identity, oidc
from procuration.mfa import failure_key, remember_device
from procuration.models import Role
from procuration.network import client_ip


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by sign-up."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        return reverse("after_login")

    def login(self, request, user):
        """Open the session with the backend of the kind of login just made: OpenID Connect
        (FranceConnect, France Identité) or password (procuration/auth.py). Then every login
        replaces the session's certification with the one of this login: only a France Identité
        login sets one (see SocialAccountAdapter)."""
        from allauth.account.authentication import get_authentication_records

        from procuration.access import OIDC_BACKEND

        methods = {record.get("method") for record in get_authentication_records(request, user)}
        if "socialaccount" in methods and "password" not in methods:
            user.backend = OIDC_BACKEND
        super().login(request, user)
        identity.remember_login(request, user, getattr(request, "_identity_certification", None),
                                getattr(request, "_identity_kept_session", None))

    def get_client_ip(self, request):
        """allauth's rate limits count per client address like ours (X-Forwarded-For from TRUSTED_PROXIES only)."""
        return client_ip(request) or super().get_client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials):
        """The failed-password counter of an account, per known device (procuration/mfa.py)."""
        base = super()._get_login_attempts_cache_key(request, **credentials)
        username = credentials.get("username", "")
        pk = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first() if username else None
        return failure_key(base, request, pk)

    def post_login(self, request, user, **kwargs):
        """A complete staff login (password + TOTP): this browser becomes a known device of the account."""
        from allauth.account.internal.flows.login import get_authentication_records

        response = super().post_login(request, user, **kwargs)
        if any(record.get("method") == "mfa" for record in get_authentication_records(request, user)):
            remember_device(request, response, user)
        return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """FranceConnect and France Identité users are electors (role mandant).

    On every callback the id_token's nonce is checked against the one sent (a mismatch refuses
    the login), then the identité pivot is copied onto the user (refreshed at each login). A
    ``sub`` already linked enters its own account only (allauth looks the account up by provider
    and ``sub``); a new ``sub`` joins an existing account only through
    procuration.identity.account_for_pivot. What this login certifies is kept for the session
    (procuration.identity.remember_login, called by AccountAdapter.login once logged in).
    """

    def is_open_for_signup(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.role = Role.MANDANT
        return user

    def pre_social_login(self, request, sociallogin):
        try:
            oidc.check_nonce(sociallogin)
        except oidc.NonceError:
            messages.error(
                request,
                "La connexion a été refusée : la réponse du fournisseur d'identité n'a pas pu être vérifiée "
                "(jeton à usage unique incorrect). Veuillez recommencer.",
            )
            raise ImmediateHttpResponse(redirect("mandant:login")) from None
        user = sociallogin.user
        if sociallogin.is_existing and user.role != Role.MANDANT:
            messages.error(request, "Ce compte ne peut pas se connecter à l'espace électeur.")
            raise ImmediateHttpResponse(redirect("mandant:login"))
        data, provider_id = oidc.claims(sociallogin), sociallogin.account.provider
        pivot = identity.Pivot.from_claims(data)
        request._identity_certification = identity.certification_of_login(provider_id, oidc.id_token(sociallogin))
        fields = identity.apply_pivot(user, pivot, data.get("email") or "", provider_id)
        if sociallogin.is_existing:
            user.save(update_fields=fields)
            request._identity_kept_session = identity.session_to_keep(request, sociallogin)
            return
        try:
            twin = identity.account_for_pivot(pivot, provider_id)
        except identity.AmbiguousIdentity:
            messages.error(
                request,
                "Plusieurs comptes correspondent à votre identité : nous ne pouvons pas savoir lequel est le "
                "vôtre. Contactez votre mairie.",
            )
            raise ImmediateHttpResponse(redirect("mandant:login")) from None
        if twin is not None:
            # The same person (same identité pivot) already came through the other provider:
            # attach this social account to that user rather than creating a second one.
            sociallogin.connect(request, twin)
            fields = identity.apply_pivot(twin, pivot, data.get("email") or "", provider_id)
            twin.save(update_fields=fields)
        elif user.email and get_user_model().objects.filter(email__iexact=user.email).exists():
            # A shared (family) address: keep it as contact only, so sign-up stays automatic.
            sociallogin.email_addresses = []
