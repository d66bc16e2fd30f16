"""Clients that misbehave on purpose, and a polite one that times its requests beside them.

The web services must keep serving everyone while one client holds sockets open, dribbles its headers or
body, or parks idle connections. The suite (tests/services/test_hostile_clients.py) and the benchmark
(`python -m bench hostile_clients`) run these patterns against the real gunicorn processes. Every pattern
is bounded in connections and time and cleans up after itself, so a run cannot hang or leak sockets.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

HEALTH_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: hostile\r\n"


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=5)


def hold_after_close(
    target: Target, stop: threading.Event, interval: float = 0.05, hold: float = 3.0
) -> None:
    """One `Connection: close` request every `interval`, its socket left open (response unread) for `hold`."""
    held: list[tuple[float, socket.socket]] = []
    with ExitStack() as cleanup:
        cleanup.callback(_close_all, held)
        while not stop.wait(interval):
            sock = target.connect()
            sock.sendall(HEALTH_REQUEST + b"Connection: close\r\n\r\n")
            held.append((time.monotonic(), sock))
            while held and time.monotonic() - held[0][0] > hold:
                held.pop(0)[1].close()


def _close_all(held: list[tuple[float, socket.socket]]) -> None:
    for _, sock in held:
        sock.close()


def slow_headers(target: Target, stop: threading.Event, connections: int = 64, interval: float = 1.0) -> None:
    """Slowloris: `connections` requests whose head arrives one byte per `interval`, never finished."""
    head = b"GET /healthz HTTP/1.1\r\nHost: hostile\r\nX-Padding: " + b"a" * 10_000
    _dribble(target, stop, [head] * connections, interval)


def slow_body(target: Target, stop: threading.Event, connections: int = 64, interval: float = 1.0) -> None:
    """Whole request heads declaring a 1,000-byte body, then that body one byte per `interval`."""
    head = (
        b"POST /api/vote HTTP/1.1\r\nHost: hostile\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    body = b"v" * 1000
    _dribble(target, stop, [head + body] * connections, interval, sent_whole=len(head))


def idle_keepalive(target: Target, stop: threading.Event, connections: int = 400) -> None:
    """`connections` idle connections: half after one kept-alive request, half that never send a byte."""
    with ExitStack() as cleanup:
        for index in range(connections):
            sock = cleanup.enter_context(target.connect())
            if index % 2 == 0:
                sock.sendall(HEALTH_REQUEST + b"\r\n")
                sock.recv(65536)
        stop.wait()


def _dribble(
    target: Target, stop: threading.Event, payloads: list[bytes], interval: float, sent_whole: int = 0
) -> None:
    """Send each payload's first `sent_whole` bytes at once, then one byte per payload per `interval`."""
    with ExitStack() as cleanup:
        sockets = [cleanup.enter_context(target.connect()) for _ in payloads]
        offsets = [sent_whole] * len(payloads)
        for sock, payload in zip(sockets, payloads, strict=True):
            if sent_whole:
                sock.sendall(payload[:sent_whole])
        while not stop.wait(interval):
            for index, (sock, payload) in enumerate(zip(sockets, payloads, strict=True)):
                if 0 <= offsets[index] < len(payload) - 1:  # the last byte never goes: no request ends
                    try:
                        sock.sendall(payload[offsets[index] : offsets[index] + 1])
                        offsets[index] += 1
                    except OSError:  # the server gave up on this one (its request deadline): fine
                        offsets[index] = -1


PATTERNS: dict[str, Callable[[Target, threading.Event], None]] = {
    "hold-after-close": hold_after_close,
    "slow-headers": slow_headers,
    "slow-body": slow_body,
    "idle-keepalive": idle_keepalive,
}


@contextmanager
def hostile(target: Target, pattern: str) -> Iterator[None]:
    """Run `pattern` in a thread for the duration of the block; re-raise its error, if any, at the end."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            PATTERNS[pattern](target, stop)
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=run, name=f"hostile-{pattern}", daemon=True)
    thread.start()
    time.sleep(1.5)  # let the pattern take hold before the polite client starts
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    if failure:
        raise failure[0]


POLITE_TIMEOUT = 10.0


def polite_latencies(target: Target, duration: float, interval: float = 0.02) -> list[float]:
    """Seconds each `GET /healthz` took, one new connection per request as curl makes, for `duration`.

    A request that times out counts as POLITE_TIMEOUT seconds (what its client waited); any answer but
    200 is an error."""
    latencies = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(target.host, target.port, timeout=POLITE_TIMEOUT)
        try:
            connection.request("GET", "/healthz", headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET /healthz answered {response.status}")
        except TimeoutError:
            pass
        finally:
            connection.close()
        latencies.append(time.perf_counter() - started)
        time.sleep(interval)
    return latencies
