"""Staff accounts whose secrets only the agent knows.

An administrator (of a commune, a guichet de suivi or a police unit) never chooses nor sees an
agent's password: creating or resetting an account leaves it without a usable password and
without any TOTP authenticator, and e-mails the agent a single-use activation link where the
agent chooses the password; the portal's door then has the agent enrol their own TOTP before
anything else (procuration/access.py).

The link carries a token signed with SECRET_KEY over the account's state, like Django's
password-reset token: nothing secret is stored. It stops working once used (the password
changes), when a newer link is issued (issuing one sets a new unusable password), when the
account's e-mail address changes or the account is disabled, and after
STAFF_ACTIVATION_LINK_HOURS.

Disabling an account (set_active) and editing its details (save_staff_changes: a new e-mail
address is announced to the previous one) are shared by whoever manages it: the commune
administrator for the agents, the national administrator for the officers and the commune
administrators.
"""

import secrets
import unicodedata

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from procuration.exceptions import DomainError
from procuration.models import AuditLog, Role, User
from procuration.models.territory import de

STAFF_ROLES = (Role.POLICIER, Role.AGENT_MAIRIE, Role.AGENT_LISTES)
USERNAME_SUFFIX_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "procuration.activation.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        # The password hash changes when the link is used and when a newer link is issued.
        return f"{user.pk}|{user.password}|{user.email}|{user.is_active}|{user.role}|{timestamp}"

    def check_token(self, user, token) -> bool:
        """Django's check, with the activation lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return 0 <= self._num_seconds(self._now()) - ts <= settings.STAFF_ACTIVATION_LINK_HOURS * 3600


activation_tokens = ActivationTokenGenerator()


def new_staff_username(first_name: str, last_name: str) -> str:
    """prenom.nom.xxxx: the random suffix makes it unique without telling the administrator
    which identifiants already exist (in their commune or elsewhere)."""

    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())

    stem = ".".join(part for part in (slug(first_name)[:30], slug(last_name)[:40]) if part) or "agent"
    while True:
        username = f"{stem}.{''.join(secrets.choice(USERNAME_SUFFIX_ALPHABET) for _ in range(4))}"
        if not User.objects.filter(username__iexact=username).exists():
            return username


def activation_url(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL + reverse("staff_activation", args=[uidb64, activation_tokens.make_token(user)])


def issue_activation(user: User) -> None:
    """Clear the agent's password and TOTP authenticators and e-mail a new activation link.

    Call inside the transaction that creates or resets the account: the account change and its
    e-mail commit together (house style: e-mail only inside a transaction)."""
    from allauth.mfa.models import Authenticator

    from procuration import emails

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_activation() must run inside transaction.atomic().")
    if user.role not in STAFF_ROLES:
        raise ValueError("Only staff accounts are activated by link.")
    user.set_unusable_password()  # a new random marker: every earlier link stops working
    user.save(update_fields=["password"])
    Authenticator.objects.filter(user=user).delete()
    emails.staff_activation(user, activation_url(user))


def save_staff_changes(user: User, fields) -> list[str]:
    """Save those of `fields` whose values, set on the staff account `user` (by a form), differ from
    the stored account; returns their names. Lock, re-check, change: nothing is written when nothing
    differs.

    A new e-mail address is announced to the previous one (emails.staff_email_changed), in the same
    transaction: activation links go to the new address (a link sent before stops working, the token
    covers the e-mail), so an address swapped to take the account over through a reset does not go
    unnoticed. Shared by whoever edits a staff account: the commune administrator for the agents, the
    national administrator for the officers and the commune administrators.

    Call inside the transaction that records the change in the audit trail (house style: e-mail only
    inside a transaction)."""
    from procuration import emails

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("save_staff_changes() must run inside transaction.atomic().")
    if user.role not in STAFF_ROLES:
        raise ValueError("Only staff accounts are edited here.")
    stored = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    changed = [name for name in fields if getattr(stored, name) != getattr(user, name)]
    if changed:
        user.save(update_fields=changed)
    if "email" in changed:
        emails.staff_email_changed(user, stored.email)
    return changed


def reset_access(request, user: User, *, action: str) -> None:
    """Lost phone, forgotten password: the account's password and TOTP authenticators are removed and
    a new activation link is e-mailed (issue_activation), with the audit entry `action`, in one
    transaction. The one rule for whoever manages the account (the national back office, the commune
    administrators of both spaces, the unit administrator). Raises DomainError for a disabled account:
    its activation link would not open (enable it first)."""
    if not user.is_active:
        raise DomainError(
            f"Le compte {de(str(user))} est désactivé : réactivez-le d'abord, le lien d'activation ne s'ouvre pas "
            "pour un compte désactivé.", code="disabled",
        )
    with transaction.atomic():
        issue_activation(user)
        AuditLog.record(request, action, user)


def set_active(request, user: User, active: bool, *, action: str) -> bool:
    """Enable or disable a staff account and write `<action>_enable` or `<action>_disable` in the
    audit trail. Lock, re-check, change: an account already in that state is left as it is and
    nothing is written (returns False).

    A disabled account's sessions end at their next request (procuration.auth: get_user refuses an
    inactive user, so the portal's door sends the person to its login page) and for good (its
    session generation is raised: User._get_session_auth_hash; enabled again, the person logs in
    again), its password no longer logs in, and its activation link stops working (the token covers
    is_active). Nobody disables their own account."""
    if user.role not in STAFF_ROLES:
        raise ValueError("Only staff accounts are enabled or disabled here.")
    if not active and user.pk == getattr(request.user, "pk", None):
        raise DomainError("Vous ne pouvez pas désactiver votre propre compte.", code="self")
    with transaction.atomic():
        locked = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
        changed = locked.is_active != active
        if changed:
            locked.is_active = active
            fields = ["is_active"]
            if not active:  # its open sessions end for good, not only while it is disabled
                locked.session_generation += 1
                fields.append("session_generation")
            locked.save(update_fields=fields)
            AuditLog.record(request, f"{action}_{'enable' if active else 'disable'}", locked)
    user.is_active, user.session_generation = locked.is_active, locked.session_generation
    return changed


def user_for_link(uidb64: str, token: str) -> User | None:
    """The staff account a link opens, or None when the link is unknown, used, replaced or expired."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if not 0 < pk < 2**63:  # beyond the primary key's range PostgreSQL would refuse the query
        return None
    user = User.objects.filter(pk=pk, role__in=STAFF_ROLES, is_active=True).first()
    return user if user is not None and activation_tokens.check_token(user, token) else None


def activate(uidb64: str, token: str, password: str) -> User | None:
    """Set the agent's chosen password if the link is still valid; lock, re-check, change, so two
    submissions of the same link cannot both succeed. Returns None when the link is no longer valid."""
    with transaction.atomic():
        user = user_for_link(uidb64, token)
        if user is None:
            return None
        user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
        if not activation_tokens.check_token(user, token):
            return None
        user.set_password(password)
        user.save(update_fields=["password"])
        AuditLog.record(user, "compte.activation", user)
    return user
