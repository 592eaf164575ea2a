"""chatapp's own errors: each message says what to fix and where."""

from __future__ import annotations


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


class ApiError(ChatappError):
    """An error a client caused, answered with the contract's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
