"""Settings: parsed once from settings.ini into frozen pydantic models.

Each key comes from the environment (`CHATAPP_<SECTION>_<KEY>`), else the file,
else its default. pydantic casts and checks every value (its declared type,
bounds and the validators below), so the rest of the code trusts the types;
`load_settings` turns the first refusal into one ConfigError naming the key
(`[session] idle_timeout: ...`), and a misspelt section, key or CHATAPP_
variable is an error with a "did you mean", never a silent default. Tests
build `Settings` directly.
"""

from __future__ import annotations

import configparser
import difflib
import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from chatapp.errors import ConfigError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_SIZE = re.compile(r"^\s*(\d+)\s*([km]?)\s*$")
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


def parse_duration(text: str) -> float:
    """Seconds in '90', '90s', '30m', '12h' or '7d'; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_size(text: str) -> int:
    """Bytes in '65536', '64k' or '1m' (binary units); ValueError otherwise."""
    match = _SIZE.match(text.lower())
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2)]


def _from_text(parse: Any, kind: str) -> BeforeValidator:
    """Accept a number as it is, or text in the settings' notation for it."""

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except ValueError:
            raise PydanticCustomError("notation", f"{value!r} is not {kind}") from None

    return BeforeValidator(convert)


def _list(value: Any) -> Any:
    return (
        tuple(item for item in re.split(r"[\s,]+", value) if item)
        if isinstance(value, str)
        else value
    )


def _url(*schemes: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, str) and value and not value.startswith(schemes):
            raise PydanticCustomError("url", f"{value!r} must start with {' or '.join(schemes)}")
        return value

    return BeforeValidator(check)


Duration = Annotated[
    float, _from_text(parse_duration, "a duration: a number with s, m, h or d (90s, 30m, 12h, 7d)")
]
Size = Annotated[int, _from_text(parse_size, "a size such as 65536, 64k or 1m")]
Words = Annotated[tuple[str, ...], BeforeValidator(_list)]


#: The session stores `[session] store` may name; chatapp.backends has one builder for each
#: (tests/test_settings.py holds the two to the same names).
SESSION_STORE_NAMES = ("memory", "file", "mongodb", "redis")


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8888, ge=0, le=65535)
    #: Prefer CHATAPP_COOKIE_SECRET; when neither is set, one is generated into cookie_secret_file.
    cookie_secret: str = ""
    #: Secrets cookies were signed with before a rotation: still read, never used to sign
    #: (CHATAPP_PREVIOUS_COOKIE_SECRETS, comma-separated).
    previous_cookie_secrets: Words = ()
    cookie_secret_file: str = "var/cookie_secret"
    secure_cookies: bool = False
    #: Trust X-Forwarded-Proto/-For from a TLS proxy in front (and only then).
    behind_proxy: bool = False
    #: The largest HTTP request body (else 413).
    max_message_size: Size = Field(default=64 * 1024, ge=1024)
    #: A log line per request answered below 400 (errors are always logged). A proxy
    #: in front logs them too; here they cost about a quarter of a small request.
    access_log: bool = True
    #: Log lines as text, or one JSON object a line (chatapp.logs); either way each names
    #: the request id of the work it belongs to.
    log_format: Literal["text", "json"] = "text"


class SessionSettings(Section):
    store: str = "file"
    idle_timeout: Duration = Field(default=30 * 60, gt=0)
    absolute_timeout: Duration = Field(default=7 * 86400, gt=0)
    #: Renew the idle expiry at most once per this interval, per session. 0 (the
    #: default) follows idle_timeout: min(1 minute, idle_timeout / 2).
    touch_interval: Duration = Field(default=0, ge=0, validate_default=True)
    #: How often the memory and file stores are swept of expired sessions.
    sweep_interval: Duration = Field(default=60, gt=0)
    file_dir: str = "var/sessions"
    memory_max_sessions: int = Field(default=100_000, ge=1)

    @field_validator("store")
    @classmethod
    def _known_store(cls, store: str) -> str:
        if store not in SESSION_STORE_NAMES:
            choices = ", ".join(SESSION_STORE_NAMES)
            raise PydanticCustomError("store", f"unknown store {store!r}; choose {choices}")
        return store

    @field_validator("touch_interval")
    @classmethod
    def _follows_idle_timeout(cls, interval: float, info: ValidationInfo) -> float:
        idle = float(info.data.get("idle_timeout", 30 * 60))
        if interval == 0:  # a default that follows the key it depends on
            return min(60.0, idle / 2)
        if interval >= idle:
            raise PydanticCustomError("order", "must be shorter than idle_timeout")
        return interval


class DatabaseSettings(Section):
    url: Annotated[str, _url("sqlite:///", "mongodb://", "mongodb+srv://")] = (
        "sqlite:///var/chatapp.sqlite3"
    )


