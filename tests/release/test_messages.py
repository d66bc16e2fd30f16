"""Commit trailers round-trip, and remote URLs name the GitHub repository in both https and ssh forms."""

from __future__ import annotations

import pytest
from votectl.errors import VotectlError
from votectl.release import trailers
from votectl.release.github import RepoId, parse_remote
from votectl.release.images import Change, ImageRef

A, B, C = ("sha256:" + c * 64 for c in "abc")


def test_promotion_message_has_one_trailer_group_per_service() -> None:
    changes = [
        Change("vote", ImageRef(digest=A), ImageRef(digest=B)),
        Change("result", ImageRef(tag="1.0"), ImageRef(digest=C)),
    ]
    message = trailers.compose("staging", changes, "dev", None)
    assert message.splitlines()[0] == f"Promote vote @{B[7:19]}, result @{C[7:19]} to staging"
    assert message.splitlines()[-8:] == [
        "Promoted-From: dev",
        "Env: staging",
        "Service: vote",
        f"Image-Digest: {B}",
        f"Previous-Digest: {A}",
        "Service: result",
        f"Image-Digest: {C}",
        "Previous-Digest: none (tag 1.0)",
    ]
    assert trailers.parse(message) == [
        trailers.Record("staging", "vote", B, A, "dev", None),
        trailers.Record("staging", "result", C, "none (tag 1.0)", "dev", None),
    ]


def test_rollback_trailers_survive_a_squash_merge_message() -> None:
    original = trailers.compose(
        "prod", [Change("vote", ImageRef(digest=B), ImageRef(digest=A))], None, "f" * 40
    )
    subject, *rest = original.splitlines()
    squashed = f"{subject} (#7)\n\n" + "\n".join(f"* {line}" if line else line for line in rest)
    assert trailers.parse(squashed) == [trailers.Record("prod", "vote", A, B, None, "f" * 40)]


def test_an_ordinary_commit_has_no_records() -> None:
    assert trailers.parse("Fix typo\n\nService: not a trailer without Env\n") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/voting.git",
        "https://github.com/acme/voting",
        "https://token@github.com/acme/voting.git",
        "git@github.com:acme/voting.git",
        "ssh://git@github.com/acme/voting.git",
        "ssh://git@github.com:22/acme/voting",
    ],
)
def test_remote_url_forms(url: str) -> None:
    assert parse_remote(url) == RepoId("github.com", "acme", "voting")


def test_compare_url() -> None:
    repo = parse_remote("git@github.com:acme/voting.git")
    assert repo.compare_url("main", "promote/dev/vote-abc") == (
        "https://github.com/acme/voting/compare/main...promote/dev/vote-abc?expand=1"
    )


@pytest.mark.parametrize("url", ["/srv/git/voting.git", "file:///srv/voting.git", "https://github.com/acme"])
def test_unparseable_remote_is_refused(url: str) -> None:
    with pytest.raises(VotectlError, match="cannot tell the GitHub owner/repo"):
        parse_remote(url)
