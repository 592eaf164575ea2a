"""POST /api/signup and POST /api/login."""

from __future__ import annotations

from chatapp.schemas import LogIn, SignUp
from handlers.base import ApiHandler


class SignupHandler(ApiHandler):
    async def post(self) -> None:
        body = self.body(SignUp)
        user = await self.application.accounts.sign_up(
            body.username,
            body.password,
            body.display_name or body.username,
            self.request.remote_ip or "unknown",
        )
        await self.session.log_in(user.id, self.device())
        self.send_json({"user": user.public()}, 201)


class LoginHandler(ApiHandler):
    async def post(self) -> None:
        body = self.body(LogIn)
        user = await self.application.accounts.log_in(
            body.username[:64], body.password, self.request.remote_ip or "unknown"
        )
        await self.session.log_in(user.id, self.device())
        self.send_json({"user": user.public()})
