"""Steps shared by the end-to-end flows (mouse and keyboard variants)."""

import re

from django.conf import settings

from tests.factories import PASSWORD, totp_code


def new_page(browser, live_server):
    """A second person on another browser (own cookies), same locale as the `page` fixture."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", base_url=live_server.url)
    return context.new_page()


def messages_to(sink, address: str) -> list:
    return [m for m in sink.messages if address in (m["To"] or "")]


def wait_for_mail(sink, count: int, timeout: float = 30.0) -> list:
    messages = sink.wait_for(count, timeout=timeout)
    assert len(messages) >= count, f"{len(messages)} message(s) in the SMTP sink, {count} expected: " + ", ".join(
        m["Subject"] for m in messages
    )
    return messages


def body(message) -> str:
    """The text/plain part of a message received by the SMTP sink."""
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def subject(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def session_cookie_name() -> str:
    return settings.SESSION_COOKIE_NAME


def url_re(path_regex: str):
    return re.compile(r".*" + path_regex)


__all__ = ["PASSWORD", "totp_code", "new_page", "messages_to", "wait_for_mail", "body", "subject", "url_re"]
