"""What a socket keeps of the request that opened it, and the WebSocket handshake's answer.

python-socketio keeps a socket's `environ` for as long as the socket lives.
python-engineio's path puts the whole Tornado handler there (its request,
headers, parsed cookies: a few kB per socket); a socket on chatapp's own path
keeps a `Handshake` instead, the two things chatapp reads of its request
later: the client's address and its session cookie. `handshake_of` reads either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from tornado.httputil import HTTPServerRequest, parse_cookie

#: RFC 6455, 1.3: appended to the client's key before hashing.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: Where a socket on chatapp's own path keeps its Handshake in python-socketio's environ.
ENVIRON_KEY = "chatapp.handshake"


@dataclass(frozen=True, slots=True)
class Handshake:
    remote_ip: str
    #: The cookies kept, as a Cookie header: all that came, or only the one named by `keep`.
    cookie_header: str

    @classmethod
    def of(cls, request: HTTPServerRequest, keep: str | None = None) -> Handshake:
        """With `keep`, only that cookie is kept (if it reads back the same on its own): a
        browser sends every cookie of the site (analytics, preferences: often kilobytes),
        and a socket holds its Handshake for hours."""
        header = request.headers.get("Cookie", "")
        if keep is not None:
            value = parse_cookie(header).get(keep)
            alone = "" if value is None else f"{keep}={value}"
            if parse_cookie(alone).get(keep) == value:
                header = alone
        return cls(request.remote_ip or "", header)

    def cookie(self, name: str) -> str | None:
        return parse_cookie(self.cookie_header).get(name)


def handshake_of(environ: dict[str, Any]) -> Handshake:
    """The Handshake of a socket on either path (python-engineio's keeps the handler)."""
    kept = environ.get(ENVIRON_KEY)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    return Handshake.of(environ["tornado.handler"].request)


def accept_key(client_key: str) -> str | None:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key; None if the key is no key
    (16 random bytes in base64, RFC 6455 4.1)."""
    try:
        if len(base64.b64decode(client_key, validate=True)) != 16:
            return None
    except (binascii.Error, ValueError):
        return None
    return base64.b64encode(hashlib.sha1(client_key.encode() + _GUID).digest()).decode()
