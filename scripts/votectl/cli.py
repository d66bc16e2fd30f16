"""Entry point: each subcommand lives in its own module under votectl.commands and registers itself."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

import votectl
from votectl.errors import VotectlError

# Module names under votectl.commands; each exposes `register(subparsers)` which sets `func` on its parser.
COMMANDS = (
    "run",
    "verify",
    "status",
    "promote",
    "history",
    "rollback",
    "analyze",
    "rehearse",
    "engines",
    "cluster",
    "lint",
    "smoke",
)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr and exit 2, like every other votectl error (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or with `only` just that command's: importing every command module costs
    ~0.2 s (rich, git and local-stack code), which `votectl verify` in CI should not pay."""
    parser = _Parser(
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
    except BrokenPipeError:
        # The reader went away (`votectl status | head`): not an error of ours, and no traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
