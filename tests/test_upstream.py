"""chatapp.upstream: the table of reaches below python-socketio's, python-engineio's and
Tornado's public API holds for what is installed, and names every upstream method that
chatapp's classes override."""

from __future__ import annotations

import importlib
import inspect

import pytest

from chatapp import upstream

#: chatapp's classes that subclass an upstream one.
SUBCLASSES = [
    "chatapp.realtime.server:ChatServer",
    "chatapp.realtime.rooms:RoomIndex",
    "chatapp.realtime.delivery:DirectEmit",
    "chatapp.realtime.delivery:RedisDirectEmit",
    "chatapp.realtime.packets:ChatPacket",
]
UPSTREAM = ("socketio", "engineio", "tornado")


def resolve(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def test_the_installed_versions_and_members_are_the_ones_written_for() -> None:
    assert upstream.mismatches() == []
    for reach in upstream.REACHES:
        assert resolve(reach.where) is not None, reach.where


def test_every_upstream_method_a_subclass_overrides_is_listed() -> None:
    listed = {(r.where, r.upstream.partition(":")[2].split(".")[-1]) for r in upstream.REACHES}
    for where in SUBCLASSES:
        cls = resolve(where)
        assert inspect.isclass(cls)
        bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] in UPSTREAM]
        for name, member in vars(cls).items():
            method = callable(member) or isinstance(member, (classmethod, staticmethod))
            if method and name != "__init__" and any(hasattr(b, name) for b in bases):
                assert (where, name) in listed, f"{where}.{name} overrides upstream: list it"


def test_a_version_or_member_that_moved_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(upstream.WRITTEN_FOR, "tornado", "0.1")
    gone = upstream.Reach("socketio.async_server:AsyncServer._no_such_member", "here", "a test")
    monkeypatch.setattr(upstream, "REACHES", [*upstream.REACHES, gone])
    found = upstream.mismatches()
    assert any(problem.startswith("tornado ") for problem in found)
    assert any("_no_such_member" in problem for problem in found)
