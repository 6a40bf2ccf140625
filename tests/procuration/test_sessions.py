"""Sessions: Django's cached_db, an existing session saved by one UPDATE (procuration/sessions.py)."""

import datetime

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procuration.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_this_store():
    assert settings.SESSION_ENGINE == "procuration.sessions"


def _saved(**data) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()  # created (a new key): Django's INSERT
    return store


def test_a_changed_session_is_saved_by_one_update_without_savepoint():
    store = _saved(step="validite")
    store["step"] = "mandataire"
    with CaptureQueriesContext(connection) as queries:
        store.save()
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 1, sql  # Django's store: SAVEPOINT, UPDATE, RELEASE SAVEPOINT in a transaction
    assert sql[0].startswith('UPDATE "django_session" SET "session_data"'), sql


def test_what_is_saved_is_read_back_from_the_database():
    store = _saved(step="validite", n=1)
    store["step"], store["liste"] = "récapitulatif", [1, "deux"]
    store.set_expiry(600)
    store.save()
    caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key)  # not from the Redis copy
    again = SessionStore(store.session_key)
    assert dict(again.items()) == {"step": "récapitulatif", "n": 1, "liste": [1, "deux"], "_session_expiry": 600}
    row = Session.objects.get(session_key=store.session_key)
    assert abs(row.expire_date - (timezone.now() + datetime.timedelta(seconds=600))) < datetime.timedelta(seconds=5)
    assert row.get_decoded()["step"] == "récapitulatif"


def test_a_session_whose_row_is_gone_is_not_written_again():
    """Logged out elsewhere (or cleared): as Django's store, UpdateError (SessionMiddleware answers
    SessionInterrupted), and no row comes back."""
    store = _saved(step="validite")
    Session.objects.filter(session_key=store.session_key).delete()
    store["step"] = "mandataire"
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()


def test_a_new_key_is_still_created_by_django():
    store = _saved(step="validite")
    old = store.session_key
    store.cycle_key()  # a login: a new key, the data kept, the old row deleted
    assert store.session_key != old
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"step": "validite"}
    assert not Session.objects.filter(session_key=old).exists()
