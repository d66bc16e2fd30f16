"""gunicorn's threaded worker, changed so that no client's connection can hold up anyone else's requests.

Stock gthread (gunicorn 27.0.1) hands a connection to a pool thread as soon as it is accepted, and the
thread then waits for and reads the request with blocking calls; it also closes a finished
`Connection: close` socket on the worker's main thread with a lingering close that waits up to 2 s for
the client's FIN. The main thread is the one that accepts, and with SO_REUSEPORT each worker has its own
listening socket, so one client that keeps its sockets open stalls every connection the kernel hashes to
that worker, and a few clients sending headers or a body slowly (or nothing at all) occupy the pool.

Here all waiting on clients happens in the worker's poller, where it costs a file descriptor and no thread:
- a request is read without blocking until its head and declared body are in, and only then given to a
  pool thread, whose gunicorn parser starts from the bytes read (it stays the judge of what they mean);
  a request that takes longer than REQUEST_TIMEOUT to arrive gets 408, oversized ones 431/413;
- the lingering close (half-close, drain what the client still sends, close) is driven by the poller too,
  ended by the client's FIN, LINGER_MAX_DRAIN bytes or LINGER_TIMEOUT.
Responses are still written by the pool threads: the services' answers fit in a socket buffer, and
result's event streams hold a thread each by design (WEB_THREADS sizes that). Plain HTTP/1.1 only: TLS
ends at the ingress, so a TLS configuration is refused at start.
"""

from __future__ import annotations

import contextlib
import errno
import re
import selectors
import socket
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

# Seconds for a whole request (head and body) to arrive once its connection is open or kept alive. The
# services' requests are a few hundred bytes; behind the ingress (which buffers requests) they arrive at once.
REQUEST_TIMEOUT = 10.0
MAX_HEAD_BYTES = 32 * 1024  # what gunicorn's limits allow is far more than any client of ours sends
MAX_BODY_BYTES = 64 * 1024  # vote accepts 4 KiB; larger bodies are refused before being read
LINGER_TIMEOUT = 2.0  # gunicorn's own close_graceful waits this long for the client's FIN
LINGER_MAX_DRAIN = 64 * 1024
MAX_LINGERING = 4096  # half-closed sockets beyond this are closed at once (costs that client an RST)
RECV_BYTES = 64 * 1024

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*([^\r]*)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r]*chunked", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*\r", re.IGNORECASE)


