"""`votectl verify`: the gate developers, CI and Tekton all run before anything merges or ships."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from votectl.errors import VotectlError

if TYPE_CHECKING:
    from votectl.verify.gate import Report

FORMATS = ("table", "json", "junit")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="render every env and check schemas, cross-references and OPA policies",
        description=(
            "Checks every env folder the ApplicationSet deploys (gitops/envs/*) of the checkout it runs in. "
            "Exit 0 when clean, 1 on any error finding, 2 on a usage or input error."
        ),
    )
    parser.add_argument("--env", help="limit to one env; with --files, the env whose rules apply")
    parser.add_argument(
        "--files", nargs="+", metavar="PATH", help="check these manifests ('-' for stdin) instead of the envs"
    )
    parser.add_argument("--format", default="table", help=f"output: {', '.join(FORMATS)} (default table)")
    parser.add_argument(
        "--crd-schemas",
        metavar="DIR",
        help="CRD JSON schemas (default: $CRD_SCHEMA_DIR, else the checkout's engines/crd-schemas)",
    )
    server = parser.add_argument_group("server-side gate (the real kube-apiserver)")
    server.add_argument(
        "--server",
        action="store_true",
        help="also apply every env with server-side dry run and strict field validation",
    )
    server.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="with --server: check against this cluster instead of a throwaway local control plane",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from votectl.repo import Repo
    from votectl.verify.gate import verify_envs, verify_files
    from votectl.verify.schemas import SchemaStore, crd_schema_dir

    repo = Repo.current()
    envs = [repo.env(args.env).name] if args.env is not None else repo.env_names
    if args.format not in FORMATS:
        raise VotectlError(f"unknown format {args.format!r}: choose one of {', '.join(FORMATS)}")
    if args.kubeconfig and not args.server:
        raise VotectlError("--kubeconfig needs --server")
    if args.server and args.files:
        raise VotectlError("--server checks the envs; it does not take --files")
    store = SchemaStore(crd_schema_dir(args.crd_schemas))
    if args.files:
        report = verify_files(args.files, envs[0] if args.env else "prod", store)
    elif args.server:
        from votectl.verify.server import verify_envs_on_server

        report = verify_envs_on_server(envs, store, args.kubeconfig)
    else:
        report = verify_envs(envs, store)
    _emit(report, args.format)
    return 0 if report.ok else 1


def _emit(report: Report, output: str) -> None:
    from votectl.verify import report as reports

    if output == "table":
        reports.print_table(report)
    else:
        print(reports.to_json(report) if output == "json" else reports.to_junit(report))
