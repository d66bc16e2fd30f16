"""result's JSON and CSV answers, and the downloadable exports of each poll."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response
from votingcommon.web import json_errors, poll_or_404

from result.snapshot import as_csv, export_csv, export_filename, export_json
from result.views import current_deps, snapshot

bp = Blueprint("api", __name__, url_prefix="/api")
json_errors(bp)


@bp.get("/results")
def results() -> dict[str, Any]:
    deps = current_deps()
    return snapshot(deps, deps.polls.default)


@bp.get("/results.csv")
def results_csv() -> Response:
    deps = current_deps()
    return Response(as_csv(snapshot(deps, deps.polls.default)), content_type="text/csv; charset=utf-8")


@bp.get("/polls/<poll_id>/results")
def poll_results(poll_id: str) -> dict[str, Any]:
    deps = current_deps()
    return snapshot(deps, poll_or_404(deps.polls, poll_id))


@bp.get("/polls/<poll_id>/results.csv")
def poll_results_csv(poll_id: str) -> Response:
    deps = current_deps()
    poll = poll_or_404(deps.polls, poll_id)
    current = snapshot(deps, poll)
    return _download(
        export_csv(poll, current), "text/csv; charset=utf-8", export_filename(poll, current, "csv")
    )


@bp.get("/polls/<poll_id>/results.json")
def poll_results_json(poll_id: str) -> Response:
    deps = current_deps()
    poll = poll_or_404(deps.polls, poll_id)
    current = snapshot(deps, poll)
    body = json.dumps(export_json(poll, current), indent=2) + "\n"
    return _download(body, "application/json", export_filename(poll, current, "json"))


def _download(body: str, content_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, content_type=content_type, headers=headers)
