"""Form helpers shared by the portals."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm, UserTokenForm
from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from dsfr.forms import DsfrBaseForm

from procuration.access import may_reset_password_by_email
from procuration.models import User


class ActivationForm(DsfrBaseForm):
    """The agent chooses their own password through their activation link."""

    password1 = forms.CharField(
        label="Mot de passe", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        # The validators' own words (AUTH_PASSWORD_VALIDATORS), as plain text: DSFR's hint is a <span>.
        self.fields["password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif first:
            try:
                validate_password(first, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


def add_domain_error(form: forms.Form, exc) -> None:
    """A domain error on the field it names when the form has that field, else on the whole form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class StaffResetPasswordForm(ResetPasswordForm):
    """allauth's « mot de passe oublié », for the portals' staff only: the accounts of any other
    kind found at that address are dropped, so no link is ever sent to them. With
    ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS off, the page and the (absent) e-mail are the same whether the
    address is unknown or an elector's: the form reveals nothing."""

    def clean_email(self):
        email = super().clean_email()
        self.users = [user for user in self.users if may_reset_password_by_email(user)]
        return email


class StaffUserTokenForm(UserTokenForm):
    """A reset link (sent before the rule, or forged for another account) opens nothing for an
    account that may not reset its password by e-mail: the same answer as a wrong link."""

    def clean(self):
        cleaned = super().clean()
        if self.reset_user is not None and not may_reset_password_by_email(self.reset_user):
            self.reset_user = None
            raise get_adapter().validation_error("invalid_password_reset")
        return cleaned
