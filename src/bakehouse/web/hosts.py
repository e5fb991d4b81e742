"""The trusted-host check: a request whose Host header is not a name this server answers to
gets 400, before anything else looks at it.

This is what stops DNS rebinding: a page at ``attacker.example`` whose name is made to point at
127.0.0.1 can reach the server from a victim's browser, but its requests say
``Host: attacker.example``. The server answers to the loopback names and its bound address on
its own port, to the address the connection arrived at (an IP literal cannot be rebound), and to
the names given with ``--allowed-host`` (``name`` on any port, or ``name:port``).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bakehouse.web.access import LOOPBACK_NAMES, AccessPolicy, bracketed, split_host
from bakehouse.web.refusal import refusal

# How much of a refused Host header the answer repeats.
_ECHO = 100


class TrustedHostMiddleware:
    """Answers 400 to HTTP and websocket requests for a Host the policy does not allow."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.own_names = {*LOOPBACK_NAMES, bracketed(policy.bound_host.lower())}
        self.extra: list[tuple[str, int | None]] = []
        for entry in policy.allowed_hosts:
            parsed = split_host(entry)
            if parsed is None:
                raise ValueError(f"--allowed-host {entry!r} is not a host name or name:port")
            self.extra.append(parsed)

    def allows(self, host: str, server: tuple[str, int] | None) -> bool:
        """True if a request to `server` (address, port) saying ``Host: host`` may go on."""
        parsed = split_host(host)
        if parsed is None:
            return False
        name, port = parsed
        for allowed_name, allowed_port in self.extra:
            if name == allowed_name and allowed_port in (None, port):
                return True
        if server is None:  # no socket (an in-process client): the port cannot be checked
            return name in self.own_names
        own = {*self.own_names, bracketed(str(server[0]).lower())}
        return name in own and (port or 80) == server[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if self.allows(host, scope.get("server")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = host[:_ECHO] + ("…" if len(host) > _ECHO else "")
        detail = (
            f"this server does not answer to the host name '{shown}'. To reach it under that "
            "name, start it with --allowed-host NAME (see docs/security.md)"
        )
        await refusal(scope, 400, detail)(scope, receive, send)
