"""`votectl run`: the whole stack on this machine, in the foreground, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from types import FrameType

from rich.console import Console

from votectl.errors import VotectlError
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votectl.localstack.stack import LocalStack, StackConfig

DEFAULT_STATE_DIR = Path(".state")
MAX_REDIS_REPLICAS = 4


class _StopRequested(Exception):
    """Raised from the signal handler so startup and the wait loop unwind through the same cleanup."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start the whole stack locally",
        description="Start Redis and PostgreSQL (unless REDIS_URL/REDIS_HOST or DATABASE_URL/POSTGRES_HOST "
        "point at existing ones), then the worker, vote and result. Ctrl-C stops everything.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("VOTECTL_STATE_DIR", DEFAULT_STATE_DIR)),
        help="where the embedded servers keep their data and the services their logs (default: .state)",
    )
    parser.add_argument(
        "--redis-replicas",
        type=_replica_count,
        default=0,
        metavar="N",
        help="run the embedded Redis as a primary with N replicas (1-4) and three sentinels, as the cluster "
        "does, so a failover can be tried: kill the primary's redis-server (default: 0, one Redis)",
    )
    parser.set_defaults(func=_run)


def _replica_count(raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_REDIS_REPLICAS:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_REDIS_REPLICAS}, got {raw!r}")
    return int(raw)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    _ignore_stop_signals()
    raise _StopRequested(signal.Signals(signum).name)


def _ignore_stop_signals() -> None:
    """While we shut down, a second Ctrl-C must not cut the cleanup short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False)
    config = StackConfig.from_env(os.environ, args.state_dir.resolve(), args.redis_replicas)
    stack = LocalStack(config)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with console.status("starting the stack..."):
            stack.start()
        _print_ready(console, stack)
        while not (dead := stack.dead_services()):
            time.sleep(0.5)
        raise VotectlError(
            f"{', '.join(dead)} stopped unexpectedly; see the logs in {config.state_dir / 'logs'}"
        )
    except _StopRequested as stop:
        console.print(f"{stop}: stopping...")
        return 0
    finally:
        _ignore_stop_signals()
        stack.stop()
        if stack.embedded.names or stack.services:
            console.print("stopped")


def _print_ready(console: Console, stack: LocalStack) -> None:
    """The URLs go to stdout (scripts may read them); the rest of the chatter goes to stderr."""
    services = stack.services
    embedded = ", ".join(stack.embedded.names) or "none (using the configured servers)"
    console.print(f"[bold green]ready[/]  embedded servers: {embedded}; state in {stack.config.state_dir}")
    print(f"vote    {services['vote'].url}", flush=True)
    print(f"result  {services['result'].url}", flush=True)
    print(f"worker  {services['worker'].url}/metrics", flush=True)
    if isinstance(group := stack.embedded.redis, RedisSentinelGroup):
        primary, replicas = group.servers[0], group.servers[1:]
        console.print(
            f"redis primary on port {primary.port} (pid {primary.pid}), replicas on "
            f"{', '.join(str(server.port) for server in replicas)}, sentinels on "
            f"{', '.join(str(sentinel.port) for sentinel in group.sentinels)}: `kill -9 {primary.pid}` "
            "tries a failover"
        )
    console.print("Ctrl-C stops everything.")
