"""Who may reach a deployment's web server: the names it answers to and whether it asks for a
token. Plain data and host-name parsing only (the CLI reads it before importing the web stack).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Names that always mean this machine. A web page cannot make a browser send them in Host unless
# it was itself served under that name, so answering to them opens nothing to DNS rebinding.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class AccessPolicy:
    """How a web server checks requests before any route sees them.

    `bound_host` is the address it listens on. `allowed_hosts` are extra names it answers to
    (``name`` on any port, or ``name:port``) besides the loopback names and `bound_host` on its
    own port. With `auth`, every request needs a token (see `web.auth`).
    """

    bound_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    auth: bool = False


def is_loopback(host: str) -> bool:
    """True if listening on `host` is reachable from this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header's (or netloc's) name and port, lowercased (IPv6 kept in brackets); None if
    it is not a host name at all."""
    value = value.strip().lower()
    if not value or any(c in value for c in "/@?# \t"):
        return None
    if value.startswith("["):
        name, sep, rest = value.partition("]")
        name += "]"
        if not sep or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text_raw = value.partition(":")
        port_text = port_text_raw if colon else None
    if port_text is None:
        return name, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return name, int(port_text)


def bracketed(host: str) -> str:
    """`host` as it appears in a Host header: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def origin_netloc(origin: str) -> tuple[str, int] | None:
    """The (name, port) an ``Origin`` or ``Referer`` value names, the scheme's default port when
    none is written; None for ``null`` and anything else that is not an http(s) URL."""
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        return None
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    parsed = split_host(netloc)
    if parsed is None:
        return None
    name, port = parsed
    return name, port if port is not None else _DEFAULT_PORTS[scheme.lower()]
