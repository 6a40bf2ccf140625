"""procuration.auth: get_user reads the row with a fixed statement; it must give what Django's
ModelBackend gives, field for field, and nobody for a disabled, missing or malformed id."""

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.forms.models import model_to_dict

from procuration.auth import AuthenticationBackend, ModelBackend


@pytest.mark.parametrize("backend", [ModelBackend(), AuthenticationBackend()])
def test_get_user_gives_what_django_gives(backend, agent_mairie, policier):
    for user in (agent_mairie, policier):
        ours, django = backend.get_user(str(user.pk)), DjangoModelBackend().get_user(str(user.pk))
        assert type(ours) is type(django)
        assert model_to_dict(ours) == model_to_dict(django)
        assert ours.get_session_auth_hash() == django.get_session_auth_hash()
        assert ours.commune_id == django.commune_id and ours.password == django.password


@pytest.mark.parametrize("backend", [ModelBackend(), AuthenticationBackend()])
def test_get_user_gives_nobody_for_a_disabled_missing_or_malformed_id(backend, policier):
    policier.is_active = False
    policier.save(update_fields=["is_active"])
    assert backend.get_user(str(policier.pk)) is None
    assert backend.get_user("999999") is None
    assert backend.get_user("1 OR 1=1") is None
    assert backend.get_user(None) is None
