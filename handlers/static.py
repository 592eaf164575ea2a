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
