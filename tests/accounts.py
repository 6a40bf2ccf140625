"""Helpers for staff activation links (procuration/activation.py) in tests."""

import re
from urllib.parse import urlsplit

LINK = re.compile(r"https?://\S+/activation/[^/\s]+/[^/\s]+/")


def activation_path(message) -> str:
    """The path of the activation link in an e-mail (django.core.mail message or OutboxEmail)."""
    body = getattr(message, "body", None) or getattr(message, "body_text", "")
    links = LINK.findall(body)
    assert len(links) == 1, body
    return urlsplit(links[0]).path


def sent_to(mailoutbox, address: str) -> list:
    return [m for m in mailoutbox if address in m.to]
