"""POST /api/signup and POST /api/login."""

from __future__ import annotations

from chatapp import validation as check
from chatapp.errors import ApiError
from handlers.base import ApiHandler


class SignupHandler(ApiHandler):
    async def post(self) -> None:
        body = self.json_body()
        check.fields(body, {"username", "password"}, frozenset({"display_name"}))
        username = check.username(body["username"])
        password = check.password(body["password"])
        display_name = check.display_name(body.get("display_name", username))
        user = await self.application.accounts.sign_up(username, password, display_name)
        await self.session.log_in(user.id, self.device())
        self.send_json({"user": user.public()}, 201)


class LoginHandler(ApiHandler):
    async def post(self) -> None:
        body = self.json_body()
        check.fields(body, {"username", "password"})
        username, password = body["username"], body["password"]
        if not isinstance(username, str) or not isinstance(password, str):
            raise ApiError(400, "invalid_credentials", "username and password are strings")
        user = await self.application.accounts.log_in(
            username[:64], password, self.request.remote_ip or "unknown"
        )
        await self.session.log_in(user.id, self.device())
        self.send_json({"user": user.public()})
