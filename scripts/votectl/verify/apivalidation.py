"""The API server's own value checks that its OpenAPI schemas do not carry, run offline.

The OpenAPI schemas say `containerPort` is an integer; the API server also refuses 70000. These are the
built-in validation rules (k8s.io/kubernetes/pkg/apis/*/validation) that `verify --server` showed the
schema check alone letting through, each on objects and on every pod template (a Rollout's too: its pods
are validated when its ReplicaSet creates them). tests/verify/test_server_agreement.py holds this module
to the real server's verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from votectl.verify.objects import Index, dig, items, mapping, selector_matches

Problem = tuple[dict, str, str]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
# Kinds whose names must be DNS labels (no dots); the rest take DNS subdomains.
_LABEL_NAMED = {"Service", "Namespace"}
_ENUMS = {
    "imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "protocol": ("TCP", "UDP", "SCTP"),
}
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_REPLICATED = ("Deployment", "StatefulSet", "ReplicaSet", "Rollout")
_SELECTED = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet")


def api_checks(objects: list[dict]) -> Iterator[Problem]:
    index = Index(objects)
    for obj in objects:
        yield from _metadata(obj)
        yield from _kind_rules(obj)
    for workload, template in index.workloads():
        yield from _pod_template(workload, template)


def _metadata(obj: dict) -> Iterator[Problem]:
    name = dig(obj, "metadata", "name")
    pattern = _DNS_LABEL if obj.get("kind") in _LABEL_NAMED else _DNS_SUBDOMAIN
    limit = 63 if obj.get("kind") in _LABEL_NAMED else 253
    if isinstance(name, str) and not (pattern.match(name) and len(name) <= limit):
        yield obj, "api/name", f"metadata.name {name!r} is not a lowercase RFC 1123 name (max {limit})"
    yield from _labels(obj, "metadata.labels", dig(obj, "metadata", "labels"))


def _labels(obj: dict, where: str, labels: object) -> Iterator[Problem]:
    for key, value in mapping(labels).items():
        prefix, _, name = str(key).rpartition("/")
        if not (_LABEL_NAME.match(name) and len(name) <= 63) or (
            prefix and not (_DNS_SUBDOMAIN.match(prefix) and len(prefix) <= 253)
        ):
            yield obj, "api/label", f"{where}: {key!r} is not a valid label key"
        if not isinstance(value, str) or not (_LABEL_VALUE.match(value) and len(value) <= 63):
            yield obj, "api/label", f"{where}.{key}: {value!r} is not a valid label value"


def _kind_rules(obj: dict) -> Iterator[Problem]:
    """The rules of the object's kind, in _KIND_RULES order (one kind may have several)."""
    kind, spec = obj.get("kind"), mapping(obj.get("spec"))
    for kinds, rule in _KIND_RULES:
        if kind in kinds:
            yield from rule(obj, spec)


def _replicas(obj: dict, spec: dict) -> Iterator[Problem]:
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        yield obj, "api/replicas", f"spec.replicas is {replicas}; it must be 0 or more"


def _selector(obj: dict, spec: dict) -> Iterator[Problem]:
    """The API server refuses a controller whose selector would not select its own pods."""
    selector = mapping(spec.get("selector"))
    labels = mapping(dig(spec, "template", "metadata", "labels"))
    if selector and not selector_matches(selector, labels):
        yield obj, "api/selector", "spec.selector does not match spec.template.metadata.labels"


def _service(obj: dict, spec: dict) -> Iterator[Problem]:
    service_type = spec.get("type", "ClusterIP")
    if service_type not in _SERVICE_TYPES:
        yield obj, "api/enum", f"spec.type {service_type!r} is not one of {', '.join(_SERVICE_TYPES)}"
    for index, port in enumerate(items(spec.get("ports"))):
        yield from _service_port(obj, f"spec.ports[{index}]", port)


def _service_port(obj: dict, where: str, port: dict) -> Iterator[Problem]:
    """A Service port needs a number; its targetPort may be a number or a container port's name."""
    if "port" not in port:
        yield obj, "api/required", f"{where}.port is required"
    yield from _port_number(obj, f"{where}.port", port.get("port"), minimum=1)
    target = port.get("targetPort")
    if isinstance(target, int):
        yield from _port_number(obj, f"{where}.targetPort", target, minimum=1)
    elif isinstance(target, str) and not _PORT_NAME.match(target):
        yield obj, "api/port", f"{where}.targetPort {target!r} is neither a number nor a port name"


def _disruption_budget(obj: dict, spec: dict) -> Iterator[Problem]:
    if "minAvailable" in spec and "maxUnavailable" in spec:
        yield obj, "api/pdb", "spec sets both minAvailable and maxUnavailable; set one"


def _volume_claims(obj: dict, spec: dict) -> Iterator[Problem]:
    for claim in items(spec.get("volumeClaimTemplates")):
        request = dig(claim, "spec", "resources", "requests", "storage")
        yield from _quantity(obj, "spec.volumeClaimTemplates[].spec.resources.requests.storage", request)


