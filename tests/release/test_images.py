"""The images file edit: comments, quoting and indentation survive; only image lines change."""

from __future__ import annotations

import difflib

import pytest
from votectl.errors import VotectlError
from votectl.release.images import ImageRef, read_refs, write_refs

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
TEXT = """\
# staging images: edited by votectl promote only
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
images:
    # vote runs the canary
    -   name: ghcr.io/votingplatform/vote
        newTag: "1.4.0"  # human-readable
        digest: sha256:1111111111111111111111111111111111111111111111111111111111111111
    -   name: ghcr.io/votingplatform/worker
        digest: sha256:2222222222222222222222222222222222222222222222222222222222222222 # pinned
    -   name: docker.io/library/redis
        newTag: '7.2'
"""


def changed_lines(old: str, new: str) -> list[str]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_reads_only_the_platform_images() -> None:
    refs = read_refs(TEXT, "staging")
    assert refs == {
        "vote": ImageRef(tag="1.4.0", digest="sha256:" + "1" * 64),
        "worker": ImageRef(digest="sha256:" + "2" * 64),
    }


def test_edit_changes_exactly_the_image_lines() -> None:
    new = write_refs(TEXT, "staging", {"worker": ImageRef(digest=A)})
    assert changed_lines(TEXT, new) == [
        "-        digest: sha256:" + "2" * 64 + " # pinned",
        f"+        digest: {A} # pinned",
    ]


def test_edit_replaces_tag_and_digest_with_the_exact_reference() -> None:
    new = write_refs(TEXT, "staging", {"vote": ImageRef(digest=B)})
    assert changed_lines(TEXT, new) == [
        '-        newTag: "1.4.0"  # human-readable',
        "-        digest: sha256:" + "1" * 64,
        f"+        digest: {B}",
    ]
    assert read_refs(new, "staging")["vote"] == ImageRef(digest=B)


def test_unchanged_reference_leaves_the_file_byte_for_byte() -> None:
    assert write_refs(TEXT, "staging", {"vote": read_refs(TEXT, "staging")["vote"]}) == TEXT


@pytest.mark.parametrize(
    ("text", "message"),
    [("images: [unclosed", "not valid YAML"), ("kind: Component\n", "has no images: list")],
)
def test_broken_file_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(VotectlError, match=message):
        read_refs(text, "prod")
