"""What a cluster says each env runs: its Argo CD Application's sync and health, and its Rollouts' progress.

`votectl status` reads git, which says what should run; this reads the cluster git is meant to describe, so
a failed sync, a degraded env or a canary paused half-way shows next to the reference that was merged. It
only reads (GETs through `KubeClient`); a missing Application or Rollout CRD is data, not an error.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from votectl.cluster.client import Answer, KubeClient
from votectl.errors import VotectlError
from votectl.release.images import promotion_envs, short_digest
from votectl.repo import Repo

ARGO_API = "argoproj.io/v1alpha1"
ARGOCD_NAMESPACE = "argocd"
_SHA = re.compile(r"^[0-9a-f]{40}$")


def application_name(env: str) -> str:
    """The ApplicationSet in gitops/argocd names each env's Application `voting-<env>`."""
    return f"voting-{env}"


@dataclass(frozen=True)
class ApplicationStatus:
    """The parts of an Application's status that say whether git's revision is what runs, and runs well."""

    name: str
    namespace: str
    found: bool
    sync: str | None = None
    revision: str | None = None
    health: str | None = None
    health_message: str | None = None
    operation_phase: str | None = None
    reconciled_at: str | None = None

    @property
    def short_revision(self) -> str | None:
        """A git commit as `git log --oneline` shows it; other revisions (chart versions) as they are."""
        if self.revision and _SHA.match(self.revision):
            return self.revision[:7]
        return self.revision


@dataclass(frozen=True)
class RolloutStatus:
    """One Rollout's progress as its controller last wrote it."""

    name: str
    phase: str | None
    message: str | None
    strategy: str | None  # "canary", "blueGreen", or None when the spec names neither
    step: int | None  # status.currentStepIndex
    steps: int | None  # len(spec.strategy.canary.steps); None for blue-green
    aborted: bool
    image: str | None  # the first container of spec.template (None with a workloadRef)
    stable_rs: str | None
    current_pod_hash: str | None

    @property
    def step_label(self) -> str:
        """`step 3/6` for a canary, `blue-green`, or `-` when the strategy is unknown."""
        if self.strategy == "blueGreen":
            return "blue-green"
        if self.strategy != "canary":
            return "-"
        if not self.steps:
            return "canary, no steps"
        return f"step {'-' if self.step is None else self.step}/{self.steps}"


@dataclass(frozen=True)
class EnvLive:
    env: str
    application: ApplicationStatus
    rollouts: list[RolloutStatus] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `votectl status --live --format json` under `live.<env>`."""
        return {
            "application": asdict(self.application),
            "rollouts": [asdict(rollout) for rollout in self.rollouts],
        }


def read_live(client: KubeClient, envs: list[str] | None = None) -> dict[str, EnvLive]:
    """env -> its Application and Rollouts, for every env that takes promotions (in promotion order)."""
    repo = Repo.current()
    return {
        env: EnvLive(env, read_application(client, env), read_rollouts(client, repo.env(env).namespace))
        for env in (promotion_envs() if envs is None else envs)
    }


def read_application(client: KubeClient, env: str) -> ApplicationStatus:
    name = application_name(env)
    path = client.path_of(ARGO_API, "Application", ARGOCD_NAMESPACE, name)
    if path is None:  # no Argo CD on this cluster: every env's Application is missing
        return ApplicationStatus(name, ARGOCD_NAMESPACE, found=False)
    answer = client.get(path)
    if answer.status == 404:
        return ApplicationStatus(name, ARGOCD_NAMESPACE, found=False)
    _check(answer, f"Application {ARGOCD_NAMESPACE}/{name}")
    status = _mapping(answer.body.get("status"))
    sync, health = _mapping(status.get("sync")), _mapping(status.get("health"))
    revisions = sync.get("revisions") or []
    return ApplicationStatus(
        name,
        ARGOCD_NAMESPACE,
        found=True,
        sync=_text(sync.get("status")),
        # a multi-source Application reports one revision per source; its first source stands for it
        revision=_text(sync.get("revision")) or (_text(revisions[0]) if revisions else None),
        health=_text(health.get("status")),
        health_message=_text(health.get("message")),
        operation_phase=_text(_mapping(status.get("operationState")).get("phase")),
        reconciled_at=_text(status.get("reconciledAt")),
    )


def read_rollouts(client: KubeClient, namespace: str) -> list[RolloutStatus]:
    """Every Rollout in the namespace, by name; none when the cluster has no Rollout CRD."""
    path = client.path_of(ARGO_API, "Rollout", namespace)
    if path is None:
        return []
    answer = client.get(path)
    _check(answer, f"Rollouts in {namespace}")
    items = [_mapping(item) for item in answer.body.get("items") or []]
    return sorted((rollout_status(item) for item in items), key=lambda rollout: rollout.name)


def rollout_status(obj: dict[str, Any]) -> RolloutStatus:
    spec, status = _mapping(obj.get("spec")), _mapping(obj.get("status"))
    strategy = _mapping(spec.get("strategy"))
    kind = "canary" if "canary" in strategy else "blueGreen" if "blueGreen" in strategy else None
    steps = _mapping(strategy.get("canary")).get("steps") if kind == "canary" else None
    containers = _mapping(_mapping(spec.get("template")).get("spec")).get("containers") or []
    step = status.get("currentStepIndex")
    return RolloutStatus(
        name=str(_mapping(obj.get("metadata")).get("name")),
        phase=_text(status.get("phase")),
        message=_text(status.get("message")),
        strategy=kind,
        step=step if isinstance(step, int) else None,
        steps=len(steps or []) if kind == "canary" else None,
        aborted=status.get("abort") is True,
        image=_text(_mapping(containers[0]).get("image")) if containers else None,
        stable_rs=_text(status.get("stableRS")),
        current_pod_hash=_text(status.get("currentPodHash")),
    )


def short_image(image: str | None) -> str:
    """`repo:tag@sha256:<64 hex>` as `repo:tag@<12 hex>`, the way `votectl status` shows digests."""
    if not image:
        return "-"
    name, at, digest = image.partition("@")
    return f"{name}@{short_digest(digest)}" if at else name


def _check(answer: Answer, what: str) -> None:
    if not answer.ok:
        raise VotectlError(f"reading {what}: {' '.join(answer.message.split())} (HTTP {answer.status})")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
