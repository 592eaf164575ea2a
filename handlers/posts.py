"""Posts, the feed and comments."""

from __future__ import annotations

from chatapp import schemas as check
from chatapp.schemas import NewText
from handlers.base import ApiHandler


class PostsHandler(ApiHandler):
    async def post(self) -> None:
        me = self.me
        post = await self.application.social.post(me, self.body(NewText).text)
        self.send_json({"post": post.public()}, 201)


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
        comment = await self.application.social.comment(me, post_id, text)
        self.send_json({"comment": comment.public()}, 201)
