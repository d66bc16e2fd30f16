"""`votectl status`: what runs where, who put it there, and what is waiting to be promoted."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from votectl.cluster.client import KubeClient
from votectl.cluster.live import ApplicationStatus, EnvLive, RolloutStatus, read_live, short_image
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
    parser.add_argument(
        "--live",
        action="store_true",
        help="also read each env's Argo CD Application and Rollouts from the cluster",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="with --live: the cluster to read (default: $KUBECONFIG, else the running `votectl cluster`)",
    )
    parser.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    if args.kubeconfig and not args.live:
        raise VotectlError("--kubeconfig needs --live")
    ws = Workspace.open()
    pulls = _release_pulls(ws)
    report: dict = {
        "commit": ws.head,
        "services": _cells(ws, pulls or []),
        "pull_requests": None if pulls is None else [_pull_dict(p) for p in pulls],
    }
    live = _live(args.kubeconfig) if args.live else None
    if live is not None:
        report["live"] = {env: state.as_dict() for env, state in live[0].items()}
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    _print_table(report)
    if live is not None:
        _print_live(*live)
    return 0


def _live(kubeconfig: str | None) -> tuple[dict[str, EnvLive], str]:
    """Read the cluster before anything is printed, so a failure leaves no half report behind."""
    with KubeClient(_kubeconfig(kubeconfig)) as client:
        return read_live(client), client.server


def _kubeconfig(given: str | None) -> Path:
    """--kubeconfig, else $KUBECONFIG (one file: KubeClient merges none), else the `votectl cluster` one."""
    if given:
        return Path(given)
    from_env = os.environ.get("KUBECONFIG", "")
    if from_env:
        if os.pathsep in from_env:
            raise VotectlError(
                f"KUBECONFIG lists several files ({from_env}): pass the one to read with --kubeconfig"
            )
        return Path(from_env)
    from votectl.cluster.lifecycle import running

    cluster = running()
    if cluster is None:
        raise VotectlError(
            "no cluster to read: pass --kubeconfig, set KUBECONFIG, or start one with `votectl cluster up`"
        )
    return cluster.kubeconfig


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


def _print_live(live: dict[str, EnvLive], server: str) -> None:
    """One row per Rollout; the env's Application cells on its first row, a rule between envs."""
    table = Table(title=f"live at {server}")
    for column in ("env", "Application sync (revision)", "health", "Rollout", "phase", "step", "image"):
        table.add_column(column)
    for env, state in live.items():
        first = [env, _sync_cell(state.application), _health_cell(state.application)]
        rows = [
            [rollout.name, _phase_cell(rollout), rollout.step_label, short_image(rollout.image)]
            for rollout in state.rollouts
        ] or [["none", "-", "-", "-"]]
        for index, row in enumerate(rows):
            table.add_row(*(first if index == 0 else ["", "", ""]), *row, end_section=index == len(rows) - 1)
    Console(width=160).print(table)


def _sync_cell(app: ApplicationStatus) -> str:
    if not app.found:
        return f"missing\n{app.namespace}/{app.name}"
    text = app.sync or "unknown"
    if app.short_revision:
        text += f" ({app.short_revision})"
    if app.operation_phase and app.operation_phase != "Succeeded":
        text += f"\nlast sync {app.operation_phase}"
    return text


def _health_cell(app: ApplicationStatus) -> str:
    if not app.found:
        return "-"
    text = app.health or "unknown"
    return f"{text}\n{app.health_message}" if app.health_message else text


def _phase_cell(rollout: RolloutStatus) -> str:
    text = (rollout.phase or "-") + (" (aborted)" if rollout.aborted else "")
    return f"{text}\n{rollout.message}" if rollout.message else text
