"""Load that one client can make: a flood of socket events, and connection churn.

Used in process by tests/test_overload.py, and as a process of its own,

    python -m tests.load URL FLOODER_COOKIE CHURNER_COOKIES_FILE

when what is timed must not share a core with the load (its clients are
then polite: they wait as a 429's Retry-After says, spread as Socket.IO's
client spreads its reconnects). Prints what was refused, as JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import socketio

EVENTS_PER_SECOND = 1000
SECONDS = 3.0
CYCLES = 20  # connect-and-leave cycles per churning client
AT_ONCE = 20  # churning connections in flight


@dataclass
class Load:
    events: int = 0
    refused_events: int = 0
    refusal_codes: set[str] = field(default_factory=set)
    refused_handshakes: int = 0

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "refusal_codes": sorted(self.refusal_codes)})

    @classmethod
    def from_json(cls, text: str) -> Load:
        data = json.loads(text)
        return cls(**{**data, "refusal_codes": set(data["refusal_codes"])})


async def churn(url: str, cookie: str, turns: asyncio.Semaphore, *, polite: bool) -> int:
    """One client connecting and leaving `CYCLES` times, raw; how many of its handshakes
    were refused 429. A polite one waits as told (Retry-After) after a refusal, spread
    as Socket.IO's client spreads its reconnects (randomizationFactor 0.5); an impolite
    one tries again at once."""
    url = url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    refused = 0
    async with aiohttp.ClientSession() as http:
        for _ in range(CYCLES):
            async with turns:
                try:
                    raw = await http.ws_connect(url, headers={"Cookie": cookie})
                except aiohttp.WSServerHandshakeError as refusal:
                    assert refusal.status == 429, refusal
                    refused += 1
                    headers: Any = refusal.headers or {}
                    wait = float(headers.get("Retry-After", 0))
                else:
                    async with raw:
                        await asyncio.wait_for(raw.receive(), 5)  # engine.io's open packet
                        await raw.send_str("40")
                        await asyncio.wait_for(raw.receive(), 5)  # the connect, or a refusal
                    wait = 0
            if polite:
                await asyncio.sleep(wait * random.uniform(0.5, 1.5))
    return refused


async def flood(client: Any) -> list[dict[str, Any]]:
    """`EVENTS_PER_SECOND` events for `SECONDS`, not waiting for acks in between."""
    acks: list[asyncio.Future[Any]] = []
    for _ in range(int(EVENTS_PER_SECOND * SECONDS)):
        acks.append(asyncio.ensure_future(client.call("session:get", timeout=15)))
        await asyncio.sleep(1 / EVENTS_PER_SECOND)
    return list(await asyncio.gather(*acks))


async def flood_and_churn(
    url: str, flooder: Any, churners: list[str], *, polite: bool = False
) -> Load:
    """The flood from one connected socket while every churner (a Cookie header)
    connects and leaves, `AT_ONCE` connections in flight."""
    turns = asyncio.Semaphore(AT_ONCE)
    acks, *refused_handshakes = await asyncio.gather(
        flood(flooder),
        *(churn(url, cookie, turns, polite=polite) for cookie in churners),
    )
    refusals = [ack for ack in acks if not ack["ok"]]
    return Load(
        events=len(acks),
        refused_events=len(refusals),
        refusal_codes={ack["error"]["code"] for ack in refusals},
        refused_handshakes=sum(refused_handshakes),
    )


async def main(url: str, flooder_cookie: str, churners_file: str) -> None:
    name, _, value = flooder_cookie.partition("=")
    flooder = socketio.AsyncClient(reconnection=False)
    await flooder.connect(url, headers={"Cookie": f"{name}={value}"}, transports=["websocket"])
    with open(churners_file, encoding="utf-8") as lines:
        churners = lines.read().split("\n")
    load = await flood_and_churn(url, flooder, churners, polite=True)
    await flooder.disconnect()
    print(load.to_json(), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
