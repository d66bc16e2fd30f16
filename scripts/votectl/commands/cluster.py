"""`votectl cluster`: a local Kubernetes control plane of real engines, for users without Docker."""

from __future__ import annotations

import argparse
import shlex
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="a local control plane (etcd, kube-apiserver, controllers, kwok nodes) on loopback",
        description=(
            "Real kube-apiserver, kube-controller-manager, kube-scheduler and etcd, with kwok's fake nodes "
            "(pods become Ready, no container runs) and the platform's CRDs. Build them first: "
            "`votectl engines build`."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the cluster in the background and wait until it is ready")
    up.add_argument(
        "--with",
        dest="extras",
        action="append",
        type=_extras,
        default=[],
        metavar="rollouts,argocd",
        help="also run the real Argo Rollouts controller and/or Argo CD (comma-separated, repeatable)",
    )
    up.add_argument("--nodes", type=int, default=3, help="fake nodes (default 3)")
    up.set_defaults(func=_up)
    actions.add_parser("down", help="stop the cluster and everything it started").set_defaults(func=_down)
    actions.add_parser(
        "env", help="print the `export KUBECONFIG=...` line for a running cluster"
    ).set_defaults(func=_env)


EXTRAS = ("rollouts", "argocd")


def _extras(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in EXTRAS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected some of {', '.join(EXTRAS)}, got {text!r}")
    return names


def _up(args: argparse.Namespace) -> int:
    from rich.console import Console

    from votectl.cluster.lifecycle import up
    from votectl.errors import VotectlError

    if not 1 <= args.nodes <= 50:
        raise VotectlError(f"--nodes must be between 1 and 50, got {args.nodes}")
    console = Console(stderr=True)
    started = time.monotonic()
    with console.status("starting the local cluster ...") as status:
        extras = {name for names in args.extras for name in names}
        cluster = up(extras, args.nodes, lambda line: status.update(line))
    console.print(f"local cluster ready in {time.monotonic() - started:.1f} s ({', '.join(cluster.pids)})")
    print(f"export KUBECONFIG={shlex.quote(str(cluster.kubeconfig))}")
    return 0


def _down(args: argparse.Namespace) -> int:
    import sys

    from votectl.cluster.lifecycle import down

    print("local cluster stopped" if down() else "no local cluster was running", file=sys.stderr)
    return 0


def _env(args: argparse.Namespace) -> int:
    from votectl.cluster.lifecycle import running
    from votectl.errors import VotectlError

    cluster = running()
    if cluster is None:
        raise VotectlError("no local cluster is running: start one with `votectl cluster up`")
    print(f"export KUBECONFIG={shlex.quote(str(cluster.kubeconfig))}")
    return 0
