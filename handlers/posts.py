"""Posts, the feed and comments."""

from __future__ import annotations

import re

from chatapp import schemas as check
from chatapp.errors import ApiError
from chatapp.ratelimit import Budgets
from chatapp.schemas import NewText
from chatapp.social.models import Comment, User
from handlers.base import ApiHandler, AuthoredItemHandler

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class PostsHandler(ApiHandler):
    async def post(self) -> None:
        me = self.me
        key = self.request.headers.get("Idempotency-Key")
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiError(
                400, "invalid_idempotency_key", "Idempotency-Key is 1-64 of A-Z a-z 0-9 - _"
            )
        text = self.body(NewText).text
        await self.application.limits.posts.spend(me.id)
        post, created = await self.application.social.post(me, text, key=key)
        self.send_json({"post": post.public()}, 201 if created else 200)


class FeedHandler(ApiHandler):
    async def get(self) -> None:
        me = self.me
        limit = check.limit(self.get_query_argument("limit", None))
        before = check.cursor(self.get_query_argument("before", None))
        posts = await self.application.social.feed(me, before, limit)
        self.send_page("posts", posts, limit)


class PostHandler(ApiHandler):
    async def get(self, post_id: str) -> None:
        post, comments = await self.application.social.post_with_comments(self.me, post_id)
        self.send_json({"post": post.public(), "comments": [c.public() for c in comments]})


class CommentsHandler(ApiHandler):
    async def post(self, post_id: str) -> None:
        me = self.me
        text = self.body(NewText).text
        await self.application.limits.comments.spend(me.id)
        comment = await self.application.social.comment(me, post_id, text)
        self.send_json({"comment": comment.public()}, 201)


class CommentHandler(AuthoredItemHandler):
    key = "comment"

    def budget(self) -> Budgets:
        return self.application.limits.comments

    async def change(self, me: User, text: str | None, *path: str) -> Comment:
        post_id, comment_id = path
        return await self.application.social.change_comment(me, post_id, comment_id, text)
