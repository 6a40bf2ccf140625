"""The hash chains of the audit trail: pure functions (no models), also used by migrations.

Each row of a chain stores the hash of the previous row of the same chain (`prev_hash`; the first
row links to GENESIS) and its own `hash` = SHA-256(prev_hash, canonical payload). Personal fields
never enter the payload directly: the payload holds `pii_digest` = SHA-256(per-row random salt,
canonical personal fields). The retention purge empties the personal fields and the salt and keeps
`pii_digest`, so the chain still verifies and the digest can no longer be brute-forced back to an
address or a text (docs/security.md, « Journal d'audit infalsifiable »).
"""

import datetime
import hashlib
import json
import secrets

GENESIS = "0" * 64


def canonical(value) -> bytes:
    """One byte string per value: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_salt() -> str:
    return secrets.token_hex(16)


def pii_digest(salt: str, personal: dict) -> str:
    return hashlib.sha256(salt.encode() + b"\n" + canonical(personal)).hexdigest()


def link_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(payload)).hexdigest()


# ------------------------------------------------------------------ the two kinds of rows
def event_personal(reason: str) -> dict:
    return {"reason": reason}


def event_payload(*, dossier, seq, from_status, to_status, actor_id, at, pii) -> dict:
    return {
        "chain": f"dossier:{dossier}", "seq": seq, "from": from_status, "to": to_status,
        "actor": actor_id, "at": when(at), "pii": pii,
    }


def audit_personal(ip, detail) -> dict:
    return {"ip": ip, "detail": detail}


def audit_payload(*, seq, actor_id, action, object_type, object_id, at, pii) -> dict:
    return {
        "chain": "audit", "seq": seq, "actor": actor_id, "action": action, "object_type": object_type,
        "object_id": object_id, "at": when(at), "pii": pii,
    }
