from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.urls import reverse

from procuration.models import Role


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by sign-up."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        return reverse("after_login")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """FranceConnect and France Identité users are electors (role mandant)."""

    def is_open_for_signup(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.role = Role.MANDANT
        return user
