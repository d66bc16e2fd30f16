"""The few GitHub REST calls a promotion needs: find, open and update pull requests."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import requests

from votectl.errors import VotectlError

DEFAULT_API_URL = "https://api.github.com"
_REMOTE_RE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host1>[^/:]+)(?::\d+)?/"
    r"|(?:[^@/]+@)?(?P<host2>[^/:]+):)"
    r"(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class RepoId:
    host: str
    owner: str
    name: str

    def compare_url(self, base: str, branch: str) -> str:
        return f"https://{self.host}/{self.owner}/{self.name}/compare/{base}...{branch}?expand=1"


def parse_remote(url: str) -> RepoId:
    """owner/repo from https (`https://github.com/o/r.git`) and ssh (`git@github.com:o/r.git`) remotes."""
    match = _REMOTE_RE.match(url.strip())
    if not match:
        raise VotectlError(f"cannot tell the GitHub owner/repo from the remote URL {url!r}")
    host = match.group("host1") or match.group("host2")
    return RepoId(host=host, owner=match.group("owner"), name=match.group("repo"))


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    head: str
    title: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            url=str(data.get("html_url", "")),
            head=str(data.get("head", {}).get("ref", "")),
            title=str(data.get("title", "")),
        )


class GitHub:
    """Pull requests of one repository; every failure is one line naming the call and GitHub's reason."""

    def __init__(self, repo: RepoId, token: str, api_url: str | None = None, timeout: float = 15.0) -> None:
        self.repo = repo
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "votectl",
            }
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        path = f"/repos/{self.repo.owner}/{self.repo.name}{path}"
        url = self.api_url + path
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            raise VotectlError(
                f"cannot reach the GitHub API at {self.api_url}: {type(err).__name__}"
            ) from err
        if resp.status_code >= 400:
            raise VotectlError(f"GitHub API {method} {path}: {_reason(resp)}")
        return resp.json()

    def open_pulls(self, head_branch: str | None = None) -> list[PullRequest]:
        """Open PRs, optionally only the one whose head is `head_branch` of this repository."""
        params = {"state": "open", "per_page": "100"}
        if head_branch:
            params["head"] = f"{self.repo.owner}:{head_branch}"
        return [PullRequest.from_api(item) for item in self._call("GET", "/pulls", params=params)]

    def create_pull(self, head: str, base: str, title: str, body: str) -> PullRequest:
        data = {"title": title, "head": head, "base": base, "body": body}
        return PullRequest.from_api(self._call("POST", "/pulls", json=data))

    def update_pull(self, number: int, title: str, body: str) -> PullRequest:
        return PullRequest.from_api(
            self._call("PATCH", f"/pulls/{number}", json={"title": title, "body": body})
        )


def _reason(resp: requests.Response) -> str:
    """Status and GitHub's message, plus the first validation error detail (422s carry the useful part)."""
    try:
        data = resp.json()
    except ValueError:
        return f"{resp.status_code} {resp.reason}"
    message = str(data.get("message", resp.reason)) if isinstance(data, dict) else resp.reason
    errors = data.get("errors") if isinstance(data, dict) else None
    if errors and isinstance(errors[0], dict):
        detail = errors[0].get("message") or errors[0].get("code")
        if detail:
            message = f"{message}: {detail}"
    return f"{resp.status_code} {message}"
