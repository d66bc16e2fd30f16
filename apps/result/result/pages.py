"""result's HTML page of each poll: `/polls/<id>`, and the default poll's at `/`."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template
from votingcommon.polls import Poll, format_time
from votingcommon.web import json_errors, poll_or_404

from result.views import ResultDeps, current_deps, snapshot

bp = Blueprint("pages", __name__)
bp.add_app_template_filter(format_time, "when")
# No error page yet: a failed page answers the same JSON as the API, as it always has.
json_errors(bp)


@bp.get("/")
def index() -> str:
    deps = current_deps()
    return _page(deps, deps.polls.default)


@bp.get("/polls/<poll_id>")
def poll_page(poll_id: str) -> str:
    deps = current_deps()
    return _page(deps, poll_or_404(deps.polls, poll_id))


def _page(deps: ResultDeps, poll: Poll) -> str:
    now = datetime.now(UTC)
    return render_template("index.html", poll=poll, polls=deps.polls, now=now, snapshot=snapshot(deps, poll))
