"""`votectl history`: an env's promotions and rollbacks, newest first, from commit trailers."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from votectl.release import history
from votectl.release.images import check_env, short_digest
from votectl.release.plans import check_services
from votectl.release.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("history", help="promotions and rollbacks of an env, newest first")
    parser.add_argument("env", help="dev, staging or prod")
    parser.add_argument("service", nargs="?", help="only this service")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=_history)


def _history(args: argparse.Namespace) -> int:
    check_env(args.env)
    if args.service is not None:
        check_services([args.service], False)
    ws = Workspace.open()
    log = history.entries(ws.git, args.env, args.service, ws.head)
    if args.format == "json":
        print(json.dumps([entry.as_dict() for entry in log], indent=2))
        return 0
    if not log:
        print(f"no promotion or rollback of {args.service or 'any service'} recorded in {args.env}")
        return 0
    table = Table(title=f"history of {args.env}")
    for column in ("date", "kind", "service", "old -> new", "commit", "PR"):
        table.add_column(column)
    for e in log:
        pr = f"#{e.pr}" if e.pr else "-"
        table.add_row(e.date, e.kind, e.service, f"{_short(e.old)} -> {_short(e.new)}", e.commit[:12], pr)
    Console(width=160).print(table)
    return 0


def _short(value: str) -> str:
    return short_digest(value) if value.startswith("sha256:") else value
