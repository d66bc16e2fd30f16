"""Loopback port helpers: the stack never assumes a port is free, it asks the kernel."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable

from votectl.errors import VotectlError


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just handed out; servers that cannot bind port 0 themselves use it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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
