"""vote's JSON API: `POST /api/vote` (the default poll, or the body's) and `POST /api/polls/<id>/vote`.

No CSRF token: a JSON content type cannot be sent cross-site without a CORS preflight, which is never
granted, so the API skips the check and its per-request cost.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from votingcommon.web import json_errors, poll_or_404
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from vote.views import admit, cast, current_deps, write_voter_cookie

API_FIELDS = frozenset({"option", "poll"})

bp = Blueprint("api", __name__, url_prefix="/api")
bp.after_request(write_voter_cookie)
json_errors(bp)


@bp.post("/vote")
def vote() -> tuple[dict[str, Any], int]:
    deps = current_deps()
    admit(deps)
    body = _json_object()
    poll = deps.polls.get(body.get("poll", deps.polls.default.id))
    if poll is None:
        raise BadRequest("unknown poll")
    return {"accepted": True, "id": cast(deps, poll, body.get("option"))}, 202


@bp.post("/polls/<poll_id>/vote")
def poll_vote(poll_id: str) -> tuple[dict[str, Any], int]:
    deps = current_deps()
    admit(deps)
    poll = poll_or_404(deps.polls, poll_id)
    body = _json_object()
    if body.get("poll", poll.id) != poll.id:
        raise BadRequest("the poll in the body differs from the poll in the path")
    return {"accepted": True, "id": cast(deps, poll, body.get("option"))}, 202


def _json_object() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("expected Content-Type application/json")
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("malformed JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    if unexpected := sorted(set(body) - API_FIELDS):
        raise BadRequest(f"unexpected field(s): {', '.join(unexpected)}")
    if not isinstance(body.get("poll", ""), str):
        raise BadRequest("poll must be a string")
    return body
