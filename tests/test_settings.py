"""Settings: environment over file over default, each value cast, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatapp.errors import ConfigError
from chatapp.settings import Settings, load_settings, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("1.5s", 1.5)],
)
def test_durations_take_s_m_h_d_suffixes(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "30 minutes", "-1s", "1w", "1e3"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_defaults_are_the_contracts(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.ini", environ={})
    assert settings == Settings()
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8888)
    assert settings.session.store == "file"
    assert (settings.session.idle_timeout, settings.session.absolute_timeout) == (1800, 604800)
    assert settings.database.url == "sqlite:///var/chatapp.sqlite3"
    assert settings.mongodb.driver == "pymongo"
    assert settings.socketio.allowed_origins == ()


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_text(
        "[session]\nstore = redis ; a comment\nidle_timeout = 10m\n"
        "[socketio]\nallowed_origins = https://a.example, https://b.example\n"
    )
    settings = load_settings(
        path,
        environ={"CHATAPP_SESSION_STORE": "memory", "CHATAPP_COOKIE_SECRET": "e" * 40},
        overrides={"server": {"port": 0}},
    )
    assert settings.session.store == "memory"
    assert settings.session.idle_timeout == 600
    assert settings.server.cookie_secret == "e" * 40
    assert settings.server.port == 0
    assert settings.socketio.allowed_origins == ("https://a.example", "https://b.example")


def test_an_unknown_key_is_logged_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.ini"
    path.write_text("[session]\nstroe = redis\n")
    assert load_settings(path, environ={}).session.store == "file"
    assert "[session] stroe" in caplog.text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[session]\nstore = postgres", "[session] store"),
        ("[session]\ntouch_interval = 1h", "[session] touch_interval"),
        ("[socketio]\nallowed_origins = example.org", "[socketio] allowed_origins"),
        ("[socketio]\nmessage_queue = amqp://x", "[socketio] message_queue"),
        ("[database]\nurl = postgres://x", "[database] url"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "settings.ini"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert error.value.key == key
