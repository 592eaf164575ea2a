"""An oversized request body gets the contract's 413, never a reset or a bare 400.

Tornado enforces its `max_body_size` by writing `400 Bad Request` with no body and
closing the connection; a client still sending its body then sees a reset, not an
answer. So chatapp sets Tornado's own limit DRAIN_FACTOR times higher and keeps
the real one here, in front of the router: a body announced (Content-Length) or
found (chunked) larger than the limit never reaches a handler; what is left of it
is read and thrown away, and the answer is a 413 in the error shape on the same
connection. A body announced larger than even Tornado's limit is answered at once:
the connection is taken from Tornado, the 413 written, the rest of what the client
sends drained for a moment (so the close cannot reset the answer away), then closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import cast

from tornado import httputil
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from chatapp.errors import Answer

log = logging.getLogger(__name__)

#: Tornado's own limit, as a multiple of chatapp's: bodies up to this are drained.
DRAIN_FACTOR = 16
#: How long the answer to a body too large to drain waits for the client to stop.
LINGER_SECONDS = 2.0


class BodyLimit(httputil.HTTPMessageDelegate):
    """Wraps the router's delegate for one request: 413 for a body over `limit` bytes."""

    def __init__(
        self, inner: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection, limit: int
    ) -> None:
        self.inner, self.connection, self.limit = inner, connection, limit
        self.request = ""
        self.received = 0
        self.passed_on = False  # the router has the headers: it must hear how it ended
        self.too_large = False

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        self.request = f"{getattr(start_line, 'method', '')} {getattr(start_line, 'path', '')}"
        announced = headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > self.limit:
            self.too_large = True
            if int(announced) > self.limit * DRAIN_FACTOR:
                return self._answer_and_close()
            return None
        self.passed_on = True
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self.received += len(chunk)
        if self.received > self.limit:
            self.too_large = True  # a chunked body, found too large while reading it
        if self.too_large:
            return None
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        if not self.too_large:
            self.inner.finish()
            return
        if self.passed_on:
            self.inner.on_connection_close()
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 413, "Payload Too Large"),
            *self._answer(),
        )
        self.connection.finish()

    def on_connection_close(self) -> None:
        if self.passed_on:
            self.inner.on_connection_close()

    def _answer(self) -> tuple[httputil.HTTPHeaders, bytes]:
        log.info("413 %s: a body over %d bytes", self.request, self.limit)
        message = f"the request body is larger than {self.limit} bytes"
        body = Answer(413, "too_large", message).json().encode()
        headers = httputil.HTTPHeaders(
            {
                "Content-Type": "application/json; charset=UTF-8",
                "X-Content-Type-Options": "nosniff",
                "Content-Length": str(len(body)),
            }
        )
        return headers, body

    async def _answer_and_close(self) -> None:
        stream = cast(HTTP1Connection, self.connection).detach()
        headers, body = self._answer()
        headers["Connection"] = "close"
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.get_all())
        try:
            await stream.write(f"HTTP/1.1 413 Payload Too Large\r\n{head}\r\n".encode() + body)
            async with asyncio.timeout(LINGER_SECONDS):
                while True:
                    await stream.read_bytes(64 * 1024, partial=True)
        except (StreamClosedError, TimeoutError):
            pass
        finally:
            stream.close()
