"""Log lines as text or one JSON object a line, each with the request id it belongs to.

A request id names one piece of work: an HTTP request (the client's
`X-Request-ID` when it is a sane token, else a new one; the answer carries it
back), or a socket event. It is kept in a context variable, so every line
logged while that work runs carries it, and it travels with what the work
causes later or elsewhere: the pushes it makes (delivered by another task,
chatapp.realtime.delivery) and the orders it publishes to every process
(chatapp.realtime.control), so "who ended this socket" is one search away.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from typing import Literal

#: The request id of the work this line belongs to ("-" outside any).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def new_request_id(offered: str | None = None) -> str:
    """The client's id if it is a sane token (a proxy's, to follow a request through
    both), else a fresh one; made the current one."""
    chosen = offered if offered is not None and _TOKEN.match(offered) else secrets.token_hex(8)
    request_id.set(chosen)
    return chosen


class WithRequestId(logging.Filter):
    """Puts the current request id on every record, for either format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and the traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: LogFormat) -> None:
    """Every log line to stdout, in this format, at INFO and above."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(WithRequestId())
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
