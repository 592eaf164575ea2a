"""Settings: parsed once from settings.ini into frozen dataclasses.

Each key comes from the environment (`CHATAPP_<SECTION>_<KEY>`), else the file,
else its default, and is cast and checked here, so the rest of the code trusts
the types. An error names the key. Tests build `Settings` directly.
"""

from __future__ import annotations

import configparser
import dataclasses
import difflib
import os
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatapp.backends import SESSION_STORES
from chatapp.errors import ConfigError

MONGODB_DRIVERS = ("pymongo", "motor")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def _duration(**kwargs: Any) -> Any:
    return field(metadata={"duration": True}, **kwargs)


def _size(**kwargs: Any) -> Any:
    return field(metadata={"size": True}, **kwargs)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8888
    #: Prefer CHATAPP_COOKIE_SECRET; when neither is set, one is generated into cookie_secret_file.
    cookie_secret: str = ""
    #: Secrets cookies were signed with before a rotation: still read, never used to sign
    #: (CHATAPP_PREVIOUS_COOKIE_SECRETS, comma-separated).
    previous_cookie_secrets: tuple[str, ...] = ()
    cookie_secret_file: str = "var/cookie_secret"
    secure_cookies: bool = False
    #: Trust X-Forwarded-Proto/-For from a TLS proxy in front (and only then).
    behind_proxy: bool = False
    #: The largest HTTP request body (else 413).
    max_message_size: int = _size(default=64 * 1024)


@dataclass(frozen=True)
class SessionSettings:
    store: str = "file"
    idle_timeout: float = _duration(default=30 * 60)
    absolute_timeout: float = _duration(default=7 * 86400)
    #: Renew the idle expiry at most once per this interval, per session. 0 (the
    #: default) follows idle_timeout: min(1 minute, idle_timeout / 2).
    touch_interval: float = _duration(default=0)
    #: How often the memory and file stores are swept of expired sessions.
    sweep_interval: float = _duration(default=60)
    file_dir: str = "var/sessions"
    memory_max_sessions: int = 100_000

    def __post_init__(self) -> None:
        if self.touch_interval == 0:  # a default that follows the key it depends on
            object.__setattr__(self, "touch_interval", min(60.0, self.idle_timeout / 2))


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/chatapp.sqlite3"


@dataclass(frozen=True)
class AccountsSettings:
    #: bcrypt's work factor: 12 takes about a quarter second a hash on one core.
    bcrypt_cost: int = 12


@dataclass(frozen=True)
class MongoSettings:
    url: str = "mongodb://127.0.0.1:27017/chatapp"
    driver: str = "pymongo"
    #: Bound on connecting and on each operation.
    timeout: float = _duration(default=2)


