"""Strict schema validation of every object, reporting all of its errors rather than the first.

Built-in kinds use the Kubernetes 1.37 strict schemas shipped in kubernetes-validate (the version of the
kube-apiserver `verify --server` runs); custom resources use the JSON schemas `votectl engines crd-schemas`
generates from the pinned operator modules into engines/crd-schemas (`<group>/<kind>_<version>.json`).
Schemas are read and compiled lazily, once per kind, because the whole gate must cost at most 2.5 times the
rendering.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cached_property
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from votectl.errors import VotectlError

KUBERNETES_VERSION = "1.37.0"
CRD_SCHEMA_ENV = "CRD_SCHEMA_DIR"
_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META = {"$ref": f"{_DEFINITIONS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
_MAX_MESSAGE = 240
# apiVersion and kind become file names: anything but these shapes has no schema (and no path tricks)
_API_VERSION = re.compile(r"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?v[a-z0-9]+$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def crd_schema_dir(option: str | None = None) -> Path:
    """`--crd-schemas`, else CRD_SCHEMA_DIR, else the checkout's committed engines/crd-schemas."""
    from votectl.engines.crds import SCHEMAS_DIR
    from votectl.repo import Repo

    value = option or os.environ.get(CRD_SCHEMA_ENV)
    path = Path(value) if value else Repo.current().engines_dir / SCHEMAS_DIR
    if not path.is_dir():
        raise VotectlError(
            f"CRD schema directory {path} does not exist (`votectl engines crd-schemas` makes it)"
        )
    return path


def _kubernetes_validate_dir() -> Path:
    """Where kubernetes-validate keeps its schemas, found without importing it (its import costs 60 ms)."""
    spec = find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise VotectlError("kubernetes-validate is not installed (make install)")
    return Path(next(iter(spec.submodule_search_locations)))


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def is_builtin_group(group: str) -> bool:
    """Kubernetes' own groups have no dot (core, apps, batch...) or end in .k8s.io."""
    return "." not in group or group.endswith(".k8s.io")


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[Any]:
    """JSON Schema `pattern` with the Go regex dialect CRDs are written in."""
    from jsonschema import ValidationError

    from votectl.verify.patterns import compile_re2

    if not validator.is_type(instance, "string"):
        return
    try:
        regex = compile_re2(pattern)
    except Exception as err:  # the schema, not the object, is at fault: say so rather than pass
        yield ValidationError(f"schema pattern {pattern!r} cannot be checked: {err}")
        return
    if not regex.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def format_path(path: Any) -> str:
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return text or "(root)"


def _shorten(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


class SchemaStore:
    """Finds, compiles and caches one validator per apiVersion/kind."""

    def __init__(self, crd_dir: Path) -> None:
        self.crd_dir = crd_dir
        self.builtin_dir = (
            _kubernetes_validate_dir() / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
        )
        self._validators: dict[tuple[str, str], Any] = {}

    @cached_property
    def _validator_class(self) -> Any:
        from jsonschema import Draft202012Validator, validators

        return validators.extend(Draft202012Validator, {"pattern": _pattern})

    @cached_property
    def _registry(self) -> Any:
        """The Kubernetes definitions every built-in schema and every custom resource's metadata refers to."""
        from referencing import Registry, Resource

        definitions = json.loads(self.builtin_dir.joinpath("_definitions.json").read_text())
        return Registry().with_resource(_DEFINITIONS_ID, Resource.from_contents(definitions))

    def _builtin_schema(self, group: str, version: str, kind: str) -> dict | None:
        prefix = f"{group.split('.')[0]}-" if group else ""
        path = self.builtin_dir / f"{kind.lower()}-{prefix}{version}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def _crd_schema(self, group: str, version: str, kind: str) -> dict | None:
        path = self.crd_dir / group / f"{kind.lower()}_{version}.json"
        if not path.is_file():
            return None
        schema = json.loads(path.read_text())
        return _close_custom_resource_root(schema)

    def prepare(self) -> None:
        """Load what every kind shares (jsonschema, the Kubernetes definitions) ahead of the first object."""
        self._registry  # noqa: B018 (cached_property: the access is the loading)
        self._validator_class  # noqa: B018

    def validator(self, api_version: str, kind: str) -> Any | None:
        """The compiled validator, or None when no schema exists for this kind (an error for the caller)."""
        key = (api_version, kind)
        if not (_API_VERSION.match(api_version) and _KIND.match(kind)):
            return None
        if key not in self._validators:
            group, version = split_api_version(api_version)
            schema = self._builtin_schema(group, version, kind) if is_builtin_group(group) else None
            if schema is None and group:
                schema = self._crd_schema(group, version, kind)
            self._validators[key] = (
                None if schema is None else self._validator_class(schema, registry=self._registry)
            )
        return self._validators[key]

    def errors(self, obj: dict) -> list[str]:
        """Every schema error of the object as `path: message`."""
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            return ["(root): apiVersion and kind must be non-empty strings"]
        validator = self.validator(api_version, kind)
        if validator is None:
            where = "Kubernetes " + KUBERNETES_VERSION
            if not is_builtin_group(split_api_version(api_version)[0]):
                where = f"{self.crd_dir} (expected <group>/<kind>_<version>.json)"
            return [f"(root): no schema for {kind} {api_version} in {where}"]
        return [_describe(error) for error in validator.iter_errors(obj)]


def _close_custom_resource_root(schema: dict) -> dict:
    """Catalog CRD schemas leave the root open and metadata untyped; the API server checks both.

    Unknown top-level fields are rejected (strict field validation) and metadata is validated as ObjectMeta.
    """
    properties = {**schema.get("properties", {}), "metadata": _OBJECT_META}
    closed = {**schema, "properties": properties}
    if "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


def _describe(error: Any) -> str:
    """One line per error; for anyOf/oneOf the closest alternative says more than 'not valid under any'."""
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match(error.context)
    return _shorten(f"{format_path(error.absolute_path)}: {error.message}")
