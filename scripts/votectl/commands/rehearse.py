"""`votectl rehearse`: play a service's Rollout strategy locally on real processes and report how it ends."""

from __future__ import annotations

import argparse
from pathlib import Path

from votectl.pairs import parse_pair

# Exit codes by outcome (2 stays the usage/input error of every votectl command).
EXIT_CODES = {"Promoted": 0, "Aborted": 3, "Paused": 4}

DESCRIPTION = """\
Rehearse a service's Argo Rollouts strategy from a rendered env (default staging) on this machine:
real Redis, PostgreSQL and worker, a stable and a canary instance of the service (the canary with
--canary-env), nginx splitting traffic, synthetic users, and Prometheus labelling each instance with its
pod template hash. With --controller argo (the default once `votectl engines build` has built it) the
real Argo Rollouts controller runs the Rollout on a local control plane and makes every decision: the
canary weight it writes drives nginx, its AnalysisRuns query the rehearsal's Prometheus. With
--controller votectl, votectl's in-process model of the controller plays the strategy instead (no Go
needed). --speed N divides pauses and analysis intervals (and the rate() windows, never below four
scrapes) by N. A pause without duration, or an Inconclusive analysis, ends the rehearsal Paused: in
the cluster a human would decide.
Exit codes: 0 Promoted, 3 Aborted (traffic back to stable), 4 Paused, 2 usage or input error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rehearse",
        help="rehearse a Rollout's canary or blue-green strategy locally",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("service", help="vote (canary) or result (blue-green)")
    parser.add_argument(
        "--strategy-from", default="staging", metavar="ENV", help="env to read the Rollout from"
    )
    parser.add_argument(
        "--canary-env",
        action="append",
        default=[],
        type=env_pair,
        metavar="NAME=VALUE",
        help="env of the canary instance (repeatable), e.g. VOTE_FAULT_RATE=0.1",
    )
    parser.add_argument(
        "--faults-when-live",
        action="store_true",
        help="hold the canary's injected faults until it takes all the live traffic (the blue-green "
        "switch): a release that degrades after promotion",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="time compression factor (default 1)")
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="synthetic requests per second through nginx (default 100; 0 sends none)",
    )
    parser.add_argument(
        "--controller",
        choices=("argo", "votectl"),
        help="who decides: the real Argo Rollouts controller (default when built) or votectl's model",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="with --controller argo: use this cluster (e.g. `votectl cluster up --with rollouts`)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write rehearsal.md, rehearsal.png (and rehearsal.json with --controller argo) there",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from votectl.rehearsal.driver import RehearsalOptions, rehearse

    options = RehearsalOptions(
        service=args.service,
        env=args.strategy_from,
        canary_env=dict(args.canary_env),
        speed=args.speed,
        rate=args.rate,
        report_dir=args.report,
        controller=args.controller or default_controller(),
        kubeconfig=args.kubeconfig,
        faults_when_live=args.faults_when_live,
    )
    result = rehearse(options, Console(stderr=True))
    print(f"{result.outcome}: {result.message}")
    return EXIT_CODES[result.outcome]


def env_pair(text: str) -> tuple[str, str]:
    """argparse type: a bad pair is a usage error (exit 2) before anything starts."""
    try:
        return parse_pair(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def default_controller() -> str:
    """The real controller when its engines are built; votectl's model otherwise (no Go on this machine)."""
    from votectl.cluster.control_plane import COMPONENTS
    from votectl.engines.build import path
    from votectl.errors import VotectlError

    try:
        for name in (*COMPONENTS, "rollouts-controller"):
            path(name)
    except VotectlError:
        return "votectl"
    return "argo"
