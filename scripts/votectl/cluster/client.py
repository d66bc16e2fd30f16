"""A small Kubernetes API client over requests: kubeconfig credentials, discovery, server-side apply.

kubectl would do, but one HTTP session lets the gate send every object of every env concurrently and read
each answer as data (the Status body and its causes, the Warning headers) instead of parsing kubectl's
text. Supports what local and CI clusters use: client certificates, bearer tokens, CA files or data.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from votectl.errors import VotectlError

FIELD_MANAGER = "votectl"
_WARNING = re.compile(r'^\d{3} \S+ "(?P<text>(?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


@dataclass
class Answer:
    """One API response: the status code, the decoded body, and the Warning headers' texts."""

    status: int
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("reason") or f"HTTP {self.status}")


def _materialise(data: str | None, path: str | None, base: Path, scratch: Path, name: str) -> str | None:
    """A kubeconfig's `*-data` (base64) or file path as a file path requests can use."""
    if data:
        target = scratch / name
        target.touch(mode=0o600)
        target.write_bytes(base64.b64decode(data))
        return str(target)
    if path:
        return str((base / path).resolve())
    return None


class KubeClient:
    def __init__(self, kubeconfig: Path) -> None:
        import yaml

        try:
            config = yaml.safe_load(kubeconfig.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise VotectlError(
                f"kubeconfig {kubeconfig}: cannot read: {' '.join(str(err).split())}"
            ) from None
        try:
            context_name = config["current-context"]
            context = _named(config, "contexts", context_name)["context"]
            cluster = _named(config, "clusters", context["cluster"])["cluster"]
            user = _named(config, "users", context["user"])["user"] if context.get("user") else {}
        except (KeyError, TypeError) as err:
            raise VotectlError(f"kubeconfig {kubeconfig}: no usable current context ({err})") from None
        if "exec" in user or "auth-provider" in user:
            raise VotectlError(
                f"kubeconfig {kubeconfig}: exec and auth-provider credentials are not supported"
            )
        self._scratch = tempfile.TemporaryDirectory(prefix="votectl-kube-")
        scratch, base = Path(self._scratch.name), kubeconfig.resolve().parent
        self.server = str(cluster["server"]).rstrip("/")
        self.session = requests.Session()
        ca = _materialise(
            cluster.get("certificate-authority-data"),
            cluster.get("certificate-authority"),
            base,
            scratch,
            "ca",
        )
        self.session.verify = False if cluster.get("insecure-skip-tls-verify") else (ca or True)
        cert = _materialise(
            user.get("client-certificate-data"), user.get("client-certificate"), base, scratch, "cert"
        )
        key = _materialise(user.get("client-key-data"), user.get("client-key"), base, scratch, "key")
        if cert and key:
            self.session.cert = (cert, key)
        if user.get("token"):
            self.session.headers["Authorization"] = f"Bearer {user['token']}"
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._resources: dict[tuple[str, str], Resource] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()
        self._scratch.cleanup()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Answer:
        headers = dict(kwargs.pop("headers", {}))
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        try:
            response = self.session.request(
                method,
                self.server + path,
                data=data,
                headers=headers,
                timeout=kwargs.pop("timeout", 30),
                # per request: REQUESTS_CA_BUNDLE in the environment would otherwise override the cluster CA
                verify=self.session.verify,
                **kwargs,
            )
        except requests.RequestException as err:
            raise VotectlError(
                f"the API server at {self.server} cannot be reached: {_first_line(err)}"
            ) from None
        try:
            decoded = response.json() if response.content else {}
        except ValueError:
            decoded = {"message": response.text[:300]}
        warnings = [
            match.group("text").replace('\\"', '"')
            for value in response.raw.headers.getlist("Warning")
            if (match := _WARNING.match(value))
        ]
        return Answer(response.status_code, decoded if isinstance(decoded, dict) else {}, warnings)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def ensure(self, path: str, obj: dict) -> Answer:
        """Create `obj` at the collection `path` unless it exists."""
        answer = self.request("POST", path, obj)
        if answer.status == 409:
            return Answer(200, obj, answer.warnings)
        return answer

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The REST resource serving a kind (rediscovered once when unknown: CRDs come and go)."""
        key = (api_version, kind)
        with self._lock:
            if key not in self._resources:
                self._discover()
            return self._resources.get(key)

    def _discover(self) -> None:
        accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        for root in ("/api", "/apis"):
            answer = self.get(root, headers={"Accept": accept})
            if not answer.ok or answer.body.get("kind") != "APIGroupDiscoveryList":
                raise VotectlError(f"{self.server}{root}: aggregated discovery failed ({answer.message})")
            for group in answer.body.get("items") or []:
                group_name = (group.get("metadata") or {}).get("name") or ""
                for version in group.get("versions") or []:
                    api_version = f"{group_name}/{version['version']}" if group_name else version["version"]
                    for item in version.get("resources") or []:
                        kind = (item.get("responseKind") or {}).get("kind")
                        if kind:
                            namespaced = item.get("scope") == "Namespaced"
                            self._resources.setdefault(
                                (api_version, kind), Resource(item["resource"], namespaced)
                            )

    def path_of(
        self, api_version: str, kind: str, namespace: str | None, name: str | None = None
    ) -> str | None:
        resource = self.resource(api_version, kind)
        if resource is None:
            return None
        prefix = "/api/" if "/" not in api_version else "/apis/"
        path = f"{prefix}{api_version}"
        if resource.namespaced:
            path += f"/namespaces/{namespace or 'default'}"
        path += f"/{resource.plural}"
        return f"{path}/{name}" if name else path

    def apply(self, obj: dict, dry_run: bool, namespace: str | None = None, strict: bool = True) -> Answer:
        """Server-side apply, as Argo CD (ServerSideApply=true) or `kubectl apply --server-side` sends it."""
        api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
        metadata = obj.get("metadata") or {}
        path = self.path_of(api_version, kind, metadata.get("namespace") or namespace, metadata.get("name"))
        if path is None:
            return Answer(404, {"message": f"the server has no resource for {kind} {api_version}"})
        params = {
            "fieldManager": FIELD_MANAGER,
            "force": "true",
            "fieldValidation": "Strict" if strict else "Warn",
        }
        if dry_run:
            params["dryRun"] = "All"
        return self.request(
            "PATCH",
            path,
            json.dumps(obj),
            headers={"Content-Type": "application/apply-patch+yaml"},
            params=params,
        )


def _named(config: dict, section: str, name: str) -> dict:
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry
    raise KeyError(f"{section} has no {name!r}")


def _first_line(err: Exception) -> str:
    return next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
