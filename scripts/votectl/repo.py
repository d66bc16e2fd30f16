"""The checkout votectl works on and the envs it holds: the one place that knows either.

The root is the checkout the command runs in, found as git finds it (the nearest directory upwards holding
`.git`, a worktree's `.git` file included), never where votectl was installed from. The envs are the
folders the ApplicationSet's git generator deploys, so a new env folder is verified the day it appears;
`gitops/promotion.yaml` orders them and gives each its rules.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from votectl.errors import VotectlError

PROMOTION_FILE = "gitops/promotion.yaml"
ARGOCD_DIR = "gitops/argocd"
# libyaml's loader where PyYAML has it: every command reads these files, the pure-Python one takes 0.1 s.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Rules for an env that gitops/promotion.yaml does not list: the strictest, so nothing slips through.
STRICTEST = {"pinned_images": True, "production": True}


@dataclass(frozen=True)
class Env:
    name: str
    path: Path  # the folder Argo CD renders
    pinned_images: bool
    production: bool
    source: str | None  # the env it is promoted from; None for the first env and for unlisted ones
    listed: bool  # in the promotion order
    namespace: str  # where the ApplicationSet deploys it
    namespace_labels: dict[str, str]  # what the ApplicationSet labels that namespace with (Pod Security)

    def policy_data(self) -> dict[str, Any]:
        """What the Rego library reads as `data.votingplatform.env`."""
        return {"name": self.name, "pinned_images": self.pinned_images, "production": self.production}


def find_root(start: Path | None = None) -> Path:
    """The checkout holding `start` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    for directory in (here, *here.parents):  # a copy without git history (an unpacked tarball, a temp tree)
        if (directory / "gitops" / "envs").is_dir():
            return directory
    raise VotectlError(f"{here} is not inside a voting-platform checkout (no .git or gitops/envs above it)")