class AccountsSettings(Section):
    #: How new password hashes are made; hashes of the other kind still verify, and are
    #: replaced at the next login (chatapp.accounts.passwords).
    password_hash: Literal["argon2id", "bcrypt"] = "argon2id"
    #: argon2id's passes and memory: OWASP's 2 and 19 MiB take about 30 ms on one core.
    argon2_time_cost: int = Field(default=2, ge=1, le=10)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8, le=1024 * 1024)
    #: bcrypt's work factor (password_hash = bcrypt): 12 takes about a quarter second.
    bcrypt_cost: int = Field(default=12, ge=4, le=16)
    #: Hashing work (logins, sign-ups, password changes) that may wait for a thread
    #: (one per core, chatapp.accounts.passwords); more is refused at once, 503 `busy`.
    max_waiting_hashes: int = Field(default=32, ge=1)


class MongoSettings(Section):
    url: Annotated[str, _url("mongodb://", "mongodb+srv://")] = "mongodb://127.0.0.1:27017/chatapp"
    driver: Literal["pymongo", "motor"] = "pymongo"
    #: Bound on connecting and on each operation.
    timeout: Duration = Field(default=2, gt=0)


class RedisSettings(Section):
    #: Or `redis+sentinel://[:password@]host:port,host:port/db/service` (docs/DEPLOY.md).
    url: Annotated[str, _url("redis://", "rediss://", "unix://", "redis+sentinel://")] = (
        "redis://127.0.0.1:6379/0"
    )
    timeout: Duration = Field(default=2, gt=0)
    #: Every key chatapp's session store and login throttle write starts with it,
    #: so several apps can share one Redis (connect-redis's `prefix`).
    prefix: str = Field(default="chatapp:", pattern=r"^[A-Za-z0-9_.:{}-]{1,64}$")


class SocketIOSettings(Section):
    message_queue: Annotated[str, _url("redis://", "rediss://", "redis+sentinel://")] = ""
    allowed_origins: Words = ()
    #: The largest Socket.IO message, both transports (python-socketio's and Node's
    #: default); a larger one closes its connection. Fields have their own, smaller
    #: limits, answered with an ok:false ack.
    max_message_size: Size = Field(default=1024 * 1024, ge=1024)
    #: Per socket: a steady rate of events and a burst above it.
    events_per_second: float = Field(default=20, gt=0)
    event_burst: int = Field(default=40, gt=0)
    max_sockets_per_user: int = Field(default=20, gt=0)
    #: Open Engine.IO connections from one client address (behind a proxy, the
    #: forwarded one), logged in or not; more are refused 429 at the handshake.
    max_connections_per_address: int = Field(default=100, gt=0)
    #: How often each process ends sockets of expired sessions and warns those about to
    #: expire; at most 90 s, as session:expiring's window is 2 minutes to 30 seconds.
    session_check_interval: Duration = Field(default=30, gt=0, le=90)
    #: Engine.IO heartbeat (python-socketio's defaults); a proxy's idle timeout must be longer.
    ping_interval: Duration = Field(default=25, gt=0)
    ping_timeout: Duration = Field(default=20, gt=0)
    #: With a message queue: each process's heartbeat; a process silent for three
    #: beats counts as crashed, and its sockets no longer make anyone online.
    presence_heartbeat: Duration = Field(default=5, gt=0)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise PydanticCustomError(
                    "origin", f"{origin!r} is not an origin like https://example.org"
                )
        return origins


class LimitSettings(Section):
    """What one user may write per minute (each also at once), over HTTP and sockets
    alike, counted across processes when there is a shared Redis (chatapp.ratelimit); and
    how many anonymous sessions and socket
    connections one address may start per minute. Past a limit: 429 `rate_limited`
    with Retry-After (an ok:false ack on a socket)."""

    posts_per_minute: int = Field(default=10, gt=0)
    comments_per_minute: int = Field(default=30, gt=0)
    friend_actions_per_minute: int = Field(default=20, gt=0)
    messages_per_minute: int = Field(default=60, gt=0)
    anonymous_sessions_per_minute: int = Field(default=20, gt=0)
    #: Socket handshakes per client address (behind a proxy, the forwarded one), two
    #: seconds' worth at once. A page load opens one; generous, as many users may share
    #: an address (a NAT); what it stops is a client connecting in a loop.
    socket_connections_per_minute: int = Field(default=3000, gt=0)


