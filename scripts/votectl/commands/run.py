"""`votectl run`: the local stack (placeholder until the services land)."""

from __future__ import annotations

import argparse

from votectl.errors import VotectlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the whole stack locally")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    raise VotectlError("the local stack is not built yet")
