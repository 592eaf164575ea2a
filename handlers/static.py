"""Static files (the app's and the vendored Socket.IO client): errors in the error shape.

Tornado's StaticFileHandler answers a missing file with an HTML page and no
`nosniff`; here a 404 or 403 is the contract's JSON error, and every answer,
file or error, carries `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

from http.client import responses
from typing import Any

from tornado.web import StaticFileHandler

from chatapp.errors import Answer
from handlers.base import HTTP_ERROR_CODES


class StaticFiles(StaticFileHandler):
    """Tornado routes `/favicon.ico` here itself; browsers and tools ask for it whatever
    a page names, so it is the app's one icon, favicon.svg (served as SVG)."""

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return super().get_absolute_path(root, "favicon.svg" if path == "favicon.ico" else path)

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        code = HTTP_ERROR_CODES.get(status_code, "error")
        answer = Answer(status_code, code, responses.get(status_code, "error").lower())
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(answer.json())


#: The Socket.IO Admin UI's built page: its own script only, its styles inline (Vuetify
#: writes them), and its fonts and icons from the two CDNs its index.html names.
ADMIN_UI_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com https://cdn.jsdelivr.net",
        "font-src https://fonts.gstatic.com https://cdn.jsdelivr.net",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class AdminUIFiles(StaticFiles):
    """The Socket.IO Admin UI (`[admin] users`), from npm's @socket.io/admin-ui: public code
    that can do nothing by itself; its socket is admitted by an admin's login
    (chatapp.realtime.admin)."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Security-Policy", ADMIN_UI_POLICY)
        self.set_header("Referrer-Policy", "same-origin")
