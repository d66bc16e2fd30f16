"""Download the pinned CRD JSON schemas `votectl verify` checks custom resources against (`make crd-schemas`).

Output layout is the CRDs catalog's: `<dir>/<group>/<kind>_<version>.json`. Catalog files are fetched at a
pinned commit and must match their SHA-256; Tekton schemas are converted from the upstream CRDs at pinned
commits with the catalog's rules. Everything lands in a temp dir first, so a failed run leaves no half set.
Needs network access to raw.githubusercontent.com (not available on the build machines: CI uses a copy).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import yaml

RAW = "https://raw.githubusercontent.com"
CATALOG = f"{RAW}/datreeio/CRDs-catalog/7b1e26ef9dee"  # commit holding exactly the schemas below
# `sha256sum -c` format: the catalog files to fetch and the digest each must have
CATALOG_PINS = Path(__file__).with_name("crd-schemas.sha256")
PIPELINE = f"{RAW}/tektoncd/pipeline/70f730815249/config/300-crds"  # v1.15.0
TRIGGERS = f"{RAW}/tektoncd/triggers/72d276a21740/config"  # v0.37.0
# output file -> (upstream CRD YAML, the served version to convert)
CONVERTED = {
    "tekton.dev/pipeline_v1.json": (f"{PIPELINE}/300-pipeline.yaml", "v1"),
    "tekton.dev/pipelinerun_v1.json": (f"{PIPELINE}/300-pipelinerun.yaml", "v1"),
    "tekton.dev/task_v1.json": (f"{PIPELINE}/300-task.yaml", "v1"),
    "tekton.dev/taskrun_v1.json": (f"{PIPELINE}/300-taskrun.yaml", "v1"),
    "triggers.tekton.dev/eventlistener_v1beta1.json": (f"{TRIGGERS}/300-eventlistener.yaml", "v1beta1"),
    "triggers.tekton.dev/trigger_v1beta1.json": (f"{TRIGGERS}/300-trigger.yaml", "v1beta1"),
    "triggers.tekton.dev/triggerbinding_v1beta1.json": (f"{TRIGGERS}/300-triggerbinding.yaml", "v1beta1"),
    "triggers.tekton.dev/triggertemplate_v1beta1.json": (f"{TRIGGERS}/300-triggertemplate.yaml", "v1beta1"),
}
_NESTED_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_NESTED_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_NESTED_ONE = ("items", "additionalProperties", "not")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URLs)
        return response.read()


def to_json_schema(node: Any, root: bool = False) -> Any:
    """An openAPIV3Schema as the catalog writes it: nullable as a type, closed objects, no x-kubernetes."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _NESTED_MAPS and isinstance(value, dict):
            out[key] = {name: to_json_schema(child) for name, child in value.items()}
        elif key in _NESTED_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(child) for child in value]
        elif key in _NESTED_ONE:
            out[key] = to_json_schema(value)
        elif key == "nullable":
            continue
        elif key == "x-kubernetes-preserve-unknown-fields":
            if value is True:
                out["additionalProperties"] = True
        elif not key.startswith("x-kubernetes-"):
            out[key] = value
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    if not root and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def convert(crd_yaml: bytes, version: str) -> bytes:
    crd = yaml.safe_load(crd_yaml)
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = to_json_schema(served["schema"]["openAPIV3Schema"], root=True)
    return (json.dumps(schema, indent=2) + "\n").encode()


def catalog_pins() -> dict[str, str]:
    pins = (line.split() for line in CATALOG_PINS.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in pins}


def download(target: Path) -> int:
    pins = catalog_pins()
    for name, digest in pins.items():
        content = fetch(f"{CATALOG}/{name}")
        if hashlib.sha256(content).hexdigest() != digest:
            raise SystemExit(f"{name}: SHA-256 mismatch with the pinned catalog file; refusing to use it")
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(content)
    for name, (url, version) in CONVERTED.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(convert(fetch(url), version))
    return len(pins) + len(CONVERTED)


def main(argv: list[str]) -> int:
    destination = Path(argv[0] if argv else ".crd-schemas")
    staging = Path(tempfile.mkdtemp(prefix="crd-schemas-", dir=destination.parent.resolve()))
    try:
        count = download(staging)
        shutil.rmtree(destination, ignore_errors=True)
        staging.rename(destination)
    except OSError as err:
        print(f"crd-schemas: download failed: {err}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"crd-schemas: {count} schemas in {destination}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
