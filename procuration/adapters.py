from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from procuration.models import Role


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by sign-up."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        return reverse("after_login")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """FranceConnect and France Identité users are electors (role mandant).

    On every callback the id_token's nonce is checked against the one sent (a mismatch refuses
    the login), then the identity claims are copied onto the user: they are refreshed at each
    login, and identity_certified is true only after a France Identité login.
    """

    def is_open_for_signup(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.role = Role.MANDANT
        return user

    def pre_social_login(self, request, sociallogin):
        from mandant.providers.franceconnect import NonceError, apply_identity, check_nonce, claims

        try:
            check_nonce(sociallogin)
        except NonceError:
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
        data, provider_id = claims(sociallogin), sociallogin.account.provider
        fields = apply_identity(user, data, provider_id)
        if not sociallogin.is_existing:
            twin = self._same_person(user)
            if twin is not None:
                # FranceConnect's "identité pivot": the same person already came through the other
                # provider. Attach this social account to that user rather than creating a second one.
                sociallogin.connect(request, twin)
                user = twin
                apply_identity(user, data, provider_id)
            else:
                from django.contrib.auth import get_user_model

                if user.email and get_user_model().objects.filter(email__iexact=user.email).exists():
                    # A shared (family) address: keep it as contact only, so sign-up stays automatic.
                    sociallogin.email_addresses = []
        if sociallogin.is_existing:
            user.save(update_fields=fields)

    @staticmethod
    def _same_person(user):
        """An elector account with the same identité pivot (names, birth date, sex, birthplace)."""
        from django.contrib.auth import get_user_model

        if not (user.first_name and user.last_name and user.birthdate):
            return None
        return (
            get_user_model()
            .objects.filter(
                role=Role.MANDANT, socialaccount__isnull=False, first_name__iexact=user.first_name,
                last_name__iexact=user.last_name, birthdate=user.birthdate, gender=user.gender,
                birthplace=user.birthplace,
            )
            .order_by("pk")
            .first()
        )