class Refused(Exception):
    """A request the worker answers itself, without a thread: it is too large or came too slowly."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> bytes:
        body = b'{"error": "' + self.reason.encode() + b'"}'
        return (
            f"HTTP/1.1 {self.status} {self.reason.capitalize()}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body


def request_complete(data: bytes | bytearray) -> bool:
    """Whether `data` holds a request's head and the body it declares.

    Only a readiness test: an unusual framing (several Content-Length fields, a malformed one) counts as
    complete so that gunicorn's parser sees it and refuses it as usual. Raises Refused for sizes the
    services never accept.
    """
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        if len(data) > MAX_HEAD_BYTES:
            raise Refused(431, "request header fields too large")
        return False
    head = bytes(data[: head_end + 2])  # with the CRLF ending the last field, which the patterns anchor on
    body_start = head_end + 4
    body = len(data) - body_start
    if _CHUNKED.search(head):
        if body > MAX_BODY_BYTES:
            raise Refused(413, "request body too large")
        # the last chunk (or bytes looking like it inside a chunk: that only hands the request over sooner)
        return data.find(b"0\r\n\r\n", body_start) >= 0
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or not lengths[0].strip().isdigit():
        return True
    length = int(lengths[0])
    if length > MAX_BODY_BYTES:
        raise Refused(413, "request body too large")
    return body >= length


def expects_continue(data: bytes | bytearray) -> bool:
    """An `Expect: 100-continue` client waits for the interim response before sending its body."""
    head_end = data.find(b"\r\n\r\n")
    return head_end >= 0 and _EXPECT_CONTINUE.search(bytes(data[: head_end + 2])) is not None


class Connection(TConn):
    """A connection plus the request bytes the poller has read for its pool thread."""

    buffered = b""


@dataclass
class _Reading:
    conn: Connection
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    continued: bool = False  # 100 Continue sent
    waiting: bool = False  # registered in the poller and in the worker's deque


@dataclass
class _Lingering:
    sock: socket.socket
    deadline: float
    drained: int = 0


class BufferedThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose threads only ever see complete requests (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # both ordered by deadline: entries get the same timeout on arrival and are capped alike at stop
        self.reading: deque[_Reading] = deque()
        self.lingering: deque[_Lingering] = deque()

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl:
            raise RuntimeError("BufferedThreadWorker serves plain HTTP: terminate TLS in front of it")

    def accept(self, listener: socket.socket) -> None:
        try:
            sock, client = listener.accept()
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        self._read_request(Connection(self.cfg, sock, client, listener.getsockname()))

    def on_client_socket_readable(self, conn: Connection, client: socket.socket) -> None:
        """A kept-alive connection starts its next request: read it here, not in a thread."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(conn)

    def _read_request(self, conn: Connection, already_read: bytes = b"") -> None:
        """Take what the socket holds now (often the whole request: it then goes straight to a thread)
        and wait in the poller for the rest."""
        reading = _Reading(conn, time.monotonic() + REQUEST_TIMEOUT, bytearray(already_read))
        if already_read:  # a pipelined request the last one's read brought along (on a blocking socket)
            conn.sock.setblocking(False)
            if self._judge(reading):
                return
        if self._receive(reading):
            return
        reading.waiting = True
        self.reading.append(reading)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_request_bytes, reading))

    def _on_request_bytes(self, reading: _Reading, _sock: socket.socket) -> None:
        self._receive(reading)

    def _receive(self, reading: _Reading) -> bool:
        """One non-blocking read; whether the request left the reading stage (handed over or ended)."""
        try:
            chunk = reading.conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b""
        if not chunk:  # the client left before finishing its request
            self._stop_reading(reading)
            self.nr_conns -= 1
            reading.conn.close()
            return True
        reading.data += chunk
        return self._judge(reading)

    def _judge(self, reading: _Reading) -> bool:
        try:
            complete = request_complete(reading.data)
        except Refused as refusal:
            self._stop_reading(reading)
            self._refuse(reading.conn.sock, refusal)
            return True
        if complete:
            self._stop_reading(reading)
            reading.conn.buffered = bytes(reading.data)
            self.enqueue_req(reading.conn)
            return True
        if not reading.continued and expects_continue(reading.data):
            reading.continued = True  # gunicorn sends its own later: RFC 9110 lets clients take several 1xx
            _send_nowait(reading.conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        return False

    def _stop_reading(self, reading: _Reading) -> None:
        if reading.waiting:
            reading.waiting = False
            self.poller.unregister(reading.conn.sock)
            self.reading.remove(reading)

    def _refuse(self, sock: socket.socket, refusal: Refused) -> None:
        self.nr_conns -= 1
        _send_nowait(sock, refusal.response())
        self._linger(sock)

    def handle(self, conn: Connection) -> Any:
        """In a pool thread: gunicorn's handling, its parser fed the request the poller read."""
        conn.data_ready = True  # no waiting for data in a thread
        conn.init()  # the parser, so it can start from the bytes read (gunicorn's handle skips this then)
        conn.parser.unreader.unread(conn.buffered)
        conn.buffered = b""
        return super().handle(conn)

    def finish_request(self, conn: Connection, fs: Future[Any]) -> None:
        """On the main thread, after a request: keep the connection, read a pipelined one, or close it."""
        try:
            keep = not fs.cancelled() and bool(fs.result())
        except Exception:
            self.nr_conns -= 1
            conn.close()
            return
        if not keep:
            self.nr_conns -= 1
            self._linger(conn.sock)
            return
        pipelined = conn.parser.unreader.take_buffered()
        if pipelined:
            self._read_request(conn, pipelined)
            return
        conn.sock.setblocking(False)
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))

    def _linger(self, sock: socket.socket) -> None:
        """Close after the client has read the response: FIN first, then drain until its FIN (RFC 9112
        section 9.6), so unread request bytes do not make the kernel reset the connection."""
        if len(self.lingering) >= MAX_LINGERING:
            util.close(sock)
            return
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            util.close(sock)
            return
        lingering = _Lingering(sock, time.monotonic() + LINGER_TIMEOUT)
        self.lingering.append(lingering)
        self.poller.register(sock, selectors.EVENT_READ, partial(self._drain, lingering))

    def _drain(self, lingering: _Lingering, _sock: socket.socket) -> None:
        try:
            data = lingering.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        lingering.drained += len(data)
        if not data or lingering.drained >= LINGER_MAX_DRAIN:
            self.lingering.remove(lingering)
            self._unregister_and_close(lingering.sock)

    def murder_keepalived(self, force: bool = False) -> None:
        """Once per loop turn: besides gunicorn's idle kept-alive connections, end requests that missed
        REQUEST_TIMEOUT (408) and lingering closes that missed LINGER_TIMEOUT."""
        super().murder_keepalived(force)
        now = time.monotonic()
        while self.reading and (force or self.reading[0].deadline <= now):
            reading = self.reading[0]
            self._stop_reading(reading)
            if reading.data:
                self._refuse(reading.conn.sock, Refused(408, "request timeout"))
            else:
                self.nr_conns -= 1
                reading.conn.close()
        while self.lingering and (force or self.lingering[0].deadline <= now):
            self._unregister_and_close(self.lingering.popleft().sock)

    def _cap_keepalive(self, deadline: float) -> None:
        """At stop, a request on its way gets the same short grace as a kept-alive connection (capping
        every entry alike keeps the deque in deadline order)."""
        super()._cap_keepalive(deadline)
        for reading in self.reading:
            reading.deadline = min(reading.deadline, deadline)

    def _unregister_and_close(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):  # never registered, or already gone
            self.poller.unregister(sock)
        util.close(sock)


def _send_nowait(sock: socket.socket, data: bytes) -> None:
    """Best effort: a client that does not read its socket does not get to block the poller."""
    with contextlib.suppress(OSError):
        sock.send(data)
