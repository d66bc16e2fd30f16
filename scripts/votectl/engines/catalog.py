"""What engines/engines.yaml declares: the engines to build and the CRD files to take from modules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from votectl.errors import VotectlError
from votectl.repo import Repo

CATALOG = "engines.yaml"
CRDS_MODULE = "crds"  # the wrapper module that pins the operator modules CRDs come from


@dataclass(frozen=True)
class Engine:
    name: str
    module_dir: Path  # the wrapper module
    package: str
    module: str  # the required module providing the package ("" for our own programs)
    version: str  # that module's required version ("" for our own programs)
    ldflags: tuple[str, ...]  # -X settings, already filled in

    def go_files(self) -> list[Path]:
        """Our own Go sources in the wrapper module (part of what a build depends on)."""
        return sorted(self.module_dir.rglob("*.go"))


@dataclass(frozen=True)
class CrdSource:
    module: str
    version: str
    files: tuple[str, ...]


def _load(repo: Repo) -> dict:
    import yaml

    path = repo.engines_dir / CATALOG
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise VotectlError(f"{path}: cannot read: {err.strerror or err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("engines"), dict):
        raise VotectlError(f"{path}: expected `engines:` and `crds:` mappings")
    return data


def required_versions(go_mod: Path) -> dict[str, str]:
    """module -> version of every require line of a go.mod."""
    try:
        text = go_mod.read_text(encoding="utf-8")
    except OSError as err:
        raise VotectlError(f"{go_mod}: cannot read: {err.strerror or err}") from None
    return dict(re.findall(r"^\s*(?:require\s+)?([\w.~/-]+\.[\w.~/-]+)\s+(v[^\s]+)", text, re.MULTILINE))


def _providing_module(package: str, versions: dict[str, str]) -> tuple[str, str]:
    """The longest required module path the package lives in."""
    candidates = [module for module in versions if package == module or package.startswith(module + "/")]
    if not candidates:
        return "", ""
    module = max(candidates, key=len)
    return module, versions[module]


def engines(repo: Repo | None = None) -> dict[str, Engine]:
    repo = repo or Repo.current()
    found: dict[str, Engine] = {}
    for name, spec in _load(repo)["engines"].items():
        module_dir = repo.engines_dir / str(spec["module"])
        module, version = _providing_module(spec["package"], required_versions(module_dir / "go.mod"))
        major, minor = [*version.lstrip("v").split("."), "", ""][:2]
        ldflags = tuple(
            flag.format(version=version, bare=version.lstrip("v"), major=major, minor=minor)
            for flag in spec.get("ldflags") or []
        )
        found[name] = Engine(name, module_dir, spec["package"], module, version, ldflags)
    return found


def engine(name: str, repo: Repo | None = None) -> Engine:
    known = engines(repo)
    if name not in known:
        raise VotectlError(f"unknown engine {name!r}: choose one of {', '.join(known)}")
    return known[name]


def crd_sources(repo: Repo | None = None) -> list[CrdSource]:
    repo = repo or Repo.current()
    versions = required_versions(repo.engines_dir / CRDS_MODULE / "go.mod")
    sources = []
    for module, files in (_load(repo).get("crds") or {}).items():
        if module not in versions:
            raise VotectlError(
                f"engines/{CATALOG}: CRDs from {module}, which engines/{CRDS_MODULE} does not pin"
            )
        sources.append(CrdSource(module, versions[module], tuple(files)))
    return sources
