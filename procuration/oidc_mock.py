"""Local OpenID Connect provider for development and tests (oidc-provider-mock on loopback).

It plays FranceConnect and France Identité: the demo electors are predefined users whose
claims mimic FranceConnect's identité pivot (given_name, family_name, birthdate, gender,
birthplace, birthcountry), plus email and the eIDAS level in ``acr`` (which the provider puts in
the id_token): the demo identities answer ``eidas2``, so a login through the "franceidentite" app
is certified (procuration.identity).
A nonce is required, as FranceConnect requires it.

    python -m procuration.oidc_mock --port 9400

Tests start the same server in a thread with `serve` (see tests/mandant/conftest.py).
"""

import json
import os
import sys
import threading
from contextlib import contextmanager


def user_claims(sub: str, nom: str, prenoms: str, sexe: str, naissance, birthplace: str = "", email: str = "",
                birthcountry: str = "99100", acr: str = "eidas1") -> dict:
    """FranceConnect-like claims for one person (``sub`` included); born abroad: birthplace ""."""
    return {
        "sub": sub,
        "given_name": prenoms,
        "family_name": nom,
        "birthdate": naissance.isoformat() if hasattr(naissance, "isoformat") else str(naissance),
        "gender": "female" if sexe == "F" else "male",
        "birthplace": birthplace,
        "birthcountry": birthcountry,
        "acr": acr,
        "email": email or f"{prenoms.split()[0].lower()}.{nom.lower()}@demo.example",
        "email_verified": True,
    }


def demo_users() -> list[dict]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")
    django.setup()
    from procuration.demo import DEMO_ELECTORS

    return [
        user_claims(f"fc-{nne}", nom, prenoms, sexe, naissance, code_lieu, acr="eidas2")
        for nne, nom, prenoms, sexe, naissance, _commune, _lieu, code_lieu in DEMO_ELECTORS
    ]


@contextmanager
def serve(users: list[dict], host: str = "127.0.0.1", port: int = 0):
    """Run the provider (nonce required) in a thread on loopback; yields its base URL."""
    import oidc_provider_mock
    import werkzeug.serving

    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on loopback, as the CLI does
    app = oidc_provider_mock.app(
        require_nonce=True,
        user_claims=[
            oidc_provider_mock.User(sub=u["sub"], claims={k: v for k, v in u.items() if k != "sub"}) for u in users
        ],
    )
    server = werkzeug.serving.make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(2)


def main(argv: list[str]) -> None:
    from oidc_provider_mock.__main__ import run

    args = list(argv) + ["--require-nonce", "true"]
    for user in demo_users():
        args += ["--user-claims", json.dumps(user)]
    run.main(args=args, standalone_mode=True)


if __name__ == "__main__":
    main(sys.argv[1:])
