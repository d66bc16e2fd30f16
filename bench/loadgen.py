"""A small asyncio HTTP/1.1 client: paced keep-alive POSTs and an SSE reader, cheap enough on 2 cores.

requests/urllib3 cost close to a millisecond of CPU per request in Python; raw asyncio streams cost a
fraction of that, so a steady 1,000 votes/s leaves the cores to the services being measured.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit


class Connection:
    """One keep-alive connection; `request` sends and reads one response (Content-Length bodies only)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return int(status_line.split()[1]), payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def sse_events(url: str, path: str) -> AsyncIterator[tuple[float, dict]]:
    """(monotonic receive time, JSON) of each `data:` line of a Server-Sent Events stream."""
    connection = await Connection(url).open()
    assert connection.reader is not None and connection.writer is not None
    connection.writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {connection.host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    try:
        while line := await connection.reader.readline():
            if line.startswith(b"data:"):
                yield time.monotonic(), json.loads(line[5:])
    finally:
        await connection.close()


async def paced(rate: float, duration: float, send: Callable[[int], Awaitable[None]]) -> tuple[int, float]:
    """Call `send(i)` at `rate` per second for `duration` seconds on a fixed schedule (open loop: a slow
    answer does not slow the schedule down, so queueing shows up in the latencies).

    Returns the calls made and the seconds until the last one was answered."""
    start = time.monotonic()
    total = int(rate * duration)
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(send(i)))
    await asyncio.gather(*tasks)
    return total, time.monotonic() - start
