"""`votectl promote`: copy image references to the next env through a gated pull request."""

from __future__ import annotations

import argparse
import sys

from votectl.release.images import check_env
from votectl.release.plans import check_services, plan_promotion
from votectl.release.publish import Options, publish
from votectl.release.workspace import Target, Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("promote", help="promote image digests to an env by pull request")
    parser.add_argument("services", nargs="*", metavar="SERVICE", help="vote, worker and/or result")
    parser.add_argument("--all", action="store_true", dest="all_services", help="every service")
    parser.add_argument("--to", required=True, dest="to_env", metavar="ENV", help="dev, staging or prod")
    parser.add_argument("--from", dest="from_env", metavar="ENV", help="source env (default: the one before)")
    parser.add_argument("--digest", metavar="sha256:...", help="the digest to promote (required into dev)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    parser.add_argument("--no-pr", action="store_true", help="push the branch and print the compare URL")
    parser.set_defaults(func=_promote)


def _promote(args: argparse.Namespace) -> int:
    check_env(args.to_env)
    services = check_services(args.services, args.all_services)
    ws = Workspace.open()
    target = Target.of(ws)
    proposal = plan_promotion(ws, services, args.to_env, args.from_env, args.digest)
    if not proposal.changes:
        print(f"nothing to promote: {args.to_env} already runs these references")
        return 0
    publish(ws, target, proposal, Options(dry_run=args.dry_run, no_pr=args.no_pr), sys.stdout)
    return 0
