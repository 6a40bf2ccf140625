"""Form helpers shared by the portals."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from dsfr.forms import DsfrBaseForm

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
