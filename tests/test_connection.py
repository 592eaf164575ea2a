"""chatapp.transport.connection over a real socket pair: what asyncio's transport promised,
kept (order, back-pressure, close after pending, connection_lost once and never re-entrant)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatapp.transport.connection import READS_PER_TURN, Connection, Readers
from tests.helpers import eventually


class Recorder:
    def __init__(self, fail_on: bytes | None = None) -> None:
        self.transport: Connection | None = None
        self.received = bytearray()
        self.lost: list[Exception | None] = []
        self.fail_on = fail_on

    def connection_made(self, transport: Connection) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.fail_on is not None and self.fail_on in data:
            raise RuntimeError("a protocol's own fault")
        self.received += data

    def connection_lost(self, exc: Exception | None) -> None:
        assert self.transport is not None and self.transport.is_closing()
        self.lost.append(exc)


@pytest.fixture(params=[True, False], ids=["one-epoll", "loop-readers"])
def readers(request: pytest.FixtureRequest) -> Readers:
    """Both ways of watching connections: one epoll for all (Linux), or the loop's own."""
    return Readers(shared=request.param)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    yield ours, theirs
    theirs.close()
    ours.close()


def open_epolls() -> int:
    """This process's open epoll descriptors."""
    fds = Path("/proc/self/fd")
    links = []
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):  # the listing's own descriptor, gone by now
            links.append(os.readlink(fd))
    return links.count("anon_inode:[eventpoll]")


async def read_all(peer: socket.socket, until_eof: bool = True) -> bytes:
    """Everything the peer gets, up to the end of the connection."""
    loop = asyncio.get_running_loop()
    got = bytearray()
    while True:
        chunk = await asyncio.wait_for(loop.sock_recv(peer, 1 << 16), 5)
        if not chunk or not until_eof:
            return bytes(got + chunk)
        got += chunk


async def test_what_the_kernel_does_not_take_waits_and_leaves_in_order(
    pair: tuple[socket.socket, socket.socket], readers: Readers
) -> None:
    ours, theirs = pair
    protocol = Recorder()
    connection = Connection(ours, protocol, readers)
    data = [bytes([n]) * 300_000 for n in range(1, 6)]  # more than the socket buffers hold
    for part in data:
        connection.write(part)
    assert connection.get_write_buffer_size() > 0
    connection.close()  # the pending bytes still go, then the end
    assert connection.is_closing()
    assert await read_all(theirs) == b"".join(data)
    await eventually(lambda: protocol.lost == [None])
    assert connection.get_write_buffer_size() == 0


async def test_reading_waits_to_be_resumed_and_the_peers_end_is_heard_once(
    pair: tuple[socket.socket, socket.socket], readers: Readers
) -> None:
    ours, theirs = pair
    protocol = Recorder()
    connection = Connection(ours, protocol, readers)
    theirs.send(b"early")
    await asyncio.sleep(0.05)
    assert protocol.received == b""  # not read before resume_reading
    connection.resume_reading()
    await eventually(lambda: protocol.received == b"early")
    connection.pause_reading()
    theirs.send(b" later")
    await asyncio.sleep(0.05)
    assert protocol.received == b"early"
    connection.resume_reading()
    await eventually(lambda: protocol.received == b"early later")
    theirs.close()
    await eventually(lambda: protocol.lost == [None])
    connection.write(b"into the void")  # nothing happens, nothing raises
    connection.close()
    connection.abort()
    await asyncio.sleep(0.05)
    assert protocol.lost == [None]


async def test_a_fault_in_the_protocol_ends_that_connection_only(
    pair: tuple[socket.socket, socket.socket],
    readers: Readers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = pair
    protocol = Recorder(fail_on=b"boom")
    connection = Connection(ours, protocol, readers)
    connection.resume_reading()
    theirs.send(b"boom")
    await eventually(lambda: len(protocol.lost) == 1)
    assert isinstance(protocol.lost[0], RuntimeError)
    assert "reading a WebSocket failed" in caplog.text
    assert await read_all(theirs) == b""  # closed on our side


async def test_abort_drops_what_is_pending(
    pair: tuple[socket.socket, socket.socket], readers: Readers
) -> None:
    ours, theirs = pair
    protocol = Recorder()
    connection = Connection(ours, protocol, readers)
    connection.write(b"x" * 2_000_000)
    assert connection.get_write_buffer_size() > 0
    connection.abort()
    assert connection.get_write_buffer_size() == 0 and protocol.lost == []  # not re-entrant
    await eventually(lambda: protocol.lost == [None])
    assert len(await read_all(theirs)) < 2_000_000


async def test_many_connections_ready_at_once_are_each_read_and_the_epoll_goes_with_the_last(
    readers: Readers,
) -> None:
    """More connections ready in one turn than one turn reads (READS_PER_TURN): each gets
    exactly its own bytes; once all have closed, nothing of Readers stays open."""
    epolls_before = open_epolls()
    pairs = [socket.socketpair() for _ in range(READS_PER_TURN + 44)]
    protocols = [Recorder() for _ in pairs]
    connections = [
        Connection(ours, protocol, readers)
        for (ours, _), protocol in zip(pairs, protocols, strict=True)
    ]
    for connection in connections:
        connection.resume_reading()
    assert len(readers) == len(pairs)
    for n, (_, theirs) in enumerate(pairs):
        theirs.send(b"%d;" % n)
    await eventually(lambda: all(p.received for p in protocols))
    assert [bytes(p.received) for p in protocols] == [b"%d;" % n for n in range(len(pairs))]
    for connection in connections:
        connection.close()
    await eventually(lambda: all(p.lost == [None] for p in protocols))
    assert len(readers) == 0
    for _, theirs in pairs:
        theirs.close()
    assert open_epolls() == epolls_before  # the loop's own, and nothing of Readers'
