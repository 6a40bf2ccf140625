"""Shared by the paper CERFA's tests at the police and at the mairie (one form: procuration/cerfa.py)."""

import html

from procuration.models import OutboxEmail, Procuration, ProcurationEvent


def assert_mandataire_refused(response, field, message):
    """The domain's rule (checks.raise_for_mandataire) on the field that named the mandataire; nothing written."""
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message] and not form.non_field_errors()
    assert message in html.unescape(response.content.decode())
    assert not Procuration.objects.exists() and not ProcurationEvent.objects.exists()
    assert not OutboxEmail.objects.exists()
