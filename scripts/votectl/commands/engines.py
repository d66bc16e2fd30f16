"""`votectl engines`: build the pinned real engines from Go modules, list and find them, make CRD schemas."""

from __future__ import annotations

import argparse
import sys

from votectl.errors import VotectlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "engines",
        help="build and find the real engines (kube-apiserver, etcd, kwok, OPA, Argo Rollouts ...)",
        description=(
            "The engines are built from the wrapper Go modules in engines/ (pinned by go.mod and go.sum) "
            "into .engines/ (or $VOTECTL_ENGINES). Needs Go 1.26 or newer."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build what is missing or older than its pins")
    build.add_argument("names", nargs="*", metavar="NAME", help="engines to build (default: all)")
    build.set_defaults(func=_build)
    listing = actions.add_parser("list", help="every engine, its version and whether it is built")
    listing.set_defaults(func=_list)
    where = actions.add_parser("path", help="print the path of a built engine")
    where.add_argument("name", metavar="NAME")
    where.set_defaults(func=_path)
    schemas = actions.add_parser(
        "crd-schemas", help="generate the offline gate's CRD schemas from the pinned operator modules"
    )
    schemas.add_argument("--out", metavar="DIR", help="where to write (default: engines/crd-schemas)")
    schemas.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the committed schemas are stale"
    )
    schemas.set_defaults(func=_crd_schemas)


def _build(args: argparse.Namespace) -> int:
    from rich.console import Console

    from votectl.engines.build import build

    console = Console(stderr=True)
    with console.status("checking the engines ...") as status:

        def progress(message: str) -> None:
            if message.startswith("built "):
                console.print(message)
            status.update(f"{message} (builds take minutes the first time)")

        states = build(args.names or None, progress=progress)
    console.print(f"{len(states)} engine(s) ready in {states[0].binary.parent}")
    return 0


def _list(args: argparse.Namespace) -> int:
    import shutil

    from rich.console import Console
    from rich.table import Table

    from votectl.engines.build import go_version, states

    go = shutil.which("go")
    table = Table(title="engines")
    for column in ("engine", "version", "built from", "state"):
        table.add_column(column)
    for state in states(version=go_version(go) if go else None):
        if not state.built:
            condition = "not built"
        elif go is None:
            condition = "built (no Go to check its pins)"
        else:
            condition = "built" if state.fresh else "stale: older than its pins"
        engine = state.engine
        table.add_row(engine.name, engine.version or "-", engine.module or engine.package, condition)
    Console(width=160).print(table)
    return 0


def _path(args: argparse.Namespace) -> int:
    from votectl.engines.build import path

    print(path(args.name))
    return 0


def _crd_schemas(args: argparse.Namespace) -> int:
    from pathlib import Path

    from votectl.engines.crds import SCHEMAS_DIR, generate_schemas, stale_schemas
    from votectl.repo import Repo

    repo = Repo.current()
    target = Path(args.out) if args.out else repo.engines_dir / SCHEMAS_DIR
    if args.check:
        stale = stale_schemas(target, repo)
        if stale:
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            print(f"votectl: {target} is stale ({shown}): run `votectl engines crd-schemas`", file=sys.stderr)
            return 1
        print(f"{target}: up to date")
        return 0
    if target.exists() and not target.is_dir():
        raise VotectlError(f"--out {target} is not a directory")
    print(f"{generate_schemas(target, repo)} schemas written to {target}")
    return 0
