"""A service's Rollout strategy, read from a rendered env, in the shape the rehearsal executes it.

Only what the controller acts on is kept: canary steps (setWeight, pause, analysis) and the background
analysis, or the blue-green pre/post-promotion analyses. Step kinds a local rehearsal cannot play
(experiment, plugin) are refused up front rather than silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from votectl.analysis.errors import SpecError
from votectl.analysis.goformat import parse_duration
from votectl.errors import VotectlError

REFUSED_STEPS = ("experiment", "plugin")
# Steps that change replica counts or header/mirror routes: no effect on a one-instance-per-side rehearsal.
NOTED_STEPS = ("setCanaryScale", "setHeaderRoute", "setMirrorRoute")


@dataclass(frozen=True)
class AnalysisRef:
    """One AnalysisRun to create: its templates, the Rollout's args for them and dry-run rules."""

    templates: tuple[tuple[str, bool], ...]  # (templateName, clusterScope)
    args: tuple[dict[str, Any], ...] = ()
    dry_run: tuple[dict[str, Any], ...] = ()

    @property
    def names(self) -> str:
        return "+".join(name for name, _ in self.templates)


@dataclass(frozen=True)
class Step:
    kind: str  # setWeight, pause, analysis, or one of NOTED_STEPS
    weight: int | None = None
    duration: float | None = None  # pause seconds; None for `pause: {}` (wait for a human)
    analysis: AnalysisRef | None = None

    def describe(self) -> str:
        if self.kind == "setWeight":
            return f"setWeight {self.weight}"
        if self.kind == "pause":
            return (
                "pause (until promoted by a human)" if self.duration is None else f"pause {self.duration:g}s"
            )
        if self.kind == "analysis" and self.analysis is not None:
            return f"analysis {self.analysis.names}"
        return self.kind


@dataclass(frozen=True)
class CanaryStrategy:
    steps: tuple[Step, ...]
    background: AnalysisRef | None = None
    starting_step: int = 0


@dataclass(frozen=True)
class BlueGreenStrategy:
    pre_promotion: AnalysisRef | None
    post_promotion: AnalysisRef | None
    auto_promotion: bool = True


@dataclass(frozen=True)
class Rollout:
    name: str
    strategy: CanaryStrategy | BlueGreenStrategy
    pod_template: dict[str, Any] = field(default_factory=dict)
    objects: tuple[dict[str, Any], ...] = ()  # the whole rendered env, where its AnalysisTemplates live


def find_rollout(objects: list[dict[str, Any]], service: str, env: str) -> Rollout:
    matches = [o for o in objects if o.get("kind") == "Rollout" and _name(o) == service]
    if not matches:
        names = sorted(_name(o) for o in objects if o.get("kind") == "Rollout")
        raise VotectlError(f"env {env} has no Rollout named {service!r} (Rollouts: {', '.join(names)})")
    rollout = matches[0]
    spec = rollout.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if "canary" in strategy:
        parsed: CanaryStrategy | BlueGreenStrategy = _canary(strategy["canary"] or {}, service)
    elif "blueGreen" in strategy:
        parsed = _blue_green(strategy["blueGreen"] or {})
    else:
        raise VotectlError(f"Rollout {service} in env {env} has neither a canary nor a blueGreen strategy")
    return Rollout(service, parsed, dict(spec.get("template") or {}), tuple(objects))


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _canary(canary: dict[str, Any], service: str) -> CanaryStrategy:
    if not (canary.get("trafficRouting") or {}).get("nginx"):
        raise VotectlError(
            f"Rollout {service}: only canaries routed by the nginx ingress can be rehearsed "
            "(without traffic routing the weight is a replica ratio, which one local instance cannot play)"
        )
    steps = tuple(_step(raw, index) for index, raw in enumerate(canary.get("steps") or []))
    background = canary.get("analysis")
    return CanaryStrategy(
        steps=steps,
        background=_analysis_ref(background) if background else None,
        starting_step=int((background or {}).get("startingStep") or 0),
    )


def _blue_green(blue_green: dict[str, Any]) -> BlueGreenStrategy:
    pre, post = blue_green.get("prePromotionAnalysis"), blue_green.get("postPromotionAnalysis")
    return BlueGreenStrategy(
        pre_promotion=_analysis_ref(pre) if pre else None,
        post_promotion=_analysis_ref(post) if post else None,
        auto_promotion=blue_green.get("autoPromotionEnabled", True) is not False,
    )


def _step(raw: dict[str, Any], index: int) -> Step:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise VotectlError(f"canary step {index}: expected exactly one step kind, got {raw!r}")
    kind, body = next(iter(raw.items()))
    if kind == "setWeight":
        return Step(kind, weight=int(body))
    if kind == "pause":
        return Step(kind, duration=_pause_seconds((body or {}).get("duration"), index))
    if kind == "analysis":
        return Step(kind, analysis=_analysis_ref(body or {}))
    if kind in NOTED_STEPS:
        return Step(kind)
    if kind in REFUSED_STEPS:
        raise VotectlError(f"canary step {index}: {kind} steps cannot be rehearsed locally")
    raise VotectlError(f"canary step {index}: unknown step kind {kind!r}")


def _pause_seconds(duration: Any, index: int) -> float | None:
    """An int is seconds, a string is seconds or a duration with a unit (`2m`); absent waits forever."""
    if duration is None:
        return None
    text = str(duration).strip()
    if text.isdigit():
        return float(text)
    try:
        return parse_duration(text, "pause duration")
    except SpecError as err:
        raise VotectlError(f"canary step {index}: {err}") from None


def _analysis_ref(body: dict[str, Any]) -> AnalysisRef:
    templates = tuple(
        (str(t.get("templateName", "")), bool(t.get("clusterScope"))) for t in body.get("templates") or []
    )
    if not templates:
        raise VotectlError("an analysis in the Rollout names no templates")
    return AnalysisRef(templates, tuple(body.get("args") or ()), tuple(body.get("dryRun") or ()))
