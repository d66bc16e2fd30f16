"""The real gunicorn processes of vote and result keep serving a polite client beside hostile ones.

Stock gunicorn 27.0.1 gthread failed each of these: a finished `Connection: close` socket held open by
its client stalled the worker's accept loop for 2 s, and slow or idle connections each took a pool
thread for seconds. The bound is generous (the broken build took ~2 s); the benchmark reports p50/p99.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from votectl.hostile_clients import PATTERNS, Target, hostile, polite_latencies
from votectl.localstack import ServiceProcess
from votingcommon.httpworker import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    REQUEST_TIMEOUT,
    expects_continue,
    request_complete,
)

POLITE_BOUND_S = 0.5
POLITE_SECONDS = 3.0


@pytest.fixture(params=["vote", "result"])
def service(request: pytest.FixtureRequest, start_service: Callable[..., ServiceProcess]) -> Target:
    process = start_service(request.param)
    return Target(process.host, process.port)


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_polite_requests_are_served_beside_a_hostile_client(service: Target, pattern: str) -> None:
    with hostile(service, pattern):
        latencies = polite_latencies(service, POLITE_SECONDS)
    assert len(latencies) > 20, f"only {len(latencies)} polite requests got through in {POLITE_SECONDS} s"
    slowest = max(latencies)
    assert slowest < POLITE_BOUND_S, f"a polite request took {slowest * 1000:.0f} ms beside {pattern}"


def _exchange(target: Target, data: bytes) -> bytes:
    """Send `data` and read until the server closes (every case below ends the connection)."""
    with target.connect() as sock:
        sock.settimeout(REQUEST_TIMEOUT + 5)
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1), b"431"),
        (b"POST /api/vote HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1), b"413"),
    ],
    ids=["head-too-large", "body-too-large"],
)
def test_oversized_requests_get_a_json_error_without_a_thread(
    service: Target, request_bytes: bytes, status: bytes
) -> None:
    answer = _exchange(service, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b'{"error": "request ' in answer


def test_a_request_that_never_completes_gets_408_after_the_request_timeout(service: Target) -> None:
    answer = _exchange(service, b"POST /api/vote HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'{"error": "request timeout"}' in answer


def test_pipelined_and_expect_continue_requests_are_answered(service: Target) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    answer = _exchange(service, one + one + b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200") == 3
    with service.connect() as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n")
        sock.sendall(b"\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"{}")
        assert b"HTTP/1.1 " in sock.recv(65536)


@pytest.mark.parametrize(
    ("data", "complete"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", False),
        (b"POST / HTTP/1.1\r\ncontent-length :  3\r\n\r\nabc", True),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", True),  # gunicorn refuses it
        (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", False),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", True),
    ],
)
def test_request_complete_waits_for_the_head_and_the_declared_body(data: bytes, complete: bool) -> None:
    assert request_complete(data) is complete


def test_expects_continue_reads_the_head_only() -> None:
    assert expects_continue(b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n")
    assert not expects_continue(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n")  # head not finished yet
    assert not expects_continue(b"POST / HTTP/1.1\r\n\r\nExpect: 100-continue\r\n")  # that is the body
