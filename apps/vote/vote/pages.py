"""vote's HTML pages: each poll's form at `/polls/<id>`, the default poll's at `/`.

Whatever goes wrong, a voter gets the page back with a readable message, never JSON.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import psycopg2
from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from votingcommon.polls import Poll, format_time
from votingcommon.store import read_choice
from votingcommon.web import error_message, json_http_error, note_unexpected, poll_or_404
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from vote.views import VoteDeps, admit, cast, current_deps, voter, write_voter_cookie

log = logging.getLogger(__name__)
FORM_MESSAGES = {
    400: "Your vote could not be read: {detail}. Please choose one of the options.",
    404: "Sorry, {detail}.",
    409: "{detail}",  # the poll's window message, already a sentence for voters
    413: "That request was too large: {detail}.",
    429: "Too many votes from your address; please wait a moment.",
    503: "Votes cannot be recorded right now; please try again in a few seconds.",
}

bp = Blueprint("pages", __name__)
bp.after_request(write_voter_cookie)
bp.add_app_template_filter(format_time, "when")


@bp.get("/")
def index() -> tuple[str, int]:
    deps = current_deps()
    return _show(deps, deps.polls.default)


@bp.post("/")
def default_vote_form() -> tuple[str, int]:
    deps = current_deps()
    return _vote_form(deps, deps.polls.default)


@bp.get("/polls/<poll_id>")
def poll_page(poll_id: str) -> tuple[str, int]:
    deps = current_deps()
    return _show(deps, poll_or_404(deps.polls, poll_id))


@bp.post("/polls/<poll_id>")
def poll_vote_form(poll_id: str) -> tuple[str, int]:
    deps = current_deps()
    return _vote_form(deps, poll_or_404(deps.polls, poll_id))


@bp.errorhandler(HTTPException)
def http_error(err: HTTPException) -> ResponseReturnValue:
    """The page with the reason, and Retry-After for a voter who was rate limited."""
    deps = current_deps()
    body, status = _page(deps, _failed_poll(deps), status=err.code or 500, error=_form_message(err))
    response = current_app.make_response((body, status))
    response.headers.update({k: v for k, v in err.get_headers() if k.lower() == "retry-after"})
    return response


@bp.errorhandler(Exception)
def internal_error(err: Exception) -> ResponseReturnValue:
    note_unexpected(err)
    deps = current_deps()
    return _page(deps, _failed_poll(deps), status=500, error="Something went wrong; please try again.")


@bp.app_errorhandler(MethodNotAllowed)
def method_not_allowed(err: MethodNotAllowed) -> ResponseReturnValue:
    """A page's URL with a method it lacks (`PUT /`) matches no route, so no blueprint handler sees it:
    it still gets the page; any other URL gets the JSON answer of the app-wide handler."""
    return http_error(err) if _is_page_url() else json_http_error(err)


def _is_page_url() -> bool:
    """Whether the request's URL is one of this blueprint's (every page answers GET)."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:  # only outside a request
        return False
    try:
        rule, _ = adapter.match(method="GET", return_rule=True)
    except HTTPException:  # no GET there: an API URL, or no route at all
        return False
    return rule.endpoint.startswith(f"{bp.name}.")


def _show(deps: VoteDeps, poll: Poll) -> tuple[str, int]:
    current, new = voter(deps)
    return _page(deps, poll, choice=None if new else _current_choice(deps, poll, current))


def _vote_form(deps: VoteDeps, poll: Poll) -> tuple[str, int]:
    # Only the forms check a CSRF token (see vote.api for why the API does not).
    deps.csrf.protect()
    admit(deps)
    option = request.form.get("option")
    cast(deps, poll, option)
    return _page(deps, poll, choice=option, message=f"Your vote for {option} was received.")


def _page(deps: VoteDeps, poll: Poll | None, status: int = 200, **context: Any) -> tuple[str, int]:
    now = datetime.now(UTC)
    closed = poll.window_message(now) if poll else None
    return render_template(
        "index.html", poll=poll, polls=deps.polls, now=now, closed=closed, **context
    ), status


def _failed_poll(deps: VoteDeps) -> Poll | None:
    """The poll whose page the failed request came from (None for an unknown poll id)."""
    poll_id = (request.view_args or {}).get("poll_id")
    return deps.polls.default if poll_id is None else deps.polls.get(poll_id)


def _current_choice(deps: VoteDeps, poll: Poll, voter_id: str) -> str | None:
    """Best effort: the page still lets people vote while PostgreSQL is away."""
    try:
        return read_choice(deps.pool, poll.id, voter_id)
    except psycopg2.Error as err:
        log.warning("could not read the current choice: %s", str(err).strip())
        return None


def _form_message(err: HTTPException) -> str:
    template = FORM_MESSAGES.get(err.code or 500, "Your vote was not recorded: {detail}.")
    return template.format(detail=error_message(err))
