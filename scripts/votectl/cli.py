"""Entry point: each subcommand lives in its own module under votectl.commands and registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys

from votectl.errors import VotectlError

# Module names under votectl.commands; each exposes `register(subparsers)` which sets `func` on its parser.
COMMANDS = ("run",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="votectl", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"votectl.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VotectlError as err:
        print(f"votectl: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
