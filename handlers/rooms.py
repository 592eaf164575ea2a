"""Group chat over HTTP: /api/rooms and a room's messages, members and read mark."""

from __future__ import annotations

from chatapp import schemas as check
from chatapp.ratelimit import Budgets
from chatapp.schemas import NewMember, NewRoom, NewRoomText
from chatapp.social.models import RoomMessage, User
from handlers.base import ApiHandler, AuthoredItemHandler


class RoomsHandler(ApiHandler):
    async def get(self) -> None:
        rooms = await self.application.rooms.of(self.me)
        self.send_json({"rooms": [summary.public() for summary in rooms]})

    async def post(self) -> None:
        me = self.me
        new = self.body(NewRoom)
        await self.application.limits.friend_actions.spend(me.id)
        room = await self.application.rooms.create(me, new.name, new.members)
        self.send_json({"room": room.public()}, 201)


class RoomMessagesHandler(ApiHandler):
    async def get(self, room_id: str) -> None:
        limit = check.limit(self.get_query_argument("limit", None))
        before = check.cursor(self.get_query_argument("before", None))
        messages = await self.application.rooms.history(self.me, room_id, before, limit)
        self.send_page("messages", messages, limit)


class RoomMembersHandler(ApiHandler):
    async def post(self, room_id: str) -> None:
        me = self.me
        username = self.body(NewMember).username
        await self.application.limits.friend_actions.spend(me.id)
        await self.application.rooms.add(me, room_id, username)
        self.set_status(204)


class RoomMemberHandler(ApiHandler):
    async def delete(self, room_id: str, username: str) -> None:
        await self.application.rooms.remove(self.me, room_id, username)
        self.set_status(204)


class RoomReadHandler(ApiHandler):
    async def post(self, room_id: str) -> None:
        await self.application.rooms.mark_read(self.me, room_id)
        self.set_status(204)


class RoomMessageHandler(AuthoredItemHandler):
    key = "message"
    schema = NewRoomText

    def budget(self) -> Budgets:
        return self.application.limits.messages

    async def change(self, me: User, text: str | None, *path: str) -> RoomMessage:
        room_id, message_id = path
        return await self.application.rooms.change(me, room_id, message_id, text)
