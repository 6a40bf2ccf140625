"""Who a FranceConnect / France Identité login is, and what that login proves.

- The **identité pivot** (FranceConnect's): nom de naissance, all prénoms, date of birth, sex,
  country of birth (COG code, always; 99100 = France) and place of birth (COG code of the
  commune: required when born in France, empty when born abroad). :class:`Pivot` holds it;
  two pivots match only when both are complete and every field is equal (names compared by
  :func:`procuration.normalize.fold`). A missing or differing field never matches.
- **Linking** (:func:`account_for_pivot`): a login whose ``sub`` is not known yet joins an
  existing elector account only when exactly one account has the same pivot and that account
  has no ``sub`` of this provider yet (a provider gives one ``sub`` per person: an account that
  already holds one is somebody else). Several candidates: nothing is linked (AmbiguousIdentity).
- **Certification** belongs to one login, not to the person: :func:`certification_of_login`
  reads the provider and the id_token's ``acr``; only France Identité at ``eidas2`` or higher
  counts. :func:`remember_login` keeps it in that session only, with the time of the login;
  :func:`certification` says whether it is still within ``IDENTITY_CERTIFICATION_MAX_AGE``.
"""

import dataclasses
import datetime
import re
import time

from django.conf import settings

from procuration.normalize import fold

FRANCE = "99100"
CERTIFIED_PROVIDER_IDS = frozenset({"franceidentite"})
CERTIFIED_MIN_EIDAS = 2
SESSION_KEY = "identity_certification"
# The demande being typed (portail mandant) survives a new login of the same account, so that
# the mandant asked to log in again with France Identité does not type it again.
DEMANDE_SESSION_KEY = "mandant_demande"
KEPT_ON_RELOGIN = (DEMANDE_SESSION_KEY,)
_COG = re.compile(r"[0-9][0-9AB][0-9]{3}")
_EIDAS = re.compile(r"eidas([1-9])")
GENDERS = {"female": "F", "male": "M", "f": "F", "m": "M"}


class AmbiguousIdentity(Exception):
    """More than one account or register entry has this identité pivot: nothing is linked."""


@dataclasses.dataclass(frozen=True)
class Pivot:
    family_name: str
    given_names: str
    birthdate: datetime.date | None
    gender: str
    birthplace: str
    birthcountry: str

    @classmethod
    def from_claims(cls, data: dict) -> "Pivot":
        try:
            birthdate = datetime.date.fromisoformat(str(data.get("birthdate") or ""))
        except ValueError:
            birthdate = None
        return cls(
            family_name=str(data.get("family_name") or "").strip()[:150],
            given_names=str(data.get("given_name") or "").strip()[:150],
            birthdate=birthdate,
            gender=GENDERS.get(str(data.get("gender") or "").lower(), ""),
            birthplace=str(data.get("birthplace") or "").strip().upper()[:5],
            birthcountry=str(data.get("birthcountry") or "").strip().upper()[:5],
        )

    @classmethod
    def of_user(cls, user) -> "Pivot":
        return cls(user.last_name, user.first_name, user.birthdate, user.gender, user.birthplace, user.birthcountry)

    @classmethod
    def of_electeur(cls, e) -> "Pivot":
        return cls(e.nom, e.prenoms, e.date_naissance, e.sexe, e.code_lieu_naissance, e.code_pays_naissance)

    @property
    def complete(self) -> bool:
        """Every field present; the birthplace present exactly when born in France."""
        if not (fold(self.family_name) and fold(self.given_names) and self.birthdate and self.gender in ("F", "M")):
            return False
        if not _COG.fullmatch(self.birthcountry):
            return False
        if self.birthcountry == FRANCE:
            return bool(_COG.fullmatch(self.birthplace))
        return self.birthplace == ""

    def key(self) -> tuple:
        return (fold(self.family_name), fold(self.given_names), self.birthdate, self.gender,
                self.birthplace, self.birthcountry)

    def matches(self, other: "Pivot") -> bool:
        return self.complete and other.complete and self.key() == other.key()

    def lookup(self) -> dict:
        """The exact fields, for a first database filter (names are compared folded afterwards)."""
        return {"birthdate": self.birthdate, "gender": self.gender, "birthplace": self.birthplace,
                "birthcountry": self.birthcountry}


