"""`votectl verify`: the gate developers, CI and Tekton all run before anything merges or ships."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from votectl.errors import VotectlError
from votectl.render import ENVS

if TYPE_CHECKING:
    from votectl.verify.gate import Report

FORMATS = ("table", "json", "junit")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="render every env and check schemas, cross-references and OPA policies",
        description="Exit 0 when clean, 1 on any error finding, 2 on a usage or input error.",
    )
    parser.add_argument(
        "--env", help=f"limit to one env ({', '.join(ENVS)}); with --files, the env whose rules apply"
    )
    parser.add_argument(
        "--files", nargs="+", metavar="PATH", help="check these manifests ('-' for stdin) instead of the envs"
    )
    parser.add_argument("--format", default="table", help=f"output: {', '.join(FORMATS)} (default table)")
    parser.add_argument(
        "--crd-schemas", metavar="DIR", help="CRD JSON schemas (default: $CRD_SCHEMA_DIR, else .crd-schemas)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from votectl.verify.gate import verify_envs, verify_files
    from votectl.verify.schemas import SchemaStore, crd_schema_dir

    if args.env is not None and args.env not in ENVS:
        raise VotectlError(f"unknown env {args.env!r}: choose one of {', '.join(ENVS)}")
    if args.format not in FORMATS:
        raise VotectlError(f"unknown format {args.format!r}: choose one of {', '.join(FORMATS)}")
    store = SchemaStore(crd_schema_dir(args.crd_schemas))
    if args.files:
        report = verify_files(args.files, args.env or "prod", store)
    else:
        report = verify_envs([args.env] if args.env else list(ENVS), store)
    _emit(report, args.format)
    return 0 if report.ok else 1


def _emit(report: Report, output: str) -> None:
    from votectl.verify import report as reports

    if output == "table":
        reports.print_table(report)
    else:
        print(reports.to_json(report) if output == "json" else reports.to_junit(report))
