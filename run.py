"""Start chatapp: one process, Tornado HTTP and Socket.IO on one IOLoop.

    python run.py [--config settings.ini] [--host H] [--port N] [--demo]

A bad setting or a backing server that does not answer at start-up ends the
process with exactly one line on stderr, naming the key, and exit status 2.
Logs go to stdout, as text or JSON lines (`[server] log_format`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from chatapp import logs
from chatapp.demo import seed
from chatapp.errors import ChatappError
from chatapp.settings import Settings, load_settings
from handlers import make_app


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="chatapp: one login for HTTP and WebSockets")
    parser.add_argument("--config", default=None, help="settings file (default: settings.ini)")
    parser.add_argument("--host", help="overrides [server] host")
    parser.add_argument("--port", type=int, help="overrides [server] port; 0 picks a free one")
    parser.add_argument(
        "--demo", action="store_true", help="create demo users alice, bob, carol (see README)"
    )
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    if args.config is not None and not _readable(args.config):
        raise ChatappError(f"--config: cannot read {args.config}")
    server = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return load_settings(args.config or "settings.ini", overrides={"server": server})


async def serve(settings: Settings, *, demo: bool = False) -> None:
    app = make_app(settings)
    await app.start()
    if demo:
        try:
            app.demo_logins = await seed(app.accounts, app.social, app.rooms)
        except ChatappError:
            await app.stop()
            raise
    host, port = settings.server.host, settings.server.port
    try:
        sockets = bind_sockets(port, host)
    except OSError as exc:
        await app.stop()
        raise ChatappError(
            f"[server] port: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    server = HTTPServer(app, **app.server_options())
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    # What start-up made lives as long as the process: out of the collector's sight, a full
    # collection scans only what came after (25-50 ms pauses in a post's fan-out before,
    # 2-7 ms after; docs/PERFORMANCE.md).
    gc.freeze()
    print(f"chatapp listening on http://{host}:{bound}", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    server.stop()
    await app.stop()
    await server.close_all_connections()


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        settings = settings_from(args)
        logs.configure(settings.server.log_format)
        asyncio.run(serve(settings, demo=args.demo))
    except ChatappError as exc:
        print("chatapp: " + " ".join(str(exc).split()), file=sys.stderr)  # one line
        return 2
    return 0


def _readable(path: str) -> bool:
    try:
        with open(path, encoding="utf-8"):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
