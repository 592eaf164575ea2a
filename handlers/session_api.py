"""The session as the HTTP API shows it: GET /api/session, PUT /api/prefs, POST /api/logout."""

from __future__ import annotations

from typing import Any

from chatapp.errors import ApiError
from handlers.base import ApiHandler

THEMES = ("light", "dark")
DEFAULT_PREFS = {"theme": "light"}


def prefs_of(session: Any) -> dict[str, Any]:
    return {**DEFAULT_PREFS, **session.get("prefs", {})}


class SessionHandler(ApiHandler):
    async def get(self) -> None:
        user = self.session.get("user") if self.session.user_id else None
        self.send_json(
            {
                "authenticated": user is not None,
                "user": user,
                "prefs": prefs_of(self.session),
                "xsrf": self.xsrf_token.decode(),  # also sets the _xsrf cookie
            }
        )


class PrefsHandler(ApiHandler):
    """Prefs belong to the session, not the user: another login has its own."""

    async def put(self) -> None:
        body = self.json_body()
        unknown = body.keys() - {"theme"}
        if unknown:
            raise ApiError(400, "unknown_field", f"unknown field: {sorted(unknown)[0]}")
        if body.get("theme") not in THEMES:
            raise ApiError(400, "invalid_theme", 'theme must be "light" or "dark"')
        self.session["prefs"] = {**prefs_of(self.session), "theme": body["theme"]}
        self.send_json({"prefs": self.session["prefs"]})


class LogoutHandler(ApiHandler):
    async def post(self) -> None:
        await self.session.destroy()
        self.set_status(204)
