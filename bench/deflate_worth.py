"""What permessage-deflate saves on chatapp's own traffic, to weigh against what it costs.

Every browser offers permessage-deflate; python-engineio's Tornado driver accepts it
with zlib's defaults (a 32 KiB window and memLevel 8, kept per connection for
context takeover): about 120 kB of server memory per socket (bench/realtime.py).
This prints the bytes saved on a stream of chat-sized packets, compressed as the
extension does (one raw-deflate context per connection, a sync flush per message).

    .venv/bin/python bench/deflate_worth.py
"""

from __future__ import annotations

import json
import random
import zlib

PHRASES = [
    "Tea at six, then?",
    "Six it is. I'll bring the guitar.",
    "Perfect, see you there!",
    "Did you hear the new song?",
    "The coffee is still warm.",
    "Running late, ten minutes",
    "ok",
    "Thanks, that was great!",
    "Party tonight at Carol's, bring scones",
]


def packet(n: int, rng: random.Random) -> bytes:
    """A `chat:message` push as Socket.IO frames it: one to three chat phrases."""
    text = " ".join(rng.choice(PHRASES) for _ in range(rng.randint(1, 3)))
    message = {
        "id": str(1000 + n),
        "from": {"id": "2", "username": "bob", "display_name": "Bob Dylan"},
        "to": {"id": "1", "username": "alice", "display_name": "Alice Liddell"},
        "text": text,
        "created_at": f"2026-11-29T22:{n % 60:02d}:00.000Z",
    }
    return ("42" + json.dumps(["chat:message", message])).encode()


def main() -> None:
    rng = random.Random(7)
    packets = [packet(n, rng) for n in range(200)]
    plain = sum(len(p) for p in packets)
    for label, wbits in (("32 KiB window (the default)", 15), ("512 B window", 9)):
        stream = zlib.compressobj(6, zlib.DEFLATED, -wbits)
        sent = sum(len(stream.compress(p) + stream.flush(zlib.Z_SYNC_FLUSH)) - 4 for p in packets)
        print(f"{label:<28} {plain:>7,} B -> {sent:>7,} B ({sent / plain:.0%})")
    alone = sum(len(zlib.compress(p, 6)) - 6 for p in packets)  # each alone, no zlib framing
    print(f"{'no context takeover':<28} {plain:>7,} B -> {alone:>7,} B ({alone / plain:.0%})")
    print(f"mean packet: {plain / len(packets):.0f} B")


if __name__ == "__main__":
    main()
