"""GET /api/users, GET /api/friends, POST and DELETE /api/friends/{username}."""

from __future__ import annotations

from chatapp.errors import ApiError
from handlers.base import ApiHandler

#: Longer than any username or display name: nobody's starts with it.
_LONGEST = 64


class UsersHandler(ApiHandler):
    async def get(self) -> None:
        me = self.me
        prefix = self.get_query_argument("q", "").strip()
        if len(prefix) > _LONGEST or any(ord(c) < 32 for c in prefix):
            self.send_json({"users": []})
            return
        found = await self.application.social.search(me, prefix, 20)
        self.send_json({"users": [person.public() for person in found]})


class FriendsHandler(ApiHandler):
    async def get(self) -> None:
        me = self.me
        lists = await self.application.social.friends(me)
        self.send_json({name: [p.public() for p in people] for name, people in lists.items()})


class FriendHandler(ApiHandler):
    async def post(self, username: str) -> None:
        me = self.me
        await self.application.limits.friend_actions.spend(me.id)
        self.send_json({"friendship": await self.application.social.befriend(me, username)})

    async def delete(self, username: str) -> None:
        me = self.me
        expect = self.get_query_argument("expect", None)
        if expect not in (None, "friends", "requested", "incoming"):
            raise ApiError(400, "invalid_expect", "expect is friends, requested or incoming")
        await self.application.limits.friend_actions.spend(me.id)
        await self.application.social.unfriend(me, username, expect)
        self.set_status(204)
