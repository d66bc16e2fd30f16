"""history and status read what git holds: trailers, GitHub merge and squash messages, who set each image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_github import TOKEN, FakeGitHub
from release_project import OWNER, SEED, Project, digest
from votectl.release import trailers
from votectl.release.images import Change, ImageRef, images_path, write_refs


def land(
    project: Project,
    env: str,
    changes: list[Change],
    source: str | None = "dev",
    rollback_of: str | None = None,
    *,
    pr: int,
    squash: bool = False,
) -> str:
    """Land a promotion on main as GitHub would: a merge commit of its branch, or one squashed commit."""
    path = project.clone / images_path(env)
    message = trailers.compose(env, changes, source, rollback_of)
    branch = f"promote/{env}/pr-{pr}"
    project.git("switch", "--quiet", "-c", branch)
    path.write_text(write_refs(path.read_text(), env, {c.service: c.new for c in changes}))
    project.git("commit", "--quiet", "-am", message)
    commit = project.git("rev-parse", "HEAD").strip()
    project.git("switch", "--quiet", "main")
    if squash:
        subject, rest = message.split("\n", 1)
        project.git("merge", "--quiet", "--squash", branch)
        project.git("commit", "--quiet", "-m", f"{subject} (#{pr})\n{rest}")
        commit = project.git("rev-parse", "HEAD").strip()
    else:
        project.git(
            "merge", "--quiet", "--no-ff", branch, "-m", f"Merge pull request #{pr} from {OWNER}/{branch}"
        )
    project.git("branch", "--quiet", "-D", branch)
    project.git("push", "--quiet", "origin", "main")
    return commit


def staging_history(project: Project) -> list[str]:
    vote = Change("vote", SEED["staging"]["vote"], ImageRef(digest=digest("1")))
    result = Change("result", SEED["staging"]["result"], ImageRef(digest=digest("5")))
    first = land(project, "staging", [vote, result], pr=3)
    project.commit_file("README.md", "unrelated\n", "Docs only")
    undo = Change("vote", ImageRef(digest=digest("1")), SEED["staging"]["vote"])
    second = land(project, "staging", [undo], None, first, pr=4, squash=True)
    return [first, second]


@pytest.fixture(scope="module")
def landed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A remote with two staging changes landed on main, built once for the module."""
    project = Project.create(tmp_path_factory.mktemp("landed"), template)
    return project.bare, staging_history(project)


@pytest.fixture
def staged(tmp_path: Path, landed: tuple[Path, list[str]]) -> tuple[Project, list[str]]:
    bare, commits = landed
    return Project.create(tmp_path, bare), commits


def test_history_newest_first_with_pull_request_numbers(staged: tuple[Project, list[str]]) -> None:
    project, (first, second) = staged
    result = project.votectl("history", "staging", "--format", "json")
    assert result.code == 0, result.err
    rows = [
        {k: e[k] for k in ("kind", "service", "old", "new", "commit", "pr", "source", "rollback_of")}
        for e in json.loads(result.out)
    ]
    assert rows == [
        {
            "kind": "rollback",
            "service": "vote",
            "old": digest("1"),
            "new": digest("0"),
            "commit": second,
            "pr": 4,
            "source": None,
            "rollback_of": first,
        },
        {
            "kind": "promote",
            "service": "vote",
            "old": digest("0"),
            "new": digest("1"),
            "commit": first,
            "pr": 3,
            "source": "dev",
            "rollback_of": None,
        },
        {
            "kind": "promote",
            "service": "result",
            "old": digest("4"),
            "new": digest("5"),
            "commit": first,
            "pr": 3,
            "source": "dev",
            "rollback_of": None,
        },
    ]
    assert project.votectl("history", "prod", "--format", "json").out.strip() == "[]"
    assert (
        project.votectl("history", "prod").out == "no promotion or rollback of any service recorded in prod\n"
    )


def test_history_of_one_service_as_a_table(staged: tuple[Project, list[str]]) -> None:
    project, (first, _) = staged
    result = project.votectl("history", "staging", "result")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if "result" in line and "promote" in line]
    assert len(lines) == 1
    assert f"{'4' * 12} -> {'5' * 12}" in lines[0] and first[:12] in lines[0] and "#3" in lines[0]
    assert "vote" not in result.out.replace("history of staging", "")


