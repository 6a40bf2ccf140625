"""The client's address, the one every limiter and the audit trail use.

Behind a TLS proxy every request comes from the proxy's address. `X-Forwarded-For` is read only
when the peer (REMOTE_ADDR) is one of the proxies listed in TRUSTED_PROXIES (addresses or CIDRs,
empty by default): then the right-most address of the header that is not itself a trusted proxy
is the client (each proxy appends the address it received the request from, so the left part of
the header is whatever the client chose to send). A request from any other peer is taken at its
REMOTE_ADDR, whatever headers it carries.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    networks = []
    for item in proxies:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES : « {item} » n'est ni une adresse IP ni un réseau CIDR.") from None
    return tuple(networks)


def _parse(raw: str):
    try:
        return ipaddress.ip_address(raw.strip())
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request) -> str:
    """The address of the client of this request ("" if REMOTE_ADDR is missing or malformed)."""
    peer = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return ""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = ",".join(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-32:])  # bounded
    for raw in reversed(forwarded.split(",")):
        address = _parse(raw)
        if address is None:
            # A malformed hop: what lies left of it cannot be trusted; the last sound hop is the client.
            break
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)
