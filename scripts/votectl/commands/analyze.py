"""`votectl analyze`: judge an AnalysisTemplate against real Prometheus data, as the controller would."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from votectl.errors import VotectlError
from votectl.pairs import parse_pair

# Exit codes by final run phase (2 stays the usage/input error of every votectl command).
EXIT_CODES = {"Successful": 0, "Failed": 3, "Inconclusive": 4, "Error": 5}
FORMATS = ("table", "json")

DESCRIPTION = """\
Evaluate an AnalysisTemplate (a name in gitops/base/analysis/, a file, or FILE#NAME) exactly as the Argo
Rollouts controller does. Default: run the measurement loop in real time. --once: one measurement per metric
now; the verdict is the worst measurement phase (limits need a series). --replay FROM..TO: re-run the
loop in virtual time from FROM, each query an instant query at its due time; a run still going at TO is
terminated. Times: RFC 3339, unix seconds, 'now' or 'now-DURATION' (e.g. now-15m). Ctrl-C terminates a
real-time run and prints its verdict.
Exit codes: 0 Successful, 3 Failed, 4 Inconclusive, 5 Error, 2 usage or input error."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="evaluate an AnalysisTemplate against Prometheus like Argo Rollouts",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("template", help="template name in gitops/base/analysis/, a YAML file, or FILE#NAME")
    parser.add_argument("--prometheus", metavar="URL", help="Prometheus base URL (overrides the template's)")
    parser.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE", help="set a template arg")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one measurement per metric, now")
    mode.add_argument("--replay", metavar="FROM..TO", help="re-judge a past window from Prometheus history")
    parser.add_argument("--format", default="table", choices=FORMATS, help="output (default table)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from votectl.analysis.clock import RealClock, VirtualClock
    from votectl.analysis.providers.prometheus import PrometheusProvider
    from votectl.analysis.reconcile import AnalysisRunner
    from votectl.analysis.report import print_table, timeline_line, to_json
    from votectl.analysis.template import load_template, template_name

    template = load_template(args.template)
    values = parse_args_list(args.arg)
    window = parse_window(args.replay) if args.replay else None
    live = window is None and not args.once and args.format == "table"
    clock = VirtualClock(window[0]) if window else RealClock()
    provider = PrometheusProvider(args.prometheus)
    on_event = (lambda event: print(timeline_line(event), file=sys.stderr, flush=True)) if live else None
    runner = AnalysisRunner(template, values, provider, clock, on_event=on_event)
    try:
        if args.once:
            runner.measure_once()
        else:
            runner.run_until_done(until=window[1] if window else None)
    except KeyboardInterrupt:
        # Ctrl-C ends the run the way `kubectl argo rollouts terminate analysisrun` does, with a verdict.
        runner.terminate()
        runner.step()
    finally:
        provider.close()
    name = template_name(template)
    if args.format == "json":
        print(to_json(runner, name))
    else:
        print_table(runner, name, Console())
    return EXIT_CODES[runner.phase]


def parse_args_list(pairs: list[str]) -> dict[str, str]:
    try:
        return dict(parse_pair(pair) for pair in pairs)
    except ValueError as err:
        raise VotectlError(f"--arg {err}") from None


def parse_window(text: str) -> tuple[float, float]:
    start_text, sep, end_text = text.partition("..")
    if not sep:
        raise VotectlError(f"--replay {text!r}: expected FROM..TO")
    start, end = parse_moment(start_text), parse_moment(end_text)
    if start > end:  # FROM == TO re-judges the measurements due at that one instant
        raise VotectlError(f"--replay {text!r}: FROM must not be after TO")
    return start, end


def parse_moment(text: str) -> float:
    """RFC 3339, unix seconds, `now` or `now-DURATION`."""
    from votectl.analysis.errors import SpecError
    from votectl.analysis.goformat import parse_duration

    text = text.strip()
    try:
        if text == "now":
            return time.time()
        if text.startswith("now-"):
            return time.time() - parse_duration(text[4:], "replay")
        try:
            return float(text)
        except ValueError:
            moment = datetime.fromisoformat(text)
    except (ValueError, SpecError):
        raise VotectlError(
            f"--replay: cannot read time {text!r} (RFC 3339, unix seconds or now-DURATION)"
        ) from None
    if moment.tzinfo is None:
        raise VotectlError(f"--replay: time {text!r} needs a timezone, e.g. {text}Z")
    return moment.timestamp()
