"""Local OpenID Connect provider for development and tests (oidc-provider-mock on loopback).

It plays FranceConnect and France Identité: the demo electors are predefined users whose
claims mimic FranceConnect's (given_name, family_name, birthdate, gender, birthplace, email).
A nonce is required, as FranceConnect requires it.

    python -m procuration.oidc_mock --port 9400
"""

import json
import sys


def demo_users() -> list[dict]:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")
    django.setup()
    from procuration.demo import DEMO_ELECTORS

    users = []
    for nne, nom, prenoms, sexe, naissance, code, _lieu in DEMO_ELECTORS:
        users.append(
            {
                "sub": f"fc-{nne}",
                "given_name": prenoms,
                "family_name": nom,
                "birthdate": naissance.isoformat(),
                "gender": "female" if sexe == "F" else "male",
                "birthplace": code,
                "birthcountry": "99100",
                "email": f"{prenoms.split()[0].lower()}.{nom.lower()}@demo.example",
                "email_verified": True,
            }
        )
    return users


def main(argv: list[str]) -> None:
    from oidc_provider_mock.__main__ import run

    args = list(argv) + ["--require-nonce", "true"]
    for user in demo_users():
        args += ["--user-claims", json.dumps(user)]
    run.main(args=args, standalone_mode=True)


if __name__ == "__main__":
    main(sys.argv[1:])
