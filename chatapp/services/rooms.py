"""Group chat: rooms of friends, authorised from the store on every action.

A member is whoever the database says is one now, never what a socket
remembers: every action reads membership first (sending checks it in the
same write that stores the message). Members' sockets are in the room's
Socket.IO room (chatapp.realtime.registry.chat_room), joined at connect and
changed by orders that travel the pushes' ordered path to every process, so
a message pushed after a removal never reaches the removed member. A room's
outsider learns nothing: every answer to one is 404 `unknown_room`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chatapp.errors import ApiError
from chatapp.realtime.registry import UserSockets
from chatapp.schemas import MAX_ROOM_MEMBERS
from chatapp.services.social import check_author
from chatapp.social.base import Database
from chatapp.social.models import Room, RoomMessage, RoomSummary, User

#: `room:typing` goes out at most this often per user and room (seconds).
TYPING_EVERY = 3.0
#: Typing marks kept before the stale ones are dropped.
_TYPING_KEPT = 10_000


def unknown_room() -> ApiError:
    """What an outsider hears of any room, existing or not."""
    return ApiError(404, "unknown_room", "no such room")


class Rooms:
    def __init__(
        self, db: Database, sockets: UserSockets, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.sockets = sockets
        self.clock = clock
        self._typed: dict[tuple[str, str], float] = {}

    async def create(self, owner: User, name: str, usernames: list[str]) -> Room:
        """A room of the owner and these friends of theirs."""
        wanted = [u for u in dict.fromkeys(usernames) if u != owner.username]
        if len(wanted) + 1 > MAX_ROOM_MEMBERS:
            raise ApiError(400, "too_many_members", f"a room has at most {MAX_ROOM_MEMBERS}")
        members = [await self._friend_of(owner, username) for username in wanted]
        room = await self.db.create_room(owner.id, name, [m.id for m in members])
        for member in room.members:
            await self.sockets.room_joined(member.id, room.id)
        await self._tell_members(room)
        return room

    async def visible(self, user: User, room_id: str) -> Room:
        """The room, for a member; 404 `unknown_room` for anyone else."""
        return await self._member_of(user, room_id)

    async def of(self, user: User) -> list[RoomSummary]:
        return await self.db.rooms(user.id)

    async def history(
        self, user: User, room_id: str, before: str | None, limit: int
    ) -> list[RoomMessage]:
        messages = await self.db.room_messages(room_id, user.id, before, limit)
        if messages is None:
            raise unknown_room()
        return messages

    async def add(self, user: User, room_id: str, username: str) -> None:
        """Any member adds a friend of their own; their sockets receive the room at once."""
        room = await self._member_of(user, room_id)
        friend = await self._friend_of(user, username)
        if room.has_member(friend.id):
            return
        if len(room.members) >= MAX_ROOM_MEMBERS:
            raise ApiError(409, "room_full", f"a room has at most {MAX_ROOM_MEMBERS} members")
        if not await self.db.add_room_member(room.id, friend.id):
            raise unknown_room()
        await self.sockets.room_joined(friend.id, room.id)
        await self._tell_members(await self._member_of(user, room_id))

    async def remove(self, user: User, room_id: str, username: str) -> None:
        """The owner removes anyone, a member themselves; the removed member's sockets
        receive nothing more of the room, in any process, from this moment."""
        room = await self._member_of(user, room_id)
        leaving = next((m for m in room.members if m.username == username), None)
        if leaving is None:
            raise ApiError(404, "unknown_member", "no such member in this room")
        if leaving.id != user.id and user.id != room.owner.id:
            raise ApiError(403, "forbidden", "only the owner removes other members")
        await self.db.remove_room_member(room.id, leaving.id)
        await self.sockets.room_left(leaving.id, room.id)
        remaining = [m for m in room.members if m.id != leaving.id]
        shown = Room(room.id, room.name, room.owner, tuple(remaining), room.created_at)
        await self.sockets.push_to_users(
            [leaving.id, *(m.id for m in remaining)], "room:members", {"room": shown.public()}
        )

    async def mark_read(self, user: User, room_id: str) -> None:
        if not await self.db.mark_room_read(room_id, user.id):
            raise unknown_room()

    async def send(
        self, sender: User, room_id: str, text: str, *, skip_sid: str | None = None
    ) -> RoomMessage:
        """Stored if the sender is a member now, then to every member's sockets; a member
        with no socket open gets a `room_message` notification."""
        message = await self.db.send_room_message(room_id, sender.id, text)
        if message is None:
            raise unknown_room()
        await self.sockets.push_to_room(
            room_id, "room:message", message.public(), skip_sid=skip_sid
        )
        room = await self.db.room(room_id, sender.id)
        others = [m.id for m in room.members if m.id != sender.id] if room else []
        online = await self.sockets.online_among(others)
        offline = [m for m in others if m not in online]
        await self.db.notify(offline, "room_message", sender, text=text, room_id=room_id)
        return message

    async def change(
        self,
        user: User,
        room_id: str,
        message_id: str,
        text: str | None,
        *,
        skip_sid: str | None = None,
    ) -> RoomMessage:
        """The sender's message with new text (None: deleted), as `room:edited` to the
        members' sockets but the sending one; only while the sender is a member."""
        await self._member_of(user, room_id)
        message = await self.db.room_message(room_id, message_id, user.id)
        if message is None or message.change.deleted:
            raise ApiError(404, "unknown_message", "no such message")
        check_author(message.sender, user)
        await self.db.change("room_messages", message.id, text)
        changed = await self.db.room_message(room_id, message_id, user.id)
        if changed is None:  # removed meanwhile
            raise unknown_room()
        await self.sockets.push_to_room(room_id, "room:edited", changed.public(), skip_sid=skip_sid)
        return changed

    async def typing(self, user: User, room_id: str, *, skip_sid: str | None = None) -> None:
        """`room:typing` to the members' other sockets, at most once per TYPING_EVERY."""
        await self._member_of(user, room_id)
        now, key = self.clock(), (user.id, room_id)
        if now - self._typed.get(key, -TYPING_EVERY) < TYPING_EVERY:
            return
        if len(self._typed) >= _TYPING_KEPT:
            self._typed = {k: t for k, t in self._typed.items() if now - t < TYPING_EVERY}
        self._typed[key] = now
        await self.sockets.push_to_room(
            room_id, "room:typing", {"room": room_id, "user": user.public()}, skip_sid=skip_sid
        )

    async def _member_of(self, user: User, room_id: str) -> Room:
        room = await self.db.room(room_id, user.id)
        if room is None:
            raise unknown_room()
        return room

    async def _friend_of(self, user: User, username: str) -> User:
        account = await self.db.account(username)
        if account is None or await self.db.friendship(user.id, account.user.id) != "friends":
            raise ApiError(400, "not_friends", f"{username[:32]} is not your friend")
        return account.user

    async def _tell_members(self, room: Room) -> None:
        await self.sockets.push_to_users(
            [m.id for m in room.members], "room:members", {"room": room.public()}
        )
