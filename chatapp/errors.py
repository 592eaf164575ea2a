"""chatapp's own errors, and the one table that turns any error into an answer.

Each message says what to fix and where. `answer_for` is used by HTTP
handlers (`{"error": {...}}` with the status) and socket events (`{"ok":
false, "error": {...}}`) alike, so an error reads the same on both transports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stores.errors import SessionGone, SessionValueError, StoreUnavailable


class ChatappError(Exception):
    """Base of chatapp's errors."""


class ConfigError(ChatappError):
    """A setting is malformed; the message names the key, e.g. `[session] store`."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


class BackendUnavailable(ChatappError):
    """A backing server named in the settings did not answer at start-up."""

    def __init__(self, key: str, url: str, detail: str) -> None:
        super().__init__(f"{key}: {url} did not answer ({detail}); is it running?")
        self.key = key


class ServiceUnavailable(ChatappError):
    """A backing server (the database, the message queue) failed while serving: a 503."""


@dataclass(frozen=True)
class Answer:
    """What a client is told about an error, on either transport."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def json(self) -> str:
        """The body as the text of an HTTP answer."""
        return json.dumps(self.body())

    def ack(self) -> dict[str, Any]:
        return {"ok": False, **self.body()}


class ApiError(ChatappError):
    """An error a client caused, answered with the contract's error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.answer = Answer(status, code, message, headers or {})

    @property
    def code(self) -> str:
        return self.answer.code


_UNAVAILABLE = Answer(503, "backend_unavailable", "a backing server is unavailable; try again soon")

#: Errors raised below the handlers, by class (looked up along the class's MRO).
ANSWERS: dict[type[BaseException], Answer] = {
    StoreUnavailable: _UNAVAILABLE,
    ServiceUnavailable: _UNAVAILABLE,
    SessionGone: Answer(401, "session_ended", "the session has ended; log in again"),
    SessionValueError: Answer(400, "invalid_value", "that value cannot be stored"),
}

#: For anything else: a bug, logged with its traceback; the client learns nothing more.
INTERNAL_ERROR = Answer(500, "internal_error", "the request could not be handled")


def answer_for(exc: BaseException) -> Answer:
    """The answer for an error: its own (ApiError), the table's, or INTERNAL_ERROR."""
    if isinstance(exc, ApiError):
        return exc.answer
    for cls in type(exc).__mro__:
        if cls in ANSWERS:
            return ANSWERS[cls]
    return INTERNAL_ERROR


def is_expected(exc: BaseException) -> bool:
    """True for errors that are answered, not bugs: no traceback in the log."""
    return answer_for(exc) is not INTERNAL_ERROR
