"""Form helpers shared by the portals."""

from django import forms
from django.contrib.auth.password_validation import validate_password

from procuration.models import User


def check_initial_password(form: forms.Form, data: dict, field: str = "password") -> None:
    """Run the password validators on a new account's initial password, against the person's
    names and e-mail as typed in the form; errors go to the field."""
    if not data.get(field):
        return
    person = User(
        username=data.get("username", ""), first_name=data.get("first_name", ""),
        last_name=data.get("last_name", ""), email=data.get("email", ""),
    )
    try:
        validate_password(data[field], person)
    except forms.ValidationError as exc:
        form.add_error(field, exc)


def add_domain_error(form: forms.Form, exc) -> None:
    """A domain error on the field it names when the form has that field, else on the whole form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
