"""Loopback port helpers: the stack never assumes a port is free, it checks before it binds."""

from __future__ import annotations

import errno
import random
import socket
import time
from collections.abc import Callable

from votectl.errors import VotectlError

# Ports we pick sit below the kernel's ephemeral range: a port from that range can be taken, between
# our pick and the server's bind, by any client's outgoing connection (a replica connecting to its
# primary did exactly that in CI). Below it only other listeners compete, and we check for those.
_PICK_FLOOR = 20000
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; other kernels keep theirs higher still


def free_port(host: str = "127.0.0.1") -> int:
    """A free port for a server that cannot bind port 0 itself, never one handed out before here."""
    ceiling = _ephemeral_floor()
    if ceiling - _PICK_FLOOR < 1000:
        ceiling = 65535  # an unusual range leaves no room below it: fall back to any free port
    for _ in range(200):
        port = random.randrange(_PICK_FLOOR, ceiling)
        if port not in _handed_out and not port_in_use(host, port):
            _handed_out.add(port)
            return port
    raise VotectlError(f"no free port on {host} between {_PICK_FLOOR} and {ceiling}")


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (checked by binding, as a server would).

    Any other bind failure (an unknown host, an address not on this machine, a privileged port) is the
    operator's to fix, so it is reported as such rather than as a busy port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves: connections of a stopped server in TIME_WAIT do not block the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return True
            raise VotectlError(f"cannot listen on {host} port {port}: {err.strerror or err}") from None
        return False


def wait_until(ready: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll `ready` until it returns True or `timeout` seconds pass; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
