"""Which page origins may open a Socket.IO connection: one rule for both transports.

The rule: the page's own origin (the request's real scheme and its Host),
plus the origins listed in `[socketio] allowed_origins`. Always an explicit
list, because python-engineio's default is not enough on Tornado: its
WebSocket handler then accepts every origin at the upgrade (101) and leaves
a foreign socket hanging, and Tornado serving TLS itself is seen as `http`.
The own origin is always in, because Tornado (6.6 on) accepts a same-origin
upgrade without asking. Behind a TLS proxy, `[server] behind_proxy = true`
makes Tornado take the scheme from X-Forwarded-Proto.
"""

from __future__ import annotations

from tornado.httputil import HTTPServerRequest


class OriginPolicy:
    def __init__(self, allowed_origins: tuple[str, ...]) -> None:
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def origins_for(self, request: HTTPServerRequest) -> frozenset[str]:
        """The explicit list of origins allowed for this request."""
        # request.protocol is "https" when Tornado serves TLS itself, and the
        # forwarded scheme when the server trusts a proxy's X-Forwarded-Proto.
        return self.allowed_origins | {f"{request.protocol}://{request.host}".lower()}

    def allows(self, origin: str | None, request: HTTPServerRequest) -> bool:
        """No Origin header (not a browser) is allowed: the session cookie still decides."""
        return origin is None or origin.rstrip("/").lower() in self.origins_for(request)
