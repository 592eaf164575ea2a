"""The session as the HTTP API shows it: GET /api/session, PUT /api/prefs, POST /api/logout."""

from __future__ import annotations

from chatapp.sessions.prefs import parse_prefs, prefs_of
from handlers.base import ApiHandler


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
        self.session["prefs"] = {**prefs_of(self.session), **parse_prefs(self.json_body())}
        self.send_json({"prefs": self.session["prefs"]})


class LogoutHandler(ApiHandler):
    async def post(self) -> None:
        await self.session.destroy()
        self.set_status(204)
