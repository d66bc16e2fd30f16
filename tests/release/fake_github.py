"""A local HTTP server answering the pull request calls of GitHub's REST API, recording every request.

GitHub cannot be reached from the test machines; this is the one stand-in the project allows. It keeps
pull requests in memory, filters the list by `state` and `head` as GitHub does, checks the bearer
token, and can be told to fail a call with GitHub's own error shapes (401, 422).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghp_test_token"
BAD_CREDENTIALS = (401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
ALREADY_EXISTS = (
    422,
    {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists"}],
    },
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any


@dataclass
class FakeGitHub:
    owner: str
    repo: str
    requests: list[Request] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    url: str = ""

    def fail(self, method: str, path: str, response: tuple[int, dict]) -> None:
        """Answer `method path` (path without the query) with this status and body from now on."""
        self.failures[(method, path)] = response

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def handle(self, method: str, raw_path: str, authorization: str | None, body: Any) -> tuple[int, Any]:
        split = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        self.requests.append(Request(method, split.path, query, authorization, body))
        if (method, split.path) in self.failures:
            return self.failures[(method, split.path)]
        if authorization != f"Bearer {TOKEN}":
            return BAD_CREDENTIALS
        prefix = f"/repos/{self.owner}/{self.repo}/pulls"
        if split.path == prefix and method == "GET":
            return 200, [p for p in self.pulls if _matches(p, query)]
        if split.path == prefix and method == "POST":
            return self._create(body)
        match = re.fullmatch(re.escape(prefix) + r"/(\d+)", split.path)
        if match and method == "PATCH":
            return self._update(int(match.group(1)), body)
        return 404, {"message": "Not Found"}

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        missing = [key for key in ("title", "head", "base") if not body.get(key)]
        if missing:
            return 422, {
                "message": "Validation Failed",
                "errors": [{"code": "missing_field", "field": missing[0]}],
            }
        number = len(self.pulls) + 1
        pull = {
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body.get("body", ""),
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{number}",
            "head": {"ref": body["head"], "label": f"{self.owner}:{body['head']}"},
            "base": {"ref": body["base"]},
        }
        self.pulls.append(pull)
        return 201, pull

    def _update(self, number: int, body: dict[str, Any]) -> tuple[int, Any]:
        for pull in self.pulls:
            if pull["number"] == number:
                pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
                return 200, pull
        return 404, {"message": "Not Found"}


def _matches(pull: dict[str, Any], query: dict[str, str]) -> bool:
    state = query.get("state", "open")
    if state != "all" and pull["state"] != state:
        return False
    head = query.get("head")
    return head is None or head == pull["head"]["label"]


def serve(fake: FakeGitHub) -> ThreadingHTTPServer:
    """Start the server on a free port in a daemon thread; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, payload = fake.handle(self.command, self.path, self.headers.get("Authorization"), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
