"""procuration.activation.reset_access, the one rule of resetting a staff account's access, and the
four pages that call it: the national back office, the mairie's and the listes' commune
administrators, the police unit administrator. A disabled account is not reset (its activation link
would not open): a French message, nothing written, no e-mail."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from procuration.activation import reset_access
from procuration.exceptions import DomainError
from procuration.models import AuditLog, OutboxEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _manager_and_target(kind, commune, admin_national):
    if kind == "backoffice":
        return admin_national, UserFactory(username="opj-x", policier=True, first_name="Anne", last_name="Roy"), \
            "backoffice:compte_reset"
    if kind == "mairie":
        return (UserFactory(username="admin-m", commune_admin=True, commune=commune),
                UserFactory(username="agent-m", agent_mairie=True, commune=commune, first_name="Anne", last_name="Roy"),
                "mairie:agent_reset")
    if kind == "listes":
        return (UserFactory(username="admin-l", agent_listes=True, is_commune_admin=True, commune=commune),
                UserFactory(username="agent-l", agent_listes=True, commune=commune, first_name="Anne", last_name="Roy"),
                "listes:user_reset")
    chef = UserFactory(username="chef", policier=True, is_unit_admin=True, last_name="Chef")
    return chef, UserFactory(username="opj-y", policier=True, unite=chef.unite, first_name="Anne", last_name="Roy"), \
        "police:unite_reset"


@pytest.mark.parametrize("kind", ["backoffice", "mairie", "listes", "police"])
def test_a_disabled_account_is_not_reset_on_any_page(client, commune, admin_national, kind):
    manager, target, url = _manager_and_target(kind, commune, admin_national)
    target.is_active = False
    target.save(update_fields=["is_active"])
    client.force_login(manager)
    r = client.post(reverse(url, args=[target.pk]))
    assert r.status_code == 302
    told = [(m.level_tag, m.message) for m in get_messages(r.wsgi_request)]
    assert told == [("error", "Le compte d'Anne ROY est désactivé : réactivez-le d'abord, le lien d'activation ne "
                              "s'ouvre pas pour un compte désactivé.")]
    target.refresh_from_db()
    assert target.has_usable_password()
    assert not AuditLog.objects.filter(object_id=str(target.pk)).exists()
    assert not OutboxEmail.objects.exists()


ACTIONS = {"backoffice": "backoffice.compte_reset", "mairie": "mairie.agent_reset", "listes": "listes.agent_reset",
           "police": "police.compte_reinitialise"}


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_an_active_account_is_reset_with_its_audit_entry_and_its_link(client, commune, admin_national, kind,
                                                                       django_capture_on_commit_callbacks):
    manager, target, url = _manager_and_target(kind, commune, admin_national)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(reverse(url, args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert not target.has_usable_password()
    assert list(AuditLog.objects.filter(object_id=str(target.pk)).values_list("action", flat=True)) == [ACTIONS[kind]]
    assert OutboxEmail.objects.filter(to=target.email).count() == 1


def test_reset_access_refuses_a_disabled_account_and_writes_nothing(rf, commune):
    agent = UserFactory(username="agent-z", agent_mairie=True, commune=commune, is_active=False)
    request = rf.post("/")
    request.user = UserFactory(username="admin-z", commune_admin=True, commune=commune)
    with pytest.raises(DomainError) as e:
        reset_access(request, agent, action="mairie.agent_reset")
    assert e.value.code == "disabled"
    agent.refresh_from_db()
    assert agent.has_usable_password() and not AuditLog.objects.exists()
