"""`votectl cluster up` runs this detached: it owns the control plane's processes and its volume provisioner
until `votectl cluster down` (SIGTERM) or its own death (the children die with it: PR_SET_PDEATHSIG).

The state directory holds `supervisor.pid` while it runs and `ready.json` once the cluster is usable, or
`failed` with the one-line reason when it could not start.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from votectl.cluster.control_plane import ClusterOptions, LocalCluster
from votectl.errors import VotectlError

READY = "ready.json"
FAILED = "failed"
PID = "supervisor.pid"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="votectl-cluster-supervisor")
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--with-rollouts", action="store_true")
    parser.add_argument("--with-argocd", action="store_true")
    args = parser.parse_args(argv)
    run_dir: Path = args.state_dir
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cluster = LocalCluster(
        run_dir / "cluster",
        ClusterOptions(nodes=args.nodes, with_rollouts=args.with_rollouts, with_argocd=args.with_argocd),
    )
    try:
        cluster.start(progress=lambda message: print(message, flush=True))
    except VotectlError as err:
        cluster.stop()
        (run_dir / FAILED).write_text(f"{err}\n")
        return 1
    except BaseException:
        cluster.stop()
        raise
    extras = [name for name, on in (("rollouts", args.with_rollouts), ("argocd", args.with_argocd)) if on]
    ready = {"kubeconfig": str(cluster.kubeconfig), "pids": cluster.pids, "extras": extras}
    (run_dir / READY).write_text(json.dumps(ready, indent=2))
    print("ready", flush=True)
    stop.wait()
    print("stopping", flush=True)
    cluster.stop()
    (run_dir / READY).unlink(missing_ok=True)
    (run_dir / PID).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