# (kinds, rule): every rule whose kinds hold the object's kind runs, in this order.
_KIND_RULES: tuple[tuple[tuple[str, ...], Callable[[dict, dict], Iterator[Problem]]], ...] = (
    (_REPLICATED, _replicas),
    (_SELECTED, _selector),
    (("Service",), _service),
    (("PodDisruptionBudget",), _disruption_budget),
    (("StatefulSet",), _volume_claims),
)


def _port_number(obj: dict, where: str, value: object, minimum: int) -> Iterator[Problem]:
    if isinstance(value, int) and not minimum <= value <= 65535:
        yield obj, "api/port", f"{where} is {value}; it must be between {minimum} and 65535"


def _quantity(obj: dict, where: str, value: object) -> Iterator[Problem]:
    if isinstance(value, str) and not _QUANTITY.match(value):
        yield obj, "api/quantity", f"{where} {value!r} is not a quantity (e.g. 128Mi, 0.5, 100m)"


def _pod_template(workload: dict, template: dict) -> Iterator[Problem]:
    spec = mapping(template.get("spec"))
    base = (
        "spec.template.spec" if workload.get("kind") != "CronJob" else "spec.jobTemplate.spec.template.spec"
    )
    yield from _labels(
        workload, f"{base.removesuffix('.spec')}.metadata.labels", dig(template, "metadata", "labels")
    )
    restart = spec.get("restartPolicy")
    if restart is not None and restart not in _RESTART_POLICIES:
        yield (
            workload,
            "api/enum",
            f"{base}.restartPolicy {restart!r} is not one of {', '.join(_RESTART_POLICIES)}",
        )
    volumes = {str(volume.get("name")) for volume in items(spec.get("volumes"))}
    if workload.get("kind") == "StatefulSet":
        volumes |= {
            str(dig(claim, "metadata", "name"))
            for claim in items(dig(workload, "spec", "volumeClaimTemplates"))
        }
    names: set[str] = set()
    for field in ("initContainers", "containers"):
        for index, container in enumerate(items(spec.get(field))):
            where = f"{base}.{field}[{index}]"
            yield from _container(workload, where, container, volumes, names)


def _container(
    workload: dict, where: str, container: dict, volumes: set[str], names: set[str]
) -> Iterator[Problem]:
    """One container of a pod template; `names` gathers the pod's container names to catch repeats."""
    yield from _container_name(workload, where, container.get("name"), names)
    if not container.get("image"):
        yield workload, "api/required", f"{where}.image is required"
    for field, allowed in _ENUMS.items():
        value = container.get(field)
        if value is not None and value not in allowed:
            yield workload, "api/enum", f"{where}.{field} {value!r} is not one of {', '.join(allowed)}"
    for index, port in enumerate(items(container.get("ports"))):
        yield from _container_port(workload, f"{where}.ports[{index}]", port)
    for kind in ("limits", "requests"):
        for resource, value in mapping(dig(container, "resources", kind)).items():
            yield from _quantity(workload, f"{where}.resources.{kind}.{resource}", value)
    yield from _volume_mounts(workload, where, container, volumes)
    yield from _probes(workload, where, container)
    if dig(container, "securityContext", "procMount") == "Unmasked":
        yield (
            workload,
            "api/security",
            f"{where}.securityContext.procMount Unmasked needs hostUsers: false (Pod Security forbids it)",
        )


def _container_name(workload: dict, where: str, name: object, names: set[str]) -> Iterator[Problem]:
    if isinstance(name, str):
        if not (_DNS_LABEL.match(name) and len(name) <= 63):
            yield workload, "api/name", f"{where}.name {name!r} is not a lowercase RFC 1123 label"
        if name in names:
            yield workload, "api/name", f"{where}.name {name!r} is used by another container of the pod"
        names.add(name)


def _container_port(workload: dict, where: str, port: dict) -> Iterator[Problem]:
    """A containerPort starts at 1; a hostPort of 0 means none."""
    yield from _port_number(workload, f"{where}.containerPort", port.get("containerPort"), 1)
    yield from _port_number(workload, f"{where}.hostPort", port.get("hostPort"), 0)
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _ENUMS["protocol"]:
        yield workload, "api/enum", f"{where}.protocol {protocol!r} is not TCP, UDP or SCTP"


def _volume_mounts(workload: dict, where: str, container: dict, volumes: set[str]) -> Iterator[Problem]:
    for index, mount in enumerate(items(container.get("volumeMounts"))):
        if str(mount.get("name")) not in volumes:
            yield (
                workload,
                "api/volume",
                f"{where}.volumeMounts[{index}] names volume {mount.get('name')!r}, not in the pod",
            )


def _probes(workload: dict, where: str, container: dict) -> Iterator[Problem]:
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        handler = container.get(probe)
        if isinstance(handler, dict) and sum(key in handler for key in _PROBE_HANDLERS) != 1:
            yield workload, "api/probe", f"{where}.{probe} needs exactly one of {', '.join(_PROBE_HANDLERS)}"
