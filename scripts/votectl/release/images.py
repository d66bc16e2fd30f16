"""The one file per env that holds image references: read it, and edit it so the diff is only image lines."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from votectl.errors import VotectlError
from votectl.repo import PROMOTION_FILE, Repo

SERVICES = ("vote", "worker", "result")
IMAGE_PREFIX = "ghcr.io/votingplatform/"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def images_path(env: str) -> str:
    return f"gitops/envs/{env}/images/kustomization.yaml"


def promotion_envs() -> list[str]:
    """The envs that take promotions, in order (gitops/promotion.yaml)."""
    return Repo.current().promotion_order


def check_env(env: str) -> str:
    """An env promotions may target; an env folder not yet in the promotion order is refused by name."""
    repo = Repo.current()
    if env in repo.promotion_order:
        return env
    if env in repo.env_names:
        raise VotectlError(f"env {env!r} takes no promotions until {PROMOTION_FILE} lists it in `order`")
    raise VotectlError(f"unknown env {env!r}: expected one of {', '.join(repo.promotion_order)}")


def check_digest(digest: str) -> str:
    if not DIGEST_RE.match(digest):
        raise VotectlError(f"not an image digest: {digest!r} (expected sha256: and 64 hex digits)")
    return digest


@dataclass(frozen=True)
class ImageRef:
    """What kustomize puts after the image name: a tag, a digest, or both."""

    tag: str | None = None
    digest: str | None = None

    def short(self) -> str:
        parts = [self.tag or "", f"@{short_digest(self.digest)}" if self.digest else ""]
        return "".join(parts) or "-"

    def trailer(self) -> str:
        """The value written in Image-Digest / Previous-Digest trailers."""
        if self.digest:
            return self.digest
        return f"none (tag {self.tag})" if self.tag else "none"


@dataclass(frozen=True)
class Change:
    """One service moving from one image reference to another in one env."""

    service: str
    old: ImageRef
    new: ImageRef


def short_digest(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _yaml(text: str = "") -> YAML:
    """A round-trip YAML (comments, key order, quoting kept) that writes with the file's own indentation."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    if text:
        _, indent, sequence_offset = load_yaml_guess_indent(text)
        yaml.indent(mapping=indent or 2, sequence=indent or 2, offset=sequence_offset or 0)
        yaml.explicit_start = text.lstrip().startswith("---")
    return yaml


def _images_list(text: str, env: str) -> list:
    try:
        doc = _yaml().load(text)
    except YAMLError as err:
        problem = getattr(err, "problem", None) or " ".join(str(err).split())
        raise VotectlError(f"{images_path(env)} is not valid YAML: {problem}") from err
    images = doc.get("images") if hasattr(doc, "get") else None
    if not isinstance(images, list):
        raise VotectlError(f"{images_path(env)} has no images: list")
    return images


def read_refs(text: str, env: str) -> dict[str, ImageRef]:
    """Service name -> reference, for the platform's own images in an env's images file."""
    refs = {}
    for entry in _images_list(text, env):
        name = str(entry.get("name", ""))
        if name.startswith(IMAGE_PREFIX):
            tag, digest = entry.get("newTag"), entry.get("digest")
            refs[name.removeprefix(IMAGE_PREFIX)] = ImageRef(
                tag=str(tag) if tag is not None else None, digest=str(digest) if digest is not None else None
            )
    return refs


def write_refs(text: str, env: str, changes: dict[str, ImageRef]) -> str:
    """The file with each changed service's tag/digest replaced; everything else stays byte for byte."""
    yaml = _yaml(text)
    doc = yaml.load(text)
    by_name = {str(entry.get("name")): entry for entry in doc["images"]}
    for service, ref in changes.items():
        entry = by_name.get(IMAGE_PREFIX + service)
        if entry is None:
            raise VotectlError(f"{images_path(env)} has no entry for {IMAGE_PREFIX}{service}")
        _set_or_drop(entry, "newTag", ref.tag)
        _set_or_drop(entry, "digest", ref.digest)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _set_or_drop(entry: dict, key: str, value: str | None) -> None:
    if value is None:
        entry.pop(key, None)
    elif str(entry.get(key)) != value:  # an unchanged value keeps its original quoting
        entry[key] = value
