"""Authentication backends: Django's and allauth's, with a cheaper get_user.

get_user runs on every request of a logged-in user (AuthenticationMiddleware). Building the ORM
query for a 24-column user costs more than running it: Model.objects.get(pk=…) takes ≈ 0.57 ms of
Python, the same row read by a fixed statement ≈ 0.24 ms (bench/run_load.sh, docs/performance.md).
Same row, same fields, same checks (is_active through user_can_authenticate); the session's hash
is still verified by django.contrib.auth.get_user.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError


class FastGetUserMixin:
    def get_user(self, user_id):
        User = get_user_model()
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session: nobody
            return None
        sql = f'SELECT * FROM "{User._meta.db_table}" WHERE "{User._meta.pk.column}" = %s'
        user = next(iter(User._default_manager.raw(sql, [pk])), None)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(FastGetUserMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(FastGetUserMixin, AllauthBackend):
    pass
