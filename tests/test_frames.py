"""WebSocket frames byte by byte (RFC 6455): the reader of a client's frames, the frames the
server writes, and the handshake's key."""

from __future__ import annotations

import os
import struct

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from chatapp.transport.frames import (
    BINARY,
    CLOSE_FRAME,
    PING_FRAME,
    PROTOCOL_ERROR,
    TEXT,
    TOO_BIG,
    FrameReader,
    ProtocolError,
    close_frame,
    frame,
)
from chatapp.transport.handshake import Handshake, accept_key


def client_frame(payload: bytes, opcode: int = TEXT, final: bool = True) -> bytes:
    """A frame as a client sends it: masked with a random key."""
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([(0x80 if final else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_the_rfcs_own_masked_hello() -> None:
    """RFC 6455 5.7: a single-frame masked text message containing "Hello"."""
    data = bytes.fromhex("818537fa213d7f9f4d5158")
    assert FrameReader(1000).feed(data) == [(TEXT, b"Hello")]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_every_length_encoding_comes_back_whole_fed_at_once_or_in_pieces(size: int) -> None:
    payload = os.urandom(size)
    data = client_frame(payload, BINARY) + client_frame(b"after")
    assert FrameReader(1 << 20).feed(data) == [(BINARY, payload), (TEXT, b"after")]
    reader, messages = FrameReader(1 << 20), []
    for piece in range(0, len(data), 7):  # as a slow network delivers it
        messages += reader.feed(data[piece : piece + 7])
    assert messages == [(BINARY, payload), (TEXT, b"after")]


def test_fragments_are_joined_and_a_ping_between_them_comes_at_once() -> None:
    data = (
        client_frame(b"He", TEXT, final=False)
        + client_frame(b"beat", PING_FRAME)
        + client_frame(b"ll", 0, final=False)
        + client_frame(b"o", 0)
    )
    assert FrameReader(100).feed(data) == [(PING_FRAME, b"beat"), (TEXT, b"Hello")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (bytes.fromhex("8105") + b"Hello", PROTOCOL_ERROR),  # not masked
        (bytes([0xC1]) + client_frame(b"x")[1:], PROTOCOL_ERROR),  # RSV1: no extension here
        (client_frame(b"x", 0), PROTOCOL_ERROR),  # a continuation of nothing
        (client_frame(b"a", TEXT, final=False) + client_frame(b"b"), PROTOCOL_ERROR),
        (client_frame(b"x" * 126, PING_FRAME), PROTOCOL_ERROR),  # a control frame too long
        (client_frame(b"x", PING_FRAME, final=False), PROTOCOL_ERROR),
        (client_frame(b"x", 0x3), PROTOCOL_ERROR),  # a reserved opcode
        (client_frame(b"x" * 101), TOO_BIG),
        (client_frame(b"x" * 60, TEXT, final=False) + client_frame(b"x" * 60, 0), TOO_BIG),
    ],
)
def test_what_breaks_the_protocol_is_refused_with_its_close_code(data: bytes, code: int) -> None:
    with pytest.raises(ProtocolError) as refused:
        FrameReader(100).feed(data)
    assert refused.value.code == code


def test_a_too_big_frame_is_refused_from_its_header_before_its_body_arrives() -> None:
    header = client_frame(b"x" * 70_000)[:14]
    with pytest.raises(ProtocolError):
        FrameReader(65_536).feed(header)


def test_the_servers_frames_are_final_and_unmasked() -> None:
    assert frame("2") == b"\x81\x012"
    assert frame(b"\x00\x01") == b"\x82\x02\x00\x01"
    assert frame("é" * 100)[:4] == b"\x81\x7e\x00\xc8"
    assert frame(b"x" * 70_000)[:10] == b"\x82\x7f" + struct.pack("!Q", 70_000)
    assert close_frame(1009, "too big") == bytes([0x88, 9]) + struct.pack("!H", 1009) + b"too big"
    assert close_frame()[0] == 0x80 | CLOSE_FRAME


def test_the_handshakes_accept_key_is_the_rfcs() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert accept_key("") is None
    assert accept_key("not base64!") is None
    assert accept_key("c2hvcnQ=") is None  # base64, but not 16 bytes


def test_a_handshake_keeps_the_cookies_it_was_opened_with() -> None:
    kept = Handshake("10.0.0.7", 'theme=dark; chatapp_session="abc|1"; other=1')
    assert kept.cookie("chatapp_session") == "abc|1"
    assert kept.cookie("missing") is None


def websocket_request(cookie_header: str) -> HTTPServerRequest:
    headers = HTTPHeaders(
        {"Host": "chat.example", **({"Cookie": cookie_header} if cookie_header else {})}
    )
    start = RequestStartLine("GET", "/socket.io/?EIO=4&transport=websocket", "HTTP/1.1")
    return HTTPServerRequest(start_line=start, headers=headers)


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ('theme=dark; chatapp_session="abc|1"; _ga=GA1.2.3; other=1', "chatapp_session=abc|1"),
        (
            "chatapp_session=2|1:0|10:17|7:session|4:YWJj|ff00",
            "chatapp_session=2|1:0|10:17|7:session|4:YWJj|ff00",
        ),
        ("theme=dark", ""),
        ("", ""),
    ],
)
def test_a_websockets_handshake_keeps_only_the_session_cookie(header: str, kept: str) -> None:
    request = websocket_request(header)
    handshake = Handshake.of(request, keep="chatapp_session")
    assert handshake.cookie_header == kept
    assert handshake.cookie("chatapp_session") == Handshake.of(request).cookie("chatapp_session")


@pytest.mark.parametrize(
    "header",
    ['chatapp_session="a;b"; theme=dark', 'chatapp_session="a\\"b"', "chatapp_session= x ; y=1"],
)
def test_an_odd_session_cookie_reads_the_same_from_what_is_kept(header: str) -> None:
    request = websocket_request(header)
    handshake = Handshake.of(request, keep="chatapp_session")
    assert handshake.cookie("chatapp_session") == Handshake.of(request).cookie("chatapp_session")