class Repo:
    """Paths and envs of one checkout."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def current(cls) -> Repo:
        """The checkout of the working directory; VOTECTL_REPO names another one explicitly."""
        override = os.environ.get("VOTECTL_REPO")
        return _repo_at(find_root(Path(override) if override else None))

    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def envs_dir(self) -> Path:
        return self.root / "gitops" / "envs"

    @property
    def policy_dir(self) -> Path:
        return self.root / "policies" / "opa"

    @property
    def analysis_dir(self) -> Path:
        """The AnalysisTemplates the Rollouts reference: a folder of the kustomize base."""
        return self.root / "gitops" / "base" / "analysis"

    @property
    def engines_dir(self) -> Path:
        """Wrapper Go modules, CRD pins and the CRD schemas generated from them (committed)."""
        return self.root / "engines"

    @functools.cached_property
    def envs(self) -> list[Env]:
        """Every env, in promotion order; unlisted ones after the listed, by name."""
        generated = self._generated()
        folders = {path.name: path for path in generated}
        order, rules = self._promotion()
        missing = [name for name in order if name not in folders]
        if missing:
            raise VotectlError(
                f"{PROMOTION_FILE} lists {', '.join(missing)}, but the ApplicationSet deploys no such folder"
            )
        envs = []
        for name in [*order, *sorted(set(folders) - set(order))]:
            listed = name in order
            env_rules = rules.get(name, STRICTEST) if listed else STRICTEST
            source = order[order.index(name) - 1] if listed and order.index(name) else None
            namespace, labels = generated[folders[name]]
            envs.append(
                Env(
                    name,
                    folders[name],
                    listed=listed,
                    source=source,
                    namespace=namespace,
                    namespace_labels=labels,
                    **env_rules,
                )
            )
        return envs

    @property
    def env_names(self) -> list[str]:
        return [env.name for env in self.envs]

    @property
    def promotion_order(self) -> list[str]:
        return [env.name for env in self.envs if env.listed]

    @functools.cached_property
    def project_destinations(self) -> set[str] | None:
        """Namespaces the Argo CD AppProjects in gitops/argocd let Applications deploy to; None without
        an AppProject (nothing to hold the envs to)."""
        found: set[str] | None = None
        for path in sorted((self.root / ARGOCD_DIR).glob("*.yaml")):
            for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER):
                if isinstance(doc, dict) and doc.get("kind") == "AppProject":
                    destinations = (doc.get("spec") or {}).get("destinations") or []
                    found = (found or set()) | {
                        str(d.get("namespace")) for d in destinations if isinstance(d, dict)
                    }
        return found

    def env(self, name: str) -> Env:
        for env in self.envs:
            if env.name == name:
                return env
        raise VotectlError(f"unknown env {name!r}: choose one of {', '.join(self.env_names)}")

    def _generated(self) -> dict[Path, tuple[str, dict[str, str]]]:
        """Folder -> (namespace, namespace labels) for every directory an ApplicationSet's git directory
        generator matches (Go path.Match globs, `exclude: true` entries taken out)."""
        generated: dict[Path, tuple[str, dict[str, str]]] = {}
        for appset in _application_sets(self.root / ARGOCD_DIR):
            include: set[Path] = set()
            exclude: set[Path] = set()
            for entry in appset.directories:
                pattern = entry.get("path")
                if not isinstance(pattern, str) or not pattern or pattern.startswith("/") or ".." in pattern:
                    raise VotectlError(f"{ARGOCD_DIR}: git generator path {pattern!r} is not a relative glob")
                matched = {path for path in self.root.glob(pattern) if path.is_dir() and path.name != ".git"}
                (exclude if entry.get("exclude") is True else include).update(matched)
            for folder in include - exclude:
                generated[folder] = appset.destination(folder.relative_to(self.root))
        if not generated:
            raise VotectlError(f"the ApplicationSet in {ARGOCD_DIR} generates no env folder in {self.root}")
        return dict(sorted(generated.items()))

    def _promotion(self) -> tuple[list[str], dict[str, dict[str, bool]]]:
        data = _load_yaml(self.root / PROMOTION_FILE)
        order, envs = data.get("order"), data.get("envs")
        if not (isinstance(order, list) and all(isinstance(name, str) for name in order) and order):
            raise VotectlError(f"{PROMOTION_FILE}: `order` must be a non-empty list of env names")
        if len(set(order)) != len(order):
            raise VotectlError(f"{PROMOTION_FILE}: `order` names an env twice")
        if not isinstance(envs, dict) or set(envs) != set(order):
            raise VotectlError(f"{PROMOTION_FILE}: `envs` must give the rules of exactly the envs in `order`")
        rules: dict[str, dict[str, bool]] = {}
        for name, values in envs.items():
            if not isinstance(values, dict) or set(values) != set(STRICTEST):
                raise VotectlError(f"{PROMOTION_FILE}: envs.{name} must set exactly {', '.join(STRICTEST)}")
            if not all(isinstance(value, bool) for value in values.values()):
                raise VotectlError(f"{PROMOTION_FILE}: envs.{name}: rules are true or false")
            rules[name] = dict(values)
        return order, rules


@functools.cache
def _repo_at(root: Path) -> Repo:
    return Repo(root)


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
    except OSError as err:
        raise VotectlError(f"{path}: cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise VotectlError(f"{path}: invalid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(data, dict):
        raise VotectlError(f"{path}: expected a mapping")
    return data


@dataclass(frozen=True)
class _ApplicationSet:
    directories: list[dict]  # its git directory generator entries
    template: dict  # spec.template

    def destination(self, folder: Path) -> tuple[str, dict[str, str]]:
        """The namespace and namespace labels the template gives an Application for `folder`."""
        spec = self.template.get("spec") or {}
        namespace = _fill(str((spec.get("destination") or {}).get("namespace") or ""), folder)
        if not namespace:
            raise VotectlError(f"{ARGOCD_DIR}: the ApplicationSet template names no destination namespace")
        managed = ((spec.get("syncPolicy") or {}).get("managedNamespaceMetadata") or {}).get("labels") or {}
        return namespace, {str(key): _fill(str(value), folder) for key, value in managed.items()}


def _fill(text: str, folder: Path) -> str:
    """The git directory generator's parameters, in goTemplate and in plain form."""
    for basename in ("{{.path.basename}}", "{{path.basename}}"):
        text = text.replace(basename, folder.name)
    for path in ("{{.path.path}}", "{{path}}"):
        text = text.replace(path, folder.as_posix())
    return text


def _application_sets(argocd_dir: Path) -> list[_ApplicationSet]:
    """Every ApplicationSet in the Argo CD folder that has a git directory generator."""
    found: list[_ApplicationSet] = []
    for path in sorted(argocd_dir.glob("*.yaml")):
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except (OSError, yaml.YAMLError) as err:
            raise VotectlError(f"{path}: cannot read: {' '.join(str(err).split())}") from None
        for doc in documents:
            if not isinstance(doc, dict) or doc.get("kind") != "ApplicationSet":
                continue
            spec = doc.get("spec") or {}
            directories = [
                entry
                for generator in spec.get("generators") or []
                for entry in ((generator or {}).get("git") or {}).get("directories") or []
                if isinstance(entry, dict)
            ]
            if directories:
                found.append(_ApplicationSet(directories, spec.get("template") or {}))
    if not found:
        raise VotectlError(f"no ApplicationSet with a git directory generator in {argocd_dir}")
    return found
