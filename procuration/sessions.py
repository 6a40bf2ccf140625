"""Sessions kept in the database with a Redis copy (Django's cached_db), saved by one statement.

A session changed by a request (each step of the demande, a login, a message…) is saved at the end
of the request. Django's database store saves an existing session through the ORM: a model
instance, an UPDATE compiled on every save and a transaction of its own (BEGIN, UPDATE, COMMIT;
a savepoint inside a transaction) around a single statement that is atomic by itself. Here a
plain UPDATE is sent alone. Everything else is Django's: a new session (a login, the
key rotated) is still created by the ORM, whose INSERT must fail on a key already taken (CreateError);
a session whose row is gone (logged out in another tab, expired and cleared) raises UpdateError as
Django does, which SessionMiddleware answers with SessionInterrupted. The Redis copy is written
after, by cached_db (procuration/cache.py keeps it honest through a Redis outage)."""

from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.backends.base import UpdateError
from django.db import connections, router


class _DatabaseStore(db.SessionStore):
    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create)
        model = self.model
        table = model._meta.db_table
        connection = connections[router.db_for_write(model)]
        qn = connection.ops.quote_name
        expire_date = self.get_expiry_date()
        field = model._meta.get_field("expire_date")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {qn(table)} SET {qn('session_data')} = %s, {qn('expire_date')} = %s "
                f"WHERE {qn('session_key')} = %s",
                [self.encode(self._get_session()), field.get_db_prep_save(expire_date, connection), self.session_key],
            )
            if cursor.rowcount != 1:
                raise UpdateError


class SessionStore(cached_db.SessionStore, _DatabaseStore):
    """cached_db's store (reads from Redis, writes the database then Redis) over _DatabaseStore."""
