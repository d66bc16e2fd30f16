"""Loads the fixture corpus: compliant bundles, and cases that each break a copy of one bundle.

A case names its policy, a bundle, JSON patches (RFC 6902) per "Kind/name" object, objects to add or
remove, the env, and the exact set of policy IDs it must trigger (empty for a passing case).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonpatch
import yaml

HERE = Path(__file__).parent
BUNDLES = HERE / "bundles"
CASES = HERE / "cases"


@dataclass(frozen=True)
class Case:
    policy: str
    case: str
    bundle: str
    env: str = "prod"
    patch: dict[str, list[dict]] = field(default_factory=dict)
    add: list[dict] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.policy}: {self.case}"

    def objects(self) -> list[dict]:
        objects = [obj for obj in load_bundle(self.bundle) if _key(obj) not in self.remove]
        unknown = (set(self.patch) | set(self.remove)) - {_key(obj) for obj in load_bundle(self.bundle)}
        if unknown:
            raise ValueError(f"case {self.id!r} names objects not in bundle {self.bundle}: {sorted(unknown)}")
        patched = [jsonpatch.apply_patch(obj, self.patch.get(_key(obj), [])) for obj in objects]
        return patched + self.add


def _key(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def load_bundle(name: str) -> list[dict]:
    # A JSON round trip unshares YAML anchors, so patching one object never changes another.
    return json.loads(json.dumps(yaml.safe_load((BUNDLES / f"{name}.yaml").read_text(encoding="utf-8"))))


def bundle_names() -> list[str]:
    return sorted(path.stem for path in BUNDLES.glob("*.yaml"))


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        cases.extend(Case(**entry) for entry in yaml.safe_load(path.read_text(encoding="utf-8")))
    return cases
