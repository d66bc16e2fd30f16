"""Find an AnalysisTemplate or ClusterAnalysisTemplate: by name in gitops/base/analysis/, or in a
(multi-doc) file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from votectl.errors import VotectlError
from votectl.render import parse_manifests

TEMPLATE_KINDS = ("AnalysisTemplate", "ClusterAnalysisTemplate")


def load_template(ref: str, search_dir: Path | None = None) -> dict[str, Any]:
    """`ref` is a template name (looked up in the checkout's gitops/base/analysis/, or `search_dir`), a file
    path, or `FILE#NAME` for a file that holds several templates."""
    from votectl.repo import Repo

    file_part, _, name = ref.partition("#")
    path = Path(file_part)
    if path.suffix in (".yaml", ".yml", ".json") or path.is_file():
        if not path.is_file():
            raise VotectlError(f"{file_part}: no such file")
        return _pick(_templates_in(path), name, str(path))
    search_dir = search_dir or Repo.current().analysis_dir
    if not search_dir.is_dir():
        raise VotectlError(f"{search_dir}: no such directory to look for template {ref!r} in")
    found = [t for f in sorted(search_dir.rglob("*.y*ml")) for t in _templates_in(f)]
    return _pick(found, ref, str(search_dir))


def template_name(template: dict[str, Any]) -> str:
    return str((template.get("metadata") or {}).get("name", ""))


def _templates_in(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise VotectlError(f"{path}: cannot read: {err}") from None
    return [doc for doc in parse_manifests(text, str(path)) if doc.get("kind") in TEMPLATE_KINDS]


def _pick(templates: list[dict[str, Any]], name: str, where: str) -> dict[str, Any]:
    if not templates:
        raise VotectlError(f"{where}: no AnalysisTemplate or ClusterAnalysisTemplate found")
    if not name and len(templates) == 1:
        return templates[0]
    names = sorted({template_name(t) for t in templates})
    if not name:
        raise VotectlError(f"{where} holds several templates ({', '.join(names)}): pick one with FILE#NAME")
    matches = [t for t in templates if template_name(t) == name]
    if not matches:
        raise VotectlError(f"no template named {name!r} in {where} (found: {', '.join(names)})")
    if any(m != matches[0] for m in matches[1:]):
        kinds = ", ".join(str(m.get("kind")) for m in matches)
        raise VotectlError(f"template name {name!r} is ambiguous in {where} ({kinds})")
    return matches[0]
