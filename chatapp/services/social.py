"""What happens when: each social action stores first, then tells the sockets.

Every push goes through the userSockets registry, one emit to many rooms,
whatever the number of recipients; a notification is stored before it is
pushed, so a user who was offline finds it in GET /api/notifications. A
`skip_sid` is the socket that made the change: it has its answer in the ack.
"""

from __future__ import annotations

from chatapp.accounts.user_cache import UserCache
from chatapp.errors import ApiError
from chatapp.realtime.registry import UserSockets
from chatapp.social.base import Database
from chatapp.social.models import (
    Comment,
    Conversation,
    Message,
    Notification,
    Person,
    Post,
    User,
)

# How a friendship reads from the other side.
_MIRRORED = {"requested": "incoming", "incoming": "requested"}


class Social:
    def __init__(self, db: Database, sockets: UserSockets, users: UserCache) -> None:
        self.db = db
        self.sockets = sockets
        self.users = users

    async def someone(self, username: str) -> User:
        """The user with this username, or 404."""
        account = await self.db.account(username)
        if account is None:
            raise ApiError(404, "unknown_user", f"no user {username[:32]!r}")
        return account.user

    # -- friends ----------------------------------------------------------------------------

    async def befriend(self, user: User, username: str) -> str:
        """Ask `username` to be friends, or accept their request; the friendship afterwards."""
        other = await self.someone(username)
        if other.id == user.id:
            raise ApiError(400, "own_account", "you cannot befriend yourself")
        before = await self.db.friendship(user.id, other.id)
        after = await self.db.request_friendship(user.id, other.id)
        if before != after:
            await self._friendship_changed(user, other, after)
        if before == "none" and after == "requested":
            await self._notify([other.id], "friend_request", user)
        elif before != "friends" and after == "friends":
            await self._notify([other.id], "friend_accepted", user)
        return after

    async def unfriend(self, user: User, username: str, expect: str | None = None) -> None:
        """Unfriend, decline or cancel; with `expect`, only from that state (else 409).

        A page that shows "Cancel request" sends expect=requested: if the request
        was accepted meanwhile, the click cannot unfriend.
        """
        other = await self.someone(username)
        found = await self.db.end_friendship(user.id, other.id, expect)
        if expect is not None and found != expect:
            raise ApiError(
                409, "friendship_changed", f"the friendship is {found} now, not {expect}"
            )
        if found != "none":
            await self._friendship_changed(user, other, "none")

    async def _friendship_changed(self, user: User, other: User, state: str) -> None:
        """`friendship:changed` to both people's pages, each from their own side, so
        no open page keeps offering a button for a state that is gone."""
        await self.sockets.push_to_user(
            user.id, "friendship:changed", {"user": other.public(), "friendship": state}
        )
        await self.sockets.push_to_user(
            other.id,
            "friendship:changed",
            {"user": user.public(), "friendship": _MIRRORED.get(state, state)},
        )

    async def friends(self, user: User) -> dict[str, list[Person]]:
        """The user's friends (with presence), incoming and sent requests."""
        friends = await self.db.related(user.id, "friends")
        online = await self.sockets.online_among(f.id for f in friends)  # one round trip
        return {
            "friends": [Person(f, "friends", f.id in online) for f in friends],
            "incoming": [Person(u, "incoming") for u in await self.db.related(user.id, "incoming")],
            "requested": [
                Person(u, "requested") for u in await self.db.related(user.id, "requested")
            ],
        }

    async def search(self, user: User, prefix: str, limit: int) -> list[Person]:
        """Users whose username or display name starts with `prefix`, the searcher left out."""
        found = await self.db.search_users(prefix, limit)
        states = await self.db.friendships(user.id, [u.id for u in found])
        return [Person(u, states[u.id]) for u in found if u.id != user.id]

    # -- posts and comments ----------------------------------------------------------------------

    async def post(
        self, author: User, text: str, *, key: str | None = None, skip_sid: str | None = None
    ) -> tuple[Post, bool]:
        """A new post told to friends, and True; a repeat of `key` (Idempotency-Key)
        within 24 hours answers the first post, and False: nothing new is made or sent."""
        published = await self.db.publish_post(author, text, key)
        post, notification = published.post, published.notification
        if not published.created:
            return post, False
        # Both stored first, then pushed as one: each friend's socket is found once and
        # written the two together (chatapp.realtime.delivery), the author's other tabs
        # the post alone.
        await self.sockets.push_to_user(author.id, "feed:post", post.public(), skip_sid=skip_sid)
        if notification is not None:
            await self.sockets.push_all_to_users(
                published.friends,
                [("feed:post", post.public()), ("notification", notification.public())],
            )
        return post, True

    async def feed(self, viewer: User, before: str | None, limit: int) -> list[Post]:
        return await self.db.feed(viewer.id, before, limit)

    async def post_with_comments(self, viewer: User, post_id: str) -> tuple[Post, list[Comment]]:
        """A post the viewer may see and its comments, oldest first; 404 otherwise."""
        post = await self.db.visible_post(post_id, viewer.id)
        if post is None:
            raise ApiError(404, "unknown_post", "no such post")
        return post, await self.db.comments(post_id, viewer.id)

    async def comment(
        self, author: User, post_id: str, text: str, *, skip_sid: str | None = None
    ) -> Comment:
        comment = await self.db.add_comment(post_id, author.id, text)
        post = await self.db.visible_post(post_id, author.id)
        if comment is None or post is None:
            raise ApiError(404, "unknown_post", "no such post")
        can_see = [post.author.id, *await self.db.friend_ids(post.author.id)]
        await self.sockets.push_to_users(
            can_see, "feed:comment", comment.public(), skip_sid=skip_sid
        )
        if post.author.id != author.id:
            await self._notify([post.author.id], "comment", author, post_id=post.id)
        return comment

    async def change_comment(
        self,
        author: User,
        post_id: str,
        comment_id: str,
        text: str | None,
        *,
        skip_sid: str | None = None,
    ) -> Comment:
        """The author's comment with new text (None: deleted), to everyone who can see the
        post as `feed:comment_edited`."""
        comment = await self.db.comment(post_id, comment_id, author.id)
        post = await self.db.visible_post(post_id, author.id)
        if comment is None or post is None or comment.change.deleted:
            raise ApiError(404, "unknown_comment", "no such comment")
        check_author(comment.author, author)
        await self.db.change("comments", comment.id, text)
        changed = await self.db.comment(post_id, comment_id, author.id)
        assert changed is not None
        can_see = [post.author.id, *await self.db.friend_ids(post.author.id)]
        await self.sockets.push_to_users(
            can_see, "feed:comment_edited", changed.public(), skip_sid=skip_sid
        )
        return changed

    # -- messages and profile ---------------------------------------------------------------------

    async def message(
        self, sender: User, username: str, text: str, *, skip_sid: str | None = None
    ) -> Message:
        """A direct message to a friend: to their sockets and the sender's other ones."""
        recipient = await self._friend(sender, username)
        message = await self.db.send_message(sender.id, recipient.id, text)
        await self.sockets.push_to_users(
            [recipient.id, sender.id], "chat:message", message.public(), skip_sid=skip_sid
        )
        await self._notify([recipient.id], "message", sender, text=text)
        return message

    async def change_message(
        self,
        sender: User,
        username: str,
        message_id: str,
        text: str | None,
        *,
        skip_sid: str | None = None,
    ) -> Message:
        """The sender's direct message with new text (None: deleted), as `chat:edited` to
        both people's sockets but the sending one."""
        other = await self.someone(username)
        message = await self.db.message(sender.id, other.id, message_id)
        if message is None or message.change.deleted:
            raise ApiError(404, "unknown_message", "no such message")
        check_author(message.sender, sender)
        await self.db.change("messages", message.id, text)
        changed = await self.db.message(sender.id, other.id, message_id)
        assert changed is not None
        await self.sockets.push_to_users(
            [other.id, sender.id], "chat:edited", changed.public(), skip_sid=skip_sid
        )
        return changed

    async def conversation(
        self, user: User, username: str, before: str | None, limit: int
    ) -> list[Message]:
        """Messages with a friend, newest first, older than the `before` cursor."""
        friend = await self._friend(user, username)
        return await self.db.messages(user.id, friend.id, before, limit)

    async def conversations(self, user: User) -> list[Conversation]:
        """One per friend the user has exchanged messages with, most recent first."""
        friends = set(await self.db.friend_ids(user.id))
        return [
            Conversation(other, message, unread)
            for message, unread in await self.db.conversations(user.id)
            if (other := message.other_party(user.id)).id in friends
        ]

    async def mark_conversation_read(self, user: User, username: str) -> None:
        friend = await self._friend(user, username)
        await self.db.mark_conversation_read(user.id, friend.id)
        await self._tell_unread(user)

    async def _friend(self, user: User, username: str) -> User:
        """The friend with this username; 404 for no such user, 403 for a non-friend."""
        other = await self.someone(username)
        if await self.db.friendship(user.id, other.id) != "friends":
            raise ApiError(403, "not_friends", "messages are between friends only")
        return other

    # -- notifications -------------------------------------------------------------------------

    async def notifications(
        self, user: User, before: str | None, limit: int
    ) -> tuple[list[Notification], int]:
        """A page of notifications, newest first, and the number unread (all of them)."""
        return await self.db.notifications(user.id, before, limit)

    async def mark_read(self, user: User, ids: list[str] | None) -> None:
        """Mark these (None: all) of the user's notifications read."""
        await self.db.mark_read(user.id, ids)
        await self._tell_unread(user)

    async def _tell_unread(self, user: User) -> None:
        """The unread count to every tab of the user, so each bell agrees after a read."""
        _, unread = await self.db.notifications(user.id, None, 1)
        await self.sockets.push_to_user(user.id, "notifications:unread", {"unread": unread})

    async def rename(self, user: User, display_name: str, *, skip_sid: str | None = None) -> User:
        renamed = await self.db.rename(user.id, display_name)
        if renamed is None:
            raise ApiError(404, "unknown_user", "your account no longer exists")
        self.users.renamed(renamed)
        friends = await self.db.friend_ids(user.id)
        await self.sockets.push_to_users(
            [*friends, user.id], "user:renamed", renamed.public(), skip_sid=skip_sid
        )
        return renamed

    async def _notify(
        self,
        user_ids: list[str],
        kind: str,
        actor: User,
        *,
        post_id: str | None = None,
        text: str | None = None,
    ) -> None:
        notification = await self.db.notify(user_ids, kind, actor, post_id=post_id, text=text)
        await self._push_notification(user_ids, notification)

    async def _push_notification(self, user_ids: list[str], stored: Notification | None) -> None:
        if stored is not None:
            await self.sockets.push_to_users(user_ids, "notification", stored.public())


def check_author(author: User, user: User) -> None:
    """Only an item's author edits or deletes it."""
    if author.id != user.id:
        raise ApiError(403, "not_author", "only its author may change this")
