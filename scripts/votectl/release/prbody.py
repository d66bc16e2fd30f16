"""Pull request text: what changes, what the gate said, and how to get back."""

from __future__ import annotations

from votectl.release.images import Change
from votectl.release.verify_tree import GateResult

ROLLOUT_NAMESPACE = "voting-{env}"

WHY_GIT = (
    "Argo CD syncs every env automatically with selfHeal, so a live `kubectl argo rollouts undo` is "
    "reverted to what git says within seconds; a lasting rollback therefore changes git, through this "
    "pull request."
)


def changes_table(changes: tuple[Change, ...]) -> list[str]:
    rows = ["| service | before | after |", "|---|---|---|"]
    rows += [f"| {c.service} | `{c.old.trailer()}` | `{c.new.trailer()}` |" for c in changes]
    return rows


def _gate_lines(gate: GateResult) -> list[str]:
    return ["### Gate", "", f"`{gate.command}` passed on the edited tree: {gate.summary}"]


def promotion_body(env: str, source: str, changes: tuple[Change, ...], gate: GateResult) -> str:
    back = [f"votectl rollback {env} {c.service} --to {c.old.digest}" for c in changes if c.old.digest]
    lines = [
        f"Promotes image references from **{source}** to **{env}**; only "
        f"`gitops/envs/{env}/images/kustomization.yaml` changes.",
        "",
        *changes_table(changes),
        "",
        *_gate_lines(gate),
        "",
        "### Rollback",
        "",
        "After this merges, undo it with a rollback pull request:",
        "",
        "```",
        *(back or [f"votectl rollback {env}"]),
        "```",
    ]
    return "\n".join(lines) + "\n"


def rollback_body(env: str, rollback_of: str, changes: tuple[Change, ...], gate: GateResult) -> str:
    namespace = ROLLOUT_NAMESPACE.format(env=env)
    aborts = [f"kubectl argo rollouts abort {c.service} -n {namespace}" for c in changes]
    lines = [
        f"**Rollback** of {env}: restores the image(s) it ran before commit {rollback_of[:12]}.",
        "",
        *changes_table(changes),
        "",
        *_gate_lines(gate),
        "",
        "### A canary still in progress",
        "",
        "Abort it first so traffic returns to the stable version at once:",
        "",
        "```",
        *aborts,
        "```",
        "",
        "### Why through git",
        "",
        WHY_GIT,
    ]
    return "\n".join(lines) + "\n"
