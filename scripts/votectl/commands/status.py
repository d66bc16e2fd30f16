"""`votectl status`: what runs where, who put it there, and what is waiting to be promoted."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from votectl.errors import VotectlError
from votectl.release.github import GitHub, PullRequest, parse_remote, token_from_env
from votectl.release.images import SERVICES, ImageRef, promotion_envs
from votectl.release.plans import source_of
from votectl.release.provenance import setters
from votectl.release.workspace import Workspace

RELEASE_PREFIXES = ("promote/", "rollback/")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="image per service and env, and open promotion PRs")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    ws = Workspace.open()
    pulls = _release_pulls(ws)
    report = {
        "commit": ws.head,
        "services": _cells(ws, pulls or []),
        "pull_requests": None if pulls is None else [_pull_dict(p) for p in pulls],
    }
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _cells(ws: Workspace, pulls: list[PullRequest]) -> dict[str, dict[str, dict]]:
    """service -> env -> what runs there, who set it, and whether a promotion is waiting."""
    cells: dict[str, dict[str, dict]] = {service: {} for service in SERVICES}
    for env in promotion_envs():
        refs, who = ws.refs(env), setters(ws.git, env, ws.head)
        source = source_of(env)
        source_refs = ws.refs(source) if source else {}
        for service in SERVICES:
            ref = refs.get(service, ImageRef())
            setter = who.get(service)
            cells[service][env] = {
                "tag": ref.tag,
                "digest": ref.digest,
                "commit": setter.commit if setter else None,
                "date": setter.date if setter else None,
                "differs_from_source": bool(source) and source_refs.get(service) != ref,
                "open_pull_requests": [p.number for p in pulls if _touches(p, env, service)],
            }
    return cells


def _release_pulls(ws: Workspace) -> list[PullRequest] | None:
    """Open promotion and rollback PRs, or None when there is no token (or GitHub cannot be asked)."""
    token = token_from_env()
    if not token:
        return None
    try:
        url = ws.git.remote_url(ws.git.remote())
        pulls = GitHub(parse_remote(url), token).open_pulls()
    except VotectlError as err:
        print(f"votectl: warning: open pull requests not shown: {err}", file=sys.stderr)
        return None
    return [p for p in pulls if p.head.startswith(RELEASE_PREFIXES)]


def _touches(pull: PullRequest, env: str, service: str) -> bool:
    """Branch names are `<kind>/<env>/<service>-<ref>[+<service>-<ref>...]`."""
    _, branch_env, services = [*pull.head.split("/", 2), "", ""][:3]
    return branch_env == env and any(part.split("-", 1)[0] == service for part in services.split("+"))


def _pull_dict(pull: PullRequest) -> dict[str, object]:
    return {"number": pull.number, "url": pull.url, "head": pull.head, "title": pull.title}


def _print_table(report: dict) -> None:
    table = Table(title=f"images at {report['commit'][:12]}")
    table.add_column("service")
    envs = promotion_envs()
    for env in envs:
        table.add_column(env)
    for service, cells in report["services"].items():
        table.add_row(service, *(_cell(cells[env]) for env in envs))
    console = Console(width=160)
    console.print(table)
    if report["pull_requests"] is None:
        why = "see the warning above" if token_from_env() else "set GITHUB_TOKEN or GH_TOKEN"
        console.print(f"open pull requests: not shown ({why})")
        return
    for pull in report["pull_requests"]:
        console.print(f"open #{pull['number']} {pull['head']}: {pull['title']}")


def _cell(cell: dict) -> str:
    ref = ImageRef(cell["tag"], cell["digest"])
    lines = [ref.short()]
    if cell["commit"]:
        lines.append(f"{cell['commit'][:8]} {cell['date'][:10]}")
    if cell["open_pull_requests"]:
        lines.append("waiting: " + ", ".join(f"#{n}" for n in cell["open_pull_requests"]))
    elif cell["differs_from_source"]:
        lines.append("differs from source")
    return "\n".join(lines)
