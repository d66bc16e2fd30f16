"""Entry point: each subcommand lives in its own module under votectl.commands and registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys

import votectl
from votectl.errors import VotectlError

# Module names under votectl.commands; each exposes `register(subparsers)` which sets `func` on its parser.
COMMANDS = ("run", "verify", "status", "promote", "history", "rollback", "analyze", "rehearse")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or with `only` just that command's: importing every command module costs
    ~0.2 s (rich, git and local-stack code), which `votectl verify` in CI should not pay."""
    parser = argparse.ArgumentParser(
        prog="votectl", description=votectl.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        importlib.import_module(f"votectl.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VotectlError as err:
        print(f"votectl: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
