"""`votectl rollback`: a pull request restoring the images an env ran before, found in git history."""

from __future__ import annotations

import argparse
import sys

from votectl.release.plans import plan_rollback
from votectl.release.publish import Options, publish
from votectl.release.workspace import Target, Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rollback", help="open a pull request restoring an env's previous images")
    parser.add_argument("env", help="dev, staging or prod")
    parser.add_argument("service", nargs="?", help="one service (default: those of the last promotion)")
    back = parser.add_mutually_exclusive_group()
    back.add_argument("--to", dest="to_digest", metavar="sha256:...", help="a digest from the env's history")
    back.add_argument("--steps", type=int, default=1, metavar="N", help="how many changes back (default 1)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    parser.add_argument("--no-pr", action="store_true", help="push the branch and print the compare URL")
    parser.set_defaults(func=_rollback)


def _rollback(args: argparse.Namespace) -> int:
    ws = Workspace.open()
    target = Target.of(ws)
    proposal = plan_rollback(ws, args.env, args.service, args.to_digest, args.steps)
    if not proposal.changes:
        print(f"nothing to roll back: {args.env} already runs those references")
        return 0
    publish(ws, target, proposal, Options(dry_run=args.dry_run, no_pr=args.no_pr), sys.stdout)
    return 0
