"""HTTP request handlers and Socket.IO event handlers, and the URL table that builds the app."""

from __future__ import annotations

from typing import Any

import tornado.web

from chatapp.app import ROOT, ChatApp
from chatapp.settings import Settings
from handlers.accounts import LoginHandler, SignupHandler
from handlers.devices import DeviceHandler, DevicesHandler, PasswordHandler
from handlers.friends import FriendHandler, FriendsHandler, UsersHandler
from handlers.health import HealthHandler, LoopLagHandler, MetricsHandler
from handlers.inbox import (
    ConversationReadHandler,
    ConversationsHandler,
    MessageHandler,
    MessagesHandler,
    NotificationsHandler,
    NotificationsReadHandler,
)
from handlers.pages import (
    ChatPage,
    ConversationsPage,
    FeedPage,
    FriendsPage,
    LoginPage,
    NotFoundHandler,
    NotificationsPage,
    PostPage,
    RoomPage,
    RoomsPage,
    SettingsPage,
    SignupPage,
)
from handlers.posts import (
    CommentHandler,
    CommentsHandler,
    FeedHandler,
    PostHandler,
    PostsHandler,
)
from handlers.rooms import (
    RoomMemberHandler,
    RoomMembersHandler,
    RoomMessageHandler,
    RoomMessagesHandler,
    RoomReadHandler,
    RoomsHandler,
)
from handlers.session_api import LogoutHandler, PrefsHandler, SessionHandler
from handlers.socket_events import ChatNamespace
from handlers.socketio_transport import socketio_handler
from handlers.static import AdminUIFiles, StaticFiles
from stores.base import SessionStore

#: The Socket.IO Admin UI's built page, installed from npm by `make setup`.
ADMIN_UI = ROOT / "node_modules" / "@socket.io" / "admin-ui" / "ui" / "dist"


def routes() -> list[Any]:
    return [
        (r"/healthz", HealthHandler),
        (r"/metrics", MetricsHandler),
        (r"/api/session", SessionHandler),
        (r"/api/prefs", PrefsHandler),
        (r"/api/logout", LogoutHandler),
        (r"/api/sessions", DevicesHandler),
        (r"/api/sessions/([^/]+)", DeviceHandler),
        (r"/api/password", PasswordHandler),
        (r"/api/signup", SignupHandler),
        (r"/api/login", LoginHandler),
        (r"/api/users", UsersHandler),
        (r"/api/friends", FriendsHandler),
        (r"/api/friends/([^/]+)", FriendHandler),
        (r"/api/posts", PostsHandler),
        (r"/api/feed", FeedHandler),
        (r"/api/posts/([^/]+)", PostHandler),
        (r"/api/posts/([^/]+)/comments", CommentsHandler),
        (r"/api/posts/([^/]+)/comments/([^/]+)", CommentHandler),
        (r"/api/notifications", NotificationsHandler),
        (r"/api/notifications/read", NotificationsReadHandler),
        (r"/api/messages/([^/]+)", MessagesHandler),
        (r"/api/messages/([^/]+)/([^/]+)", MessageHandler),
        (r"/api/conversations", ConversationsHandler),
        (r"/api/conversations/([^/]+)/read", ConversationReadHandler),
        (r"/api/rooms", RoomsHandler),
        (r"/api/rooms/([^/]+)/messages", RoomMessagesHandler),
        (r"/api/rooms/([^/]+)/messages/([^/]+)", RoomMessageHandler),
        (r"/api/rooms/([^/]+)/members", RoomMembersHandler),
        (r"/api/rooms/([^/]+)/members/([^/]+)", RoomMemberHandler),
        (r"/api/rooms/([^/]+)/read", RoomReadHandler),
        (r"/", FeedPage),
        (r"/login", LoginPage),
        (r"/signup", SignupPage),
        (r"/friends", FriendsPage),
        (r"/messages", ConversationsPage),
        (r"/messages/([a-z0-9_]{3,32})", ChatPage),
        (r"/posts/([0-9]{1,19})", PostPage),
        (r"/rooms", RoomsPage),
        (r"/rooms/([0-9]{1,19})", RoomPage),
        (r"/notifications", NotificationsPage),
        (r"/settings", SettingsPage),
        # The Socket.IO browser client, installed from npm by `make setup`.
        (
            r"/vendor/(socket\.io\.min\.js(?:\.map)?)",
            StaticFiles,
            {"path": str(ROOT / "node_modules" / "socket.io-client" / "dist")},
        ),
    ]


def make_app(settings: Settings, *, store: SessionStore | None = None, **extra: Any) -> ChatApp:
    """The whole application: chatapp's services, this URL table and the socket events."""
    app = ChatApp(
        settings,
        routes(),
        store=store,
        default_handler_class=NotFoundHandler,
        static_handler_class=StaticFiles,
        **extra,
    )
    app.add_handlers(r".*", [(r"/socket.io/", socketio_handler(app))])
    if settings.admin.users:
        admin_ui = {"path": str(ADMIN_UI), "default_filename": "index.html"}
        app.add_handlers(
            r".*",
            [
                (r"/admin", tornado.web.RedirectHandler, {"url": "/admin/"}),
                (r"/admin/(.*)", AdminUIFiles, admin_ui),
            ],
        )
    if settings.bench.loop_lag:
        app.add_handlers(r".*", [(r"/bench/loop-lag", LoopLagHandler)])
    app.sio.register_namespace(ChatNamespace(app))
    return app
