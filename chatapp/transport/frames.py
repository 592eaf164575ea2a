"""WebSocket frames (RFC 6455): those a server sends, built once per packet, and a reader for
those a client sends, fed whatever bytes the connection delivers."""

from __future__ import annotations

import struct

CONTINUATION = 0x0
TEXT = 0x1
BINARY = 0x2
CLOSE_FRAME = 0x8
PING_FRAME = 0x9
PONG_FRAME = 0xA
_FIN = 0x80
_MASKED = 0x80

#: Close codes (RFC 6455, 7.4.1).
NORMAL = 1000
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
TOO_BIG = 1009


def frame(payload: str | bytes, opcode: int | None = None) -> bytes:
    """One whole frame: text for a str, binary for bytes, unless `opcode` says otherwise."""
    if isinstance(payload, str):
        data, kind = payload.encode("utf-8"), TEXT
    else:
        data, kind = bytes(payload), BINARY
    kind = kind if opcode is None else opcode
    length = len(data)
    if length < 126:
        header = struct.pack("!BB", _FIN | kind, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", _FIN | kind, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN | kind, 127, length)
    return header + data


def close_frame(code: int = NORMAL, reason: str = "") -> bytes:
    return frame(struct.pack("!H", code) + reason.encode("utf-8")[:120], CLOSE_FRAME)


#: Engine.IO packets the server sends on its own.
PING = frame("2")
CLOSE = frame("1")


class ProtocolError(Exception):
    """What the client sent breaks RFC 6455: the connection ends with this close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FrameReader:
    """A client's frames taken apart as its bytes arrive, each message whole.

    `feed` returns the messages (and control frames) completed by the bytes
    given, as (opcode, payload) with the payload unmasked and a fragmented
    message joined; the rest waits for the next bytes. A message longer than
    `max_size`, an unmasked frame, reserved bits or a broken fragment sequence
    raise ProtocolError: no extension is ever negotiated here.
    """

    __slots__ = ("_buffer", "_fragments", "_fragments_opcode", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = b""
        self._fragments: list[bytes] | None = None
        self._fragments_opcode = TEXT

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer + data if self._buffer else data
        done: list[tuple[int, bytes]] = []
        at = 0
        while len(buffer) - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            if first & 0x70:
                raise ProtocolError(PROTOCOL_ERROR, "reserved bits set")
            if not second & _MASKED:
                raise ProtocolError(PROTOCOL_ERROR, "a client's frame must be masked")
            opcode, length, start = first & 0x0F, second & 0x7F, at + 2
            if length == 126:
                if len(buffer) - at < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif length == 127:
                if len(buffer) - at < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            final = bool(first & _FIN)
            self._check(opcode, final, length)
            end = start + 4 + length
            if len(buffer) < end:
                break
            payload = unmask(buffer[start : start + 4], buffer[start + 4 : end])
            at = end
            message = self._message(opcode, final, payload)
            if message is not None:
                done.append(message)
        self._buffer = buffer[at:]
        return done

    def _check(self, opcode: int, final: bool, length: int) -> None:
        if opcode >= CLOSE_FRAME:
            if opcode not in (CLOSE_FRAME, PING_FRAME, PONG_FRAME):
                raise ProtocolError(PROTOCOL_ERROR, "unknown control frame")
            if not final or length > 125:
                raise ProtocolError(PROTOCOL_ERROR, "a control frame must be whole and short")
        elif opcode not in (CONTINUATION, TEXT, BINARY):
            raise ProtocolError(PROTOCOL_ERROR, "unknown frame type")
        elif (opcode == CONTINUATION) != (self._fragments is not None):
            raise ProtocolError(PROTOCOL_ERROR, "a fragment out of sequence")
        held = sum(map(len, self._fragments)) if self._fragments else 0
        if held + length > self.max_size:
            raise ProtocolError(TOO_BIG, "message too big")

    def _message(self, opcode: int, final: bool, payload: bytes) -> tuple[int, bytes] | None:
        if opcode >= CLOSE_FRAME or (final and opcode != CONTINUATION):
            return opcode, payload
        if self._fragments is None:
            self._fragments, self._fragments_opcode = [payload], opcode
            return None
        self._fragments.append(payload)
        if not final:
            return None
        whole, self._fragments = b"".join(self._fragments), None
        return self._fragments_opcode, whole


def unmask(mask: bytes, data: bytes) -> bytes:
    """XOR with the 4-byte mask, done on whole integers (C speed, any length)."""
    size = len(data)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")
