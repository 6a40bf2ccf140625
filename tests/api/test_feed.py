"""The delta feed on the real PostgreSQL: every change after the cursor, in order, none skipped,
also when two transactions commit out of order."""

import threading

import pytest
from django.db import connection, transaction

from api.models import Change
from procuration.models import IdentiteVerifiee

pytestmark = pytest.mark.django_db(transaction=True)
FEED = "/api/v1/changements/"


def pull(client, cursor=None):
    response = client.get(FEED, {"cursor": cursor} if cursor else {})
    assert response.status_code == 200, response.content
    body = response.json()
    return [(c["kind"], c["object_id"], c["event"]) for c in body["changes"]], body["next_cursor"], body["has_more"]


def test_feed_lists_changes_in_order_per_scope_and_commune(api, data):
    p = data["p"]
    client = api("all")
    first, cursor, _ = pull(client)
    assert ("teledossier", data["d"].pk, "teledossier.depose") in first
    assert all(kind != "teledossier" or oid != data["d_b"].pk for kind, oid, _ in first)  # B's is not ours
    p["attente"].resilier(reason="par le mandant", identite=IdentiteVerifiee.france_identite(p["attente"].mandant))
    p["autorite"].invalider_mairie(by=None, motif="autre", detail="Test")
    changes, cursor2, more = pull(client, cursor)
    assert changes == [("procuration", p["attente"].pk, "procuration.resilier"),
                       ("procuration", p["autorite"].pk, "procuration.invalider_mairie")]
    assert not more
    assert pull(client, cursor2)[0] == []
    # A key that reads only télédossiers never sees procurations.
    assert all(kind == "teledossier" for kind, _, _ in pull(api("teledossiers"))[0])


def test_limit_pages_through_everything(api, data):
    data["p"]["attente"].resilier(reason="x", identite=IdentiteVerifiee.france_identite(data["p"]["attente"].mandant))
    data["p"]["mairie"].resilier(reason="y", identite=IdentiteVerifiee.france_identite(data["p"]["mairie"].mandant))
    client = api("all")
    everything, _, _ = pull(client)
    seen, cursor = [], None
    while True:
        response = client.get(FEED, {"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [(c["kind"], c["object_id"], c["event"]) for c in response["changes"]]
        cursor = response["next_cursor"]
        if not response["has_more"]:
            break
    assert seen == everything and len(seen) == 3


@pytest.mark.parametrize("cursor", ["n'importe-quoi", "v2-1-2", "v1-1-", "v1-99999999999999999999-1", ""])
def test_bad_cursor_is_a_400_naming_it(api, data, cursor):
    response = api("all").get(FEED, {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_two_transactions_committing_out_of_order_lose_nothing(api, data):
    """T1 changes procuration A first (its transaction id is the smaller) but commits last; T2 changes
    procuration B and commits at once. A reader in between must not hand out a cursor past A."""
    p = data["p"]
    a, b = p["attente"], p["mairie"]
    client = api("procurations")
    _, cursor, _ = pull(client)
    t1_changed, t1_may_commit = threading.Event(), threading.Event()
    errors = []

    def t1():
        try:
            with transaction.atomic():
                a.resilier(reason="T1", identite=IdentiteVerifiee.france_identite(a.mandant))
                t1_changed.set()
                assert t1_may_commit.wait(30)
        except Exception as e:  # surfaced below
            errors.append(e)
        finally:
            connection.close()

    thread = threading.Thread(target=t1)
    thread.start()
    assert t1_changed.wait(30)
    b.resilier(reason="T2", identite=IdentiteVerifiee.france_identite(b.mandant))  # autocommit: committed now, with a larger transaction id than T1's
    assert Change.objects.filter(object_id=b.pk, event="procuration.resilier").exists()

    seen, cursor, _ = pull(client, cursor)  # T1 still open: B is held back, not served ahead of A
    assert seen == []
    t1_may_commit.set()
    thread.join(30)
    assert not errors, errors
    later, cursor, _ = pull(client, cursor)
    assert later == [("procuration", a.pk, "procuration.resilier"), ("procuration", b.pk, "procuration.resilier")]
    assert pull(client, cursor)[0] == []


def test_a_naive_id_cursor_would_have_skipped_the_late_commit(data):
    """The control: the ids are the wrong way round for commit order, so `id > cursor` skips."""
    p = data["p"]
    a, b = p["attente"], p["mairie"]
    t1_changed, t1_may_commit = threading.Event(), threading.Event()

    def t1():
        with transaction.atomic():
            a.resilier(reason="T1", identite=IdentiteVerifiee.france_identite(a.mandant))
            t1_changed.set()
            t1_may_commit.wait(30)
        connection.close()

    thread = threading.Thread(target=t1)
    thread.start()
    t1_changed.wait(30)
    b.resilier(reason="T2", identite=IdentiteVerifiee.france_identite(b.mandant))
    naive_cursor = Change.objects.order_by("-pk").values_list("pk", flat=True).first()  # B's id, seen now
    t1_may_commit.set()
    thread.join(30)
    a_change = Change.objects.get(object_id=a.pk, event="procuration.resilier")
    assert a_change.pk < naive_cursor  # committed after the reader passed its id: skipped by `id > cursor`
