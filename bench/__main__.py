"""`make bench` = `python -m bench [NAME...]`: run every benchmark module listed below, or the named ones."""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under bench/; each exposes `main() -> dict` (it prints and writes its own results file).
# Add a line here to have `make bench` run a new benchmark.
BENCHMARKS = (
    "vote_throughput",
    "vote_cpu",
    "worker_drain",
    "freshness",
    "results_latency",
    "hostile_clients",
    "redis_failover",
    "verify_bench",
    "policy_bench",
    "analyze_replay",
    "rehearse_bench",
    "engines_build",
    "gitops_loop",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    failed = []
    for name in args.names or BENCHMARKS:
        print(f"== bench.{name}", flush=True)
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as err:  # one broken benchmark must not hide the others' numbers
            print(f"bench.{name} failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
