"""The platform's CRDs, out of the pinned operator modules, and the offline gate's schemas made from them.

`crds()` reads the CRD YAMLs that engines/engines.yaml lists from the module zips engines/crds pins (the Go
module cache verifies each zip against go.sum). `generate_schemas()` turns every served version into the
JSON schema `votectl verify` checks custom resources with, following what the API server does with a
structural schema under strict field validation: a field the schema does not declare is an error unless
`x-kubernetes-preserve-unknown-fields` keeps it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from votectl.engines.build import download
from votectl.engines.catalog import CRDS_MODULE, crd_sources
from votectl.errors import VotectlError
from votectl.repo import Repo

SCHEMAS_DIR = "crd-schemas"  # under engines/, committed: the offline gate needs no Go
INDEX = "index.json"  # schema file -> the CRD it was generated from (module@version/path)

_MAPS = ("properties", "patternProperties")
_LISTS = ("allOf", "anyOf", "oneOf")
_ONE = ("items", "not")
# What an embedded resource always has, whether or not its schema lists it (the API server adds them).
_EMBEDDED = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}


@dataclass(frozen=True)
class Crd:
    source: str  # module@version/path
    document: dict

    @property
    def group(self) -> str:
        return str(self.document["spec"]["group"])

    @property
    def kind(self) -> str:
        return str(self.document["spec"]["names"]["kind"])

    @property
    def name(self) -> str:
        return str(self.document["metadata"]["name"])


def crds(repo: Repo | None = None) -> list[Crd]:
    """Every CRD the catalog lists, in catalog order."""
    import yaml

    repo = repo or Repo.current()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader reads the 8 MB of CRDs 10x faster
    sources = crd_sources(repo)
    folders = download(repo.engines_dir / CRDS_MODULE, [source.module for source in sources])
    found = []
    for source in sources:
        for relative in source.files:
            path = folders[source.module] / relative
            try:
                documents = [
                    doc for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader) if doc
                ]
            except (OSError, yaml.YAMLError) as err:
                raise VotectlError(f"{source.module}@{source.version}/{relative}: {err}") from None
            for document in documents:
                if document.get("kind") != "CustomResourceDefinition":
                    raise VotectlError(
                        f"{source.module}/{relative} holds a {document.get('kind')}, not a CRD"
                    )
                found.append(Crd(f"{source.module}@{source.version}/{relative}", document))
    return found


def to_json_schema(node: Any) -> Any:
    """One openAPIV3Schema node as JSON Schema with the API server's rules for unknown fields."""
    if not isinstance(node, dict):
        return node
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _MAPS and isinstance(value, dict):
            out[key] = {name: to_json_schema(child) for name, child in value.items()}
        elif key in _LISTS and isinstance(value, list):
            out[key] = [to_json_schema(child) for child in value]
        elif key in _ONE or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_json_schema(value)
        elif key in ("nullable", "description") or key.startswith("x-kubernetes-"):
            continue  # descriptions are half the size and validate nothing
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}, *out.get("anyOf", [])]
    if node.get("x-kubernetes-embedded-resource") is True:
        # metadata of an embedded object is ObjectMeta, checked by the API server, whatever the CRD says
        out["properties"] = {**_EMBEDDED, **out.get("properties", {}), "metadata": _EMBEDDED["metadata"]}
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    is_object = out.get("type") in ("object", ["object", "null"]) or "properties" in out
    if is_object and not preserve and "additionalProperties" not in node:
        # The API server prunes, and under strict validation rejects, every field the schema leaves out.
        out["additionalProperties"] = False
    return out


def schema_files(crd: Crd) -> dict[str, dict]:
    """`<group>/<kind>_<version>.json` -> schema, for every served version."""
    files = {}
    for version in crd.document["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            raise VotectlError(f"{crd.source}: version {version.get('name')} has no openAPIV3Schema")
        root = to_json_schema(schema)
        # The root's apiVersion/kind/metadata are the API server's to check, not the CRD's: metadata is
        # ObjectMeta (the gate's loader puts that schema in), and no root field is added or refused here.
        root.pop("additionalProperties", None)
        if "metadata" in root.get("properties", {}):
            root["properties"]["metadata"] = {"type": "object"}
        files[f"{crd.group}/{crd.kind.lower()}_{version['name']}.json"] = root
    return files


def render_schemas(repo: Repo | None = None) -> dict[str, bytes]:
    """Every schema file and the index, as bytes, exactly as committed."""
    rendered: dict[str, bytes] = {}
    index: dict[str, str] = {}
    for crd in crds(repo):
        for name, schema in schema_files(crd).items():
            rendered[name] = (json.dumps(schema, indent=1, sort_keys=True) + "\n").encode()
            index[name] = crd.source
    rendered[INDEX] = (json.dumps(index, indent=1, sort_keys=True) + "\n").encode()
    return rendered


def generate_schemas(target: Path, repo: Repo | None = None) -> int:
    """Write the whole set into `target`, replacing it only once everything was made (no half set)."""
    rendered = render_schemas(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".crd-schemas-", dir=target.parent))
    try:
        for name, content in rendered.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(rendered) - 1


def stale_schemas(target: Path, repo: Repo | None = None) -> list[str]:
    """Files that differ between `target` and a fresh generation (missing, changed or extra)."""
    rendered = render_schemas(repo)
    present = {path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()}
    changed = [name for name, content in rendered.items() if not _same(target / name, content)]
    return sorted({*changed, *(present - set(rendered))})


def _same(path: Path, content: bytes) -> bool:
    return path.is_file() and path.read_bytes() == content
