"""Which webhook targets are allowed: https only, and never an address of our own network (a
partner must not make the worker call into it), unless WEBHOOK_ALLOW_PRIVATE_TARGETS is on
(development and tests, which receive on loopback)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def target_error(url, *, resolve=True):
    """Why `url` may not receive webhooks, or None."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "The target URL must start with https://."
    if not parts.hostname:
        return "The target URL needs a host name."
    if parts.username or parts.password:
        return "The target URL may not carry a user name or password."
    if allow_private:
        return None
    try:
        addresses = {ipaddress.ip_address(parts.hostname)}
    except ValueError:
        if not resolve:
            return None
        try:
            infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
        except OSError:
            return f"The host name “{parts.hostname}” does not resolve."
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return f"The target resolves to a private or reserved address ({address}); use a public one."
    return None
