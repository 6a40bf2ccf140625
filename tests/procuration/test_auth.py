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


def _built(call):
    """What the ORM built for `call`: its compiled queries (SQLCompiler.as_sql) and raw queries (RawQuery),
    the real methods counted."""
    from django.db.models.sql.compiler import SQLCompiler
    from django.db.models.sql.query import RawQuery

    real_as_sql, real_raw, built = SQLCompiler.as_sql, RawQuery.__init__, []

    def as_sql(self, *args, **kwargs):
        built.append("as_sql")
        return real_as_sql(self, *args, **kwargs)

    def raw(self, *args, **kwargs):
        built.append("raw")
        return real_raw(self, *args, **kwargs)

    SQLCompiler.as_sql, RawQuery.__init__ = as_sql, raw
    try:
        result = call()
    finally:
        SQLCompiler.as_sql, RawQuery.__init__ = real_as_sql, real_raw
    return result, built


@pytest.mark.parametrize("backend", [ModelBackend(), AuthenticationBackend()])
def test_get_user_is_compiled_once_then_only_run_one_statement(backend, agent_mairie, policier,
                                                               django_assert_num_queries):
    """The user of every request (issue 16): its statement compiled by the ORM once per process, then only
    run — one statement, nothing built — with the mandat's EXISTS in it (docs/performance.md « Flow GET pages »)."""
    from elus.models import Mandat

    Mandat.objects.create(user=agent_mairie, fonction="adjoint")
    backend.get_user(str(policier.pk))  # the first call of the process compiles it
    for user, elu in ((agent_mairie, True), (policier, False)):
        with django_assert_num_queries(1):
            ours, built = _built(lambda user=user: backend.get_user(str(user.pk)))
        assert built == [], built
        assert ours == user and "_has_mandat" not in ours.__dict__
        if elu:
            assert ours.mandat.fonction == "adjoint"  # read when asked for
        else:
            with django_assert_num_queries(0), pytest.raises(Mandat.DoesNotExist):
                ours.mandat  # the absence known from the user's statement  # noqa: B018
