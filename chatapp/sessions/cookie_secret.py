"""The key that signs session cookies: never in the repository.

Taken from the settings (CHATAPP_COOKIE_SECRET, then `[server] cookie_secret`);
otherwise generated once into a file only the owner can read, so restarts
keep every signed cookie valid.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from chatapp.errors import ConfigError
from stores.file import private_directory


def resolve_cookie_secret(configured: str, secret_file: str | os.PathLike[str]) -> str:
    """The configured secret, or the one in `secret_file`, created (mode 0600) if absent."""
    if configured:
        if len(configured) < 32:
            raise ConfigError("[server] cookie_secret", "must be at least 32 characters")
        return configured
    path = Path(secret_file)
    try:
        if not path.exists():
            _create_once(path)
        secret = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            "[server] cookie_secret_file", f"cannot read or create {path}: {exc.strerror}"
        ) from None
    if len(secret) < 32:
        raise ConfigError("[server] cookie_secret_file", f"{path} holds fewer than 32 characters")
    return secret


def check_previous_secrets(previous: tuple[str, ...]) -> tuple[str, ...]:
    """Secrets from before a rotation, each as long as a current one must be."""
    for secret in previous:
        if len(secret) < 32:
            raise ConfigError(
                "[server] previous_cookie_secrets", "each must be at least 32 characters"
            )
    return previous


def _create_once(path: Path) -> None:
    """Write a new secret to `path` unless another process got there first."""
    private_directory(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temp, path)  # atomic: the file appears whole, or not at all
    except FileExistsError:
        pass
    finally:
        temp.unlink()