def test_status_shows_where_each_image_came_from_and_what_waits(
    staged: tuple[Project, list[str]], github: FakeGitHub
) -> None:
    project, (first, _) = staged
    initial = project.git("rev-list", "--max-parents=0", "HEAD").strip()
    github.pulls.append(
        {
            "number": 9,
            "state": "open",
            "title": "Promote vote to prod",
            "html_url": "u",
            "head": {"ref": f"promote/prod/vote-{'1' * 12}", "label": f"{OWNER}:x"},
        }
    )
    github.pulls.append(
        {
            "number": 10,
            "state": "open",
            "title": "Unrelated",
            "html_url": "u",
            "head": {"ref": "fix/docs", "label": f"{OWNER}:y"},
        }
    )
    result = project.votectl("status", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    staging = report["services"]["result"]["staging"]
    assert (staging["digest"], staging["commit"], staging["differs_from_source"]) == (
        digest("5"),
        first,
        False,
    )
    vote = report["services"]["vote"]
    assert (vote["staging"]["digest"], vote["staging"]["differs_from_source"]) == (digest("0"), True)
    assert vote["staging"]["commit"] == project.git("rev-parse", "HEAD").strip()  # the rollback set it
    assert (vote["prod"]["commit"], vote["prod"]["open_pull_requests"]) == (initial, [9])
    assert (vote["dev"]["tag"], report["services"]["worker"]["dev"]["tag"]) == (None, "1.0.0")
    assert [p["number"] for p in report["pull_requests"]] == [9]
    assert github.requests[0].query == {"state": "open", "per_page": "100"}
    assert github.requests[0].authorization == f"Bearer {TOKEN}"


def test_status_table_without_token(project: Project, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    result = project.votectl("status")
    assert result.code == 0, result.err
    assert f"@{'1' * 12}" in result.out and "1.0.0" in result.out and "differs from source" in result.out
    assert "open pull requests: not shown (set GITHUB_TOKEN or GH_TOKEN)" in result.out


@pytest.mark.parametrize(
    ("argv", "restored"),
    [
        (["staging"], ("vote", "0", "1")),  # the services of the newest change: undo the rollback
        (["staging", "vote"], ("vote", "0", "1")),
        (["staging", "vote", "--to", digest("1")], ("vote", "0", "1")),
        (["staging", "result"], ("result", "5", "4")),
        (["staging", "result", "--steps", "1"], ("result", "5", "4")),
    ],
)
def test_rollback_picks_the_reference_from_history(
    staged: tuple[Project, list[str]], github: FakeGitHub, argv: list[str], restored: tuple[str, str, str]
) -> None:
    project, _ = staged
    result = project.votectl("rollback", *argv, "--dry-run")
    assert result.code == 0, result.err
    service, old, new = restored
    changed = [
        line for line in result.out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [f"-    digest: {digest(old)}", f"+    digest: {digest(new)}"]
    assert result.out.splitlines()[-1].startswith(
        f"dry run: would push rollback/staging/{service}-{new * 12} "
    )
    assert github.requests == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["staging", "vote", "--steps", "2"], "nothing to roll back: staging already runs those references"),
        (
            ["staging", "result", "--steps", "2"],
            "votectl: error: result has only 1 recorded change(s) in staging, not 2",
        ),
        (
            ["staging", "vote", "--to", digest("e")],
            f"votectl: error: {digest('e')} never ran for vote in staging according to its history",
        ),
        (["staging", "vote", "--steps", "0"], "votectl: error: --steps must be 1 or more"),
    ],
)
def test_rollback_refusals(staged: tuple[Project, list[str]], argv: list[str], message: str) -> None:
    project, _ = staged
    result = project.votectl("rollback", *argv, "--dry-run")
    assert (result.out + result.err).strip() == message


def test_unpushed_commits_are_refused(project: Project, github: FakeGitHub) -> None:
    project.git("commit", "--quiet", "--allow-empty", "-m", "Local only")
    result = project.votectl("promote", "vote", "--to", "staging", "--dry-run")
    assert (result.code, result.err) == (
        2,
        "votectl: error: HEAD has commits that are not on origin/main: push them first, "
        "so the pull request holds only the image change\n",
    )


def test_gh_token_is_the_fallback(
    project: Project, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    result = project.votectl("status", "--format", "json")
    assert json.loads(result.out)["pull_requests"] == []
    assert [r.authorization for r in github.requests] == [f"Bearer {TOKEN}"]
