"""`votectl lint`: the delivery linters and scanners that `make lint` and the Tekton scan-source task run."""

from __future__ import annotations

import argparse
import sys

from votectl.delivery.scanners import SCANNERS, ScannerUnavailable
from votectl.errors import VotectlError
from votectl.repo import Repo


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="run the delivery linters and scanners (actionlint, zizmor, shellcheck, hadolint, ...)",
        description=(
            "Runs the named scanners (default: all) on the checkout it runs in, offline. "
            f"Scanners: {', '.join(SCANNERS)}. "
            "Exit 0 when all are clean, 1 on any finding or missing tool, 2 on a usage error."
        ),
    )
    parser.add_argument("scanners", nargs="*", metavar="SCANNER", help="scanners to run (default: all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.scanners) - set(SCANNERS))
    if unknown:
        raise VotectlError(f"unknown scanner(s): {', '.join(unknown)}; known: {', '.join(SCANNERS)}")
    root = Repo.current().root
    failed = []
    for name in args.scanners or list(SCANNERS):
        try:
            result = SCANNERS[name](root)
        except ScannerUnavailable as err:
            print(f"{name}: {err}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name}: {'ok' if result.returncode == 0 else 'FAILED'}", flush=True)
        if result.returncode:
            failed.append(name)
            print(result.stdout + result.stderr, file=sys.stderr)
    return 1 if failed else 0
