"""WebSocket frames as a server sends them (RFC 6455: final, unmasked), built once per packet."""

from __future__ import annotations

import struct

TEXT = 0x1
BINARY = 0x2
_FIN = 0x80


def frame(payload: str | bytes) -> bytes:
    """One whole WebSocket frame: text for a str, binary for bytes."""
    if isinstance(payload, str):
        data, opcode = payload.encode("utf-8"), TEXT
    else:
        data, opcode = bytes(payload), BINARY
    length = len(data)
    if length < 126:
        header = struct.pack("!BB", _FIN | opcode, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", _FIN | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN | opcode, 127, length)
    return header + data


#: Engine.IO packets the server sends on its own.
PING = frame("2")
CLOSE = frame("1")