def apply_pivot(user, pivot: Pivot, email: str, provider_id: str) -> list[str]:
    """Copy the claims onto the user (refreshed at every login); returns the fields written."""
    user.last_name, user.first_name = pivot.family_name, pivot.given_names
    user.birthdate, user.gender = pivot.birthdate, pivot.gender
    user.birthplace, user.birthcountry = pivot.birthplace, pivot.birthcountry
    if email:
        user.email = email.strip()
    user.identity_provider = provider_id[:30]
    return ["first_name", "last_name", "email", "birthdate", "gender", "birthplace", "birthcountry",
            "identity_provider"]


def account_for_pivot(pivot: Pivot, provider_id: str):
    """The one elector account this new ``sub`` of `provider_id` may join, or None.

    Raises AmbiguousIdentity when several accounts qualify."""
    from procuration.models import Role, User

    if not pivot.complete:
        return None
    candidates = (
        User.objects.filter(role=Role.MANDANT, socialaccount__isnull=False, **pivot.lookup())
        .exclude(socialaccount__provider=provider_id)
        .distinct()
        .order_by("pk")
    )
    found = [u for u in candidates if Pivot.of_user(u).matches(pivot)]
    if len(found) > 1:
        raise AmbiguousIdentity
    return found[0] if found else None


# --------------------------------------------------------------------------- certification
def eidas_level(acr) -> int:
    m = _EIDAS.fullmatch(str(acr or "").strip())
    return int(m.group(1)) if m else 0


def certification_of_login(provider_id: str, id_token: dict) -> dict | None:
    """What the login that just happened certifies: France Identité at eidas2 or higher, else None.

    The ``acr`` is read from the id_token (signed by the provider), never from userinfo."""
    acr = (id_token or {}).get("acr")
    if provider_id in CERTIFIED_PROVIDER_IDS and eidas_level(acr) >= CERTIFIED_MIN_EIDAS:
        return {"provider": provider_id, "acr": str(acr), "at": time.time()}
    return None


def session_to_keep(request, sociallogin) -> dict:
    """Before a new login of the account already logged in (allauth logs it out first, which
    empties the session): what remember_login puts back."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and sociallogin.is_existing and sociallogin.user.pk == user.pk):
        return {}
    return {k: request.session[k] for k in KEPT_ON_RELOGIN if k in request.session}


def remember_login(request, user, certified: dict | None, kept: dict | None = None) -> None:
    """After a login: keep its certification in this session only (a plain login removes any),
    and put back what session_to_keep saved."""
    for key, value in (kept or {}).items():
        request.session[key] = value
    if certified is None:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = {**certified, "user": user.pk}


CERTIFIED, EXPIRED, NOT_CERTIFIED = "certifiee", "expiree", ""


def certification(request) -> str:
    """CERTIFIED while the France Identité login of this session is younger than
    IDENTITY_CERTIFICATION_MAX_AGE seconds, EXPIRED after, NOT_CERTIFIED without one.
    Every reader of "is this mandant certified?" goes through here."""
    record = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not isinstance(record, dict) or user is None or record.get("user") != user.pk:
        return NOT_CERTIFIED
    if record.get("provider") not in CERTIFIED_PROVIDER_IDS or eidas_level(record.get("acr")) < CERTIFIED_MIN_EIDAS:
        return NOT_CERTIFIED
    age = time.time() - float(record.get("at") or 0)
    return CERTIFIED if 0 <= age <= settings.IDENTITY_CERTIFICATION_MAX_AGE else EXPIRED


def is_certified(request) -> bool:
    return certification(request) == CERTIFIED


def france_identite_configured() -> bool:
    """True when the "franceidentite" app is configured (OIDC_FRANCEIDENTITE_URL set)."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return any(app.get("provider_id") in CERTIFIED_PROVIDER_IDS and (app.get("settings") or {}).get("server_url")
               for app in apps)
