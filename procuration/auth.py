"""Authentication backends: Django's and allauth's (passwords, staff only), the OpenID Connect
one (electors only), each with a cheaper get_user.

The backend a session was opened with is its kind of login: Django stores its path in the session
and asks that same backend for the user on every request. The password backends neither
authenticate nor return an elector; the OpenID Connect backend returns electors only and never
authenticates anything itself (allauth's social login picks it: procuration/adapters.py).

get_user runs on every request of a logged-in user (AuthenticationMiddleware). Building the ORM
query for a 24-column user costs more than running it: Model.objects.get(pk=…) takes ≈ 0.57 ms of
Python (bench/run_load.sh, docs/performance.md); the same query compiled once per process
(CompiledOnce) is only run.
Same row, same fields, same checks (is_active through user_can_authenticate); the session's hash
is still verified by django.contrib.auth.get_user.

The same statement tells whether the user holds an élu's mandat (elus.Mandat, User.has_mandat: the
mairie portal's menu asks on every page): when not, the absence is cached on the user as the ORM
caches a missing reverse one-to-one, and the menu reads nothing more (one query less on every page
of the mairie portal; an élu's mandat is still read when asked for).
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Exists, OuterRef

from procuration.access import logs_in_with_oidc, logs_in_with_password
from procuration.fixed_select import CompiledOnce


class FastGetUserMixin:
    def get_user(self, user_id):
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session: nobody
            return None
        user = _USER.first(User._meta.label, pk=pk)
        ok = user is not None and self.user_can_authenticate(user) and self.holds_session_of(user)
        if not ok:
            return None
        mandat = _mandat_relation(User)
        if mandat is not None:
            if not user.__dict__.pop("_has_mandat"):
                mandat.set_cached_value(user, None)  # as the ORM caches a missing one: user.mandat raises
        return user


def _user_by_pk(label, pk):
    """The user's row, and whether they hold an élu's mandat (an EXISTS in the same statement)."""
    User = get_user_model()
    queryset = User._default_manager.filter(pk=pk)
    mandat = _mandat_relation(User)
    if mandat is not None:
        queryset = queryset.annotate(_has_mandat=Exists(
            mandat.related_model._default_manager.filter(**{mandat.field.name: OuterRef("pk")})))
    return queryset


# Built and compiled by the ORM once per process (procuration.fixed_select.CompiledOnce), then only run:
# a RawQuerySet resolved its columns, the model's init order and the converters on every request
# (≈ 2.4 ms of the ≈ 14 ms of a simple page under cProfile; issue 16, docs/performance.md « Flow GET
# pages »). Keyed by the user model's label (AUTH_USER_MODEL may change under override_settings).
_USER = CompiledOnce(_user_by_pk, "pk")


def _mandat_relation(User):
    """User.mandat's relation (elus.Mandat), None without the elus app."""
    try:
        return User._meta.get_field("mandat")
    except FieldDoesNotExist:
        return None


class PasswordMixin:
    """A password proves nothing for an account whose kind of login is not the password."""

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        return user if user is not None and logs_in_with_password(user) else None

    def holds_session_of(self, user) -> bool:
        return logs_in_with_password(user)


class ModelBackend(PasswordMixin, FastGetUserMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(PasswordMixin, FastGetUserMixin, AllauthBackend):
    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        # allauth stashes an account whose password matched but that may not log in (inactive),
        # to show it the « compte inactif » page: never for an account without password login.
        stashed = AllauthBackend.unstash_authenticated_user()
        if stashed is not None and logs_in_with_password(stashed):
            AllauthBackend._stash_user(stashed)
        return user


class OIDCBackend(FastGetUserMixin, backends.BaseBackend):
    """Sessions opened by FranceConnect or France Identité (allauth's OpenID Connect login)."""

    def authenticate(self, request, **credentials):
        return None

    def user_can_authenticate(self, user):
        return user.is_active

    def holds_session_of(self, user) -> bool:
        return logs_in_with_oidc(user)
