"""chatapp.transport.heartbeats: every socket's heartbeat on time (up to a tick late), once,
in order, with one loop timer for all; tests/test_transport.py holds the sockets to the
protocol's PING and PONG timing with the official clients."""

from __future__ import annotations

import asyncio

import pytest

from chatapp.transport.heartbeats import Heartbeats


class BeatRecorder:
    """A socket stand-in that notes when its heartbeats come, and may set its next one."""

    def __init__(self, heartbeats: Heartbeats, again_in: float | None = None) -> None:
        self.heartbeats = heartbeats
        self.again_in = again_in
        self.beats: list[float] = []

    def beat(self) -> None:
        self.beats.append(asyncio.get_running_loop().time())
        if self.again_in is not None and len(self.beats) < 3:
            self.heartbeats.due_in(self.again_in, self)


async def test_each_socket_beats_once_in_order_at_most_a_tick_late() -> None:
    heartbeats = Heartbeats(ping_interval=0.5, ping_timeout=0.5)
    assert heartbeats.tick == pytest.approx(0.05)
    loop = asyncio.get_running_loop()
    sockets = [BeatRecorder(heartbeats) for _ in range(5)]
    start = loop.time()
    delays = [0.3, 0.1, 0.2, 0.1, 0.25]
    for socket, delay in zip(sockets, delays, strict=True):
        heartbeats.due_in(delay, socket)
    await asyncio.sleep(0.5)
    for socket, delay in zip(sockets, delays, strict=True):
        assert len(socket.beats) == 1
        late = socket.beats[0] - (start + delay)
        assert -0.005 <= late <= heartbeats.tick + 0.05  # the loop's own jitter on top
    assert len(heartbeats) == 0


async def test_a_cancelled_heartbeat_never_comes_and_the_others_still_do() -> None:
    heartbeats = Heartbeats(ping_interval=0.5, ping_timeout=0.5)
    kept, cancelled = BeatRecorder(heartbeats), BeatRecorder(heartbeats)
    heartbeats.due_in(0.1, kept)
    bucket = heartbeats.due_in(0.1, cancelled)
    heartbeats.cancel(bucket, cancelled)
    heartbeats.cancel(bucket, cancelled)  # twice: nothing more happens
    await asyncio.sleep(0.3)
    assert len(kept.beats) == 1 and cancelled.beats == []
    assert len(heartbeats) == 0


async def test_a_beat_that_sets_a_later_one_does_not_delay_those_due_sooner() -> None:
    """A socket's beat sets its next (PING sent: the PONG is due; PONG came: the next PING);
    the one timer must still come for the sockets due between now and then."""
    heartbeats = Heartbeats(ping_interval=0.5, ping_timeout=0.5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    repeating, soon = BeatRecorder(heartbeats, again_in=0.6), BeatRecorder(heartbeats)
    heartbeats.due_in(0.05, repeating)
    heartbeats.due_in(0.2, soon)
    await asyncio.sleep(0.35)
    assert len(soon.beats) == 1 and soon.beats[0] - start < 0.2 + heartbeats.tick + 0.05
    await asyncio.sleep(0.5)
    assert len(repeating.beats) == 2


async def test_one_sockets_fault_is_logged_and_the_others_beat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heartbeats = Heartbeats(ping_interval=0.5, ping_timeout=0.5)

    class Broken:
        def beat(self) -> None:
            raise RuntimeError("a socket's own fault")

    fine = BeatRecorder(heartbeats)
    heartbeats.due_in(0.05, Broken())
    heartbeats.due_in(0.05, fine)
    await asyncio.sleep(0.2)
    assert len(fine.beats) == 1
    assert "a socket's heartbeat failed" in caplog.text


def test_the_tick_is_a_tenth_of_the_shortest_interval_and_never_over_a_second() -> None:
    assert Heartbeats(ping_interval=25, ping_timeout=20).tick == 1.0
    assert Heartbeats(ping_interval=5, ping_timeout=2).tick == pytest.approx(0.2)
