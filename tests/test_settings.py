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


@pytest.mark.parametrize(
    ("text", "environ", "key", "hint"),
    [
        ("[session]\nstroe = redis\n", {}, "[session] stroe", "did you mean store?"),
        ("[sesion]\nstore = redis\n", {}, "[sesion]", "did you mean session?"),
        ("", {"CHATAPP_SESSION_STROE": "redis"}, "CHATAPP_SESSION_STROE", "CHATAPP_SESSION_STORE"),
    ],
)
def test_a_typo_is_an_error_that_suggests_the_name(
    tmp_path: Path, text: str, environ: dict[str, str], key: str, hint: str
) -> None:
    """A misspelt store key must not silently fall back to the file store."""
    path = tmp_path / "settings.ini"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ=environ)
    assert error.value.key == key
    assert hint in str(error.value)


def test_test_variables_are_not_settings(tmp_path: Path) -> None:
    environ = {"CHATAPP_TEST_MONGODB_URL": "mongodb://127.0.0.1:1/x"}
    assert load_settings(tmp_path / "absent.ini", environ=environ) == Settings()


def test_a_file_may_name_only_a_short_idle_timeout(tmp_path: Path) -> None:
    """touch_interval's default follows idle_timeout: min(1 minute, half of it)."""
    path = tmp_path / "settings.ini"
    path.write_text("[session]\nidle_timeout = 2s\n")
    assert load_settings(path, environ={}).session.touch_interval == 1
    assert Settings().session.touch_interval == 60


def test_duration_errors_list_the_units(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_text("[session]\nidle_timeout = 30 minutes\n")
    with pytest.raises(ConfigError, match="s, m, h or d"):
        load_settings(path, environ={})


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


def test_every_store_settings_name_has_a_builder_and_no_other() -> None:
    from chatapp.backends import SESSION_STORES
    from chatapp.settings import SESSION_STORE_NAMES

    assert set(SESSION_STORES) == set(SESSION_STORE_NAMES)