@dataclass(frozen=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"
    timeout: float = _duration(default=2)


@dataclass(frozen=True)
class SocketIOSettings:
    message_queue: str = ""
    allowed_origins: tuple[str, ...] = ()
    #: The largest Socket.IO message, both transports (python-socketio's and Node's
    #: default); a larger one closes its connection. Fields have their own, smaller
    #: limits, answered with an ok:false ack.
    max_message_size: int = _size(default=1024 * 1024)
    #: Per socket: a steady rate of events and a burst above it.
    events_per_second: float = 20
    event_burst: int = 40
    max_sockets_per_user: int = 20
    #: How often each process looks for sockets whose session expired.
    session_check_interval: float = _duration(default=30)
    #: Engine.IO heartbeat (python-socketio's defaults); a proxy's idle timeout must be longer.
    ping_interval: float = _duration(default=25)
    ping_timeout: float = _duration(default=20)
    #: With a message queue: each process's heartbeat; a process silent for three
    #: beats counts as crashed, and its sockets no longer make anyone online.
    presence_heartbeat: float = _duration(default=5)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    accounts: AccountsSettings = field(default_factory=AccountsSettings)
    mongodb: MongoSettings = field(default_factory=MongoSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    socketio: SocketIOSettings = field(default_factory=SocketIOSettings)

    def __post_init__(self) -> None:
        _check(self)


def load_settings(
    path: str | os.PathLike[str] | None = "settings.ini",
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Settings from the environment, then the file at `path` (may be absent), then defaults.

    `overrides` (section -> key -> already typed value) win over both; run.py
    passes --host and --port through it. Raises ConfigError naming the key.
    """
    environ = os.environ if environ is None else environ
    parser = configparser.ConfigParser(
        inline_comment_prefixes=(";", "#"), interpolation=None, default_section="\0"
    )
    if path is not None and Path(path).exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigError(str(path), f"not a valid settings file: {exc.message}") from None
    classes = typing.get_type_hints(Settings)
    _refuse_unknown_names(parser, classes, environ)
    sections = {}
    for name, cls in classes.items():
        raw = dict(parser[name]) if parser.has_section(name) else {}
        sections[name] = _section(name, cls, raw, environ, (overrides or {}).get(name, {}))
    return Settings(**sections)


#: Secrets have short environment names of their own (they win over the long ones).
_SHORT_VARIABLES = {
    "CHATAPP_COOKIE_SECRET": ("server", "cookie_secret"),
    "CHATAPP_PREVIOUS_COOKIE_SECRETS": ("server", "previous_cookie_secrets"),
}
#: Environment variables that start with CHATAPP_ but are not settings.
_OTHER_VARIABLES = ("CHATAPP_TEST_",)


def _refuse_unknown_names(
    parser: configparser.ConfigParser, classes: dict[str, type], environ: Mapping[str, str]
) -> None:
    """A typo must not silently fall back to a default (say, the file store)."""
    known = {
        f"[{name}] {spec.name}": f"CHATAPP_{name}_{spec.name}".upper()
        for name, cls in classes.items()
        for spec in dataclasses.fields(cls)
    }
    for section in parser.sections():
        if section not in classes:
            raise ConfigError(f"[{section}]", "unknown section" + _did_you_mean(section, classes))
        for key in parser[section]:
            if f"[{section}] {key}" not in known:
                names = [spec.name for spec in dataclasses.fields(classes[section])]
                raise ConfigError(f"[{section}] {key}", "unknown key" + _did_you_mean(key, names))
    variables = {*known.values(), *_SHORT_VARIABLES}
    for variable in environ:
        if (
            variable.startswith("CHATAPP_")
            and variable not in variables
            and not variable.startswith(_OTHER_VARIABLES)
        ):
            hint = _did_you_mean(variable, variables)
            raise ConfigError(variable, "unknown environment variable" + hint)


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def parse_size(text: str) -> int:
    """Bytes in '65536', '64k' or '1m' (binary units); ValueError otherwise."""
    match = re.match(r"^\s*(\d+)\s*([km]?)\s*$", text.lower())
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2)]


def parse_duration(text: str) -> float:
    """Seconds in '90', '90s', '30m', '12h' or '7d'; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def _section(
    name: str, cls: type, raw: dict[str, str], environ: Mapping[str, str], given: Mapping[str, Any]
) -> Any:
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        if spec.name in given:
            values[spec.name] = given[spec.name]
            continue
        text = environ.get(f"CHATAPP_{name}_{spec.name}".upper())
        for variable, key in _SHORT_VARIABLES.items():
            if key == (name, spec.name):
                text = environ.get(variable, text)
        if text is None:
            text = raw.get(spec.name)
        if text is not None:
            values[spec.name] = _cast(f"[{name}] {spec.name}", spec, text.strip())
    return cls(**values)


def _cast(key: str, spec: dataclasses.Field[Any], text: str) -> Any:
    kind = spec.type if isinstance(spec.type, str) else spec.type.__name__
    try:
        if spec.metadata.get("duration"):
            return parse_duration(text)
        if spec.metadata.get("size"):
            return parse_size(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            return {
                "true": True,
                "yes": True,
                "on": True,
                "1": True,
                "false": False,
                "no": False,
                "off": False,
                "0": False,
            }[text.lower()]
        if kind.startswith("tuple"):
            return tuple(item for item in re.split(r"[\s,]+", text) if item)
        return text
    except (ValueError, KeyError):
        if spec.metadata.get("size"):
            hint = "a size such as 65536, 64k or 1m"
        elif spec.metadata.get("duration"):
            hint = "a duration: a number with s, m, h or d (90s, 30m, 12h, 7d)"
        else:
            hint = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(
                kind, "text"
            )
        raise ConfigError(key, f"{text!r} is not {hint}") from None


def _check(settings: Settings) -> None:
    """Checks across keys; the file may name only what it changes, so defaults pass."""
    s = settings.session
    if s.store not in SESSION_STORES:
        raise ConfigError(
            "[session] store", f"unknown store {s.store!r}; choose {', '.join(SESSION_STORES)}"
        )
    for key, value in (
        ("idle_timeout", s.idle_timeout),
        ("absolute_timeout", s.absolute_timeout),
        ("sweep_interval", s.sweep_interval),
    ):
        if value <= 0:
            raise ConfigError(f"[session] {key}", "must be longer than 0s")
    if s.touch_interval >= s.idle_timeout:
        raise ConfigError("[session] touch_interval", "must be shorter than idle_timeout")
    if s.memory_max_sessions < 1:
        raise ConfigError("[session] memory_max_sessions", "must be at least 1")
    io = settings.socketio
    for key, value in (
        ("events_per_second", io.events_per_second),
        ("event_burst", io.event_burst),
        ("max_sockets_per_user", io.max_sockets_per_user),
        ("session_check_interval", io.session_check_interval),
        ("ping_interval", io.ping_interval),
        ("ping_timeout", io.ping_timeout),
        ("presence_heartbeat", io.presence_heartbeat),
    ):
        if value <= 0:
            raise ConfigError(f"[socketio] {key}", "must be more than 0")
    if io.session_check_interval > 90:  # session:expiring's window is 2 min to 30 s
        raise ConfigError("[socketio] session_check_interval", "must be at most 90s")
    if not 4 <= settings.accounts.bcrypt_cost <= 16:
        raise ConfigError("[accounts] bcrypt_cost", "must be between 4 and 16")
    for section, size in (
        ("server", settings.server.max_message_size),
        ("socketio", settings.socketio.max_message_size),
    ):
        if size < 1024:
            raise ConfigError(f"[{section}] max_message_size", "must be at least 1k")
    if not 0 <= settings.server.port <= 65535:
        raise ConfigError("[server] port", "must be between 0 and 65535")
    if settings.mongodb.driver not in MONGODB_DRIVERS:
        raise ConfigError(
            "[mongodb] driver",
            f"unknown driver {settings.mongodb.driver!r}; choose pymongo or motor",
        )
    _check_url("[mongodb] url", settings.mongodb.url, ("mongodb://", "mongodb+srv://"))
    _check_url("[redis] url", settings.redis.url, ("redis://", "rediss://", "unix://"))
    _check_url(
        "[database] url", settings.database.url, ("sqlite:///", "mongodb://", "mongodb+srv://")
    )
    if settings.socketio.message_queue:
        _check_url(
            "[socketio] message_queue", settings.socketio.message_queue, ("redis://", "rediss://")
        )
    for origin in settings.socketio.allowed_origins:
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(
                "[socketio] allowed_origins",
                f"{origin!r} is not an origin like https://example.org",
            )


def _check_url(key: str, url: str, schemes: tuple[str, ...]) -> None:
    if not url.startswith(schemes):
        raise ConfigError(key, f"{url!r} must start with {' or '.join(schemes)}")