class MetricsSettings(Section):
    """GET /metrics, in Prometheus' text format (docs/DEPLOY.md has the scrape config)."""

    #: The client addresses (behind a proxy, the forwarded one) that may read it, as
    #: networks; empty: nobody (the endpoint answers 403 to all).
    allowed_networks: Words = ("127.0.0.0/8", "::1/128")

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise PydanticCustomError(
                    "network", f"{network!r} is not a network like 10.0.0.0/8"
                ) from None
        return networks


class AdminSettings(Section):
    """The Socket.IO Admin UI at /admin/ (chatapp.realtime.admin), for these users only."""

    #: The usernames whose login opens it; empty: no Admin UI (nothing is served or
    #: instrumented).
    users: Words = ()
    #: Watch only: no disconnecting sockets or moving them between rooms from the UI.
    read_only: bool = True
    #: Seconds between the server's reports to an open Admin UI.
    stats_interval: float = Field(default=2.0, gt=0, le=60)


class BenchSettings(Section):
    """For bench/compare.py only; off in every real deployment."""

    #: Sample the IOLoop's lag every 10 ms and serve it at GET /bench/loop-lag.
    loop_lag: bool = False


class Settings(Section):
    server: ServerSettings = ServerSettings()
    session: SessionSettings = SessionSettings()
    database: DatabaseSettings = DatabaseSettings()
    accounts: AccountsSettings = AccountsSettings()
    mongodb: MongoSettings = MongoSettings()
    redis: RedisSettings = RedisSettings()
    socketio: SocketIOSettings = SocketIOSettings()
    limits: LimitSettings = LimitSettings()
    metrics: MetricsSettings = MetricsSettings()
    admin: AdminSettings = AdminSettings()
    bench: BenchSettings = BenchSettings()

    def changed(self, **sections: Mapping[str, Any]) -> Settings:
        """These settings with some keys changed (section -> key -> value), checked again.

        Only what was given is carried over, so a derived default (touch_interval)
        follows a changed key it depends on.
        """
        data = self.model_dump(exclude_unset=True)
        for name, values in sections.items():
            data[name] = {**data.get(name, {}), **values}
        return Settings.model_validate(data)


#: Secrets have short environment names of their own (they win over the long ones).
_SHORT_VARIABLES = {
    "CHATAPP_COOKIE_SECRET": ("server", "cookie_secret"),
    "CHATAPP_PREVIOUS_COOKIE_SECRETS": ("server", "previous_cookie_secrets"),
}
#: Environment variables that start with CHATAPP_ but are not settings.
_OTHER_VARIABLES = ("CHATAPP_TEST_",)


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
    data = _read_file(path)
    variables = _variables()
    for variable in environ:
        ours = variable.startswith("CHATAPP_") and not variable.startswith(_OTHER_VARIABLES)
        if ours and variable not in variables:
            hint = _did_you_mean(variable, variables)
            raise ConfigError(variable, "unknown environment variable" + hint)
    for variable, (section, key) in sorted(variables.items(), key=_short_last):
        if variable in environ:
            data.setdefault(section, {})[key] = environ[variable]
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc) from None


def _read_file(path: str | os.PathLike[str] | None) -> dict[str, dict[str, Any]]:
    parser = configparser.ConfigParser(
        inline_comment_prefixes=(";", "#"), interpolation=None, default_section="\0"
    )
    if path is not None and Path(path).exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigError(str(path), f"not a valid settings file: {exc.message}") from None
    return {name: {k: v.strip() for k, v in parser[name].items()} for name in parser.sections()}


def _variables() -> dict[str, tuple[str, str]]:
    """Every settings environment variable and the (section, key) it sets."""
    names = {
        f"CHATAPP_{section}_{key}".upper(): (section, key)
        for section, model in Settings.model_fields.items()
        for key in _fields(model.annotation)
    }
    return {**names, **_SHORT_VARIABLES}


def _short_last(item: tuple[str, tuple[str, str]]) -> bool:
    return item[0] in _SHORT_VARIABLES


def _fields(model: Any) -> list[str]:
    return (
        list(model.model_fields) if isinstance(model, type) and issubclass(model, Section) else []
    )


def _config_error(exc: ValidationError) -> ConfigError:
    """The first refusal as a one-line error naming the key, with a hint for a typo."""
    error = exc.errors(include_url=False)[0]
    location = [str(part) for part in error["loc"]]
    section = location[0]
    key = f"[{section}] {location[1]}" if len(location) > 1 else f"[{section}]"
    if error["type"] == "extra_forbidden":
        if len(location) == 1:
            return ConfigError(
                key, "unknown section" + _did_you_mean(section, Settings.model_fields)
            )
        model = Settings.model_fields[section].annotation
        return ConfigError(key, "unknown key" + _did_you_mean(location[1], _fields(model)))
    message = str(error["msg"]).removeprefix("Value error, ")
    return ConfigError(key, message)


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""
