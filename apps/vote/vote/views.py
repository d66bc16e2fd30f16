"""The vote routes: the HTML form and the JSON API share validation, enqueueing and error accounting.

Each poll has a page `/polls/<id>` and an API `/api/polls/<id>/vote`; `/` and `/api/vote` stay as the
default poll's (the first configured one). A vote outside the poll's window is a 409 and is never enqueued.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
from flask import Flask, Response, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from votingcommon.connections import PgPool
from votingcommon.faults import FaultInjector
from votingcommon.polls import MAX_OPTION_LENGTH, Poll, PollCatalog, format_time
from votingcommon.store import read_choice
from votingcommon.votes import Vote, now_ms
from votingcommon.web import error_message, json_http_error, unexpected_error
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from vote.queue import VoteQueue
from vote.ratelimit import VoteRateLimit
from vote.sessions import is_form_page
from vote.voters import VoterCookies

log = logging.getLogger(__name__)
API_FIELDS = frozenset({"option", "poll"})
_DROP = "drop"  # on `g.voter_cookie`: the request's cookie was rejected (never a voter id: those are longer)


@dataclass(frozen=True)
class VoteDeps:
    polls: PollCatalog
    queue: VoteQueue
    cookies: VoterCookies
    faults: FaultInjector
    pool: PgPool
    rate_limit: VoteRateLimit
    csrf: CSRFProtect


def register_views(app: Flask, deps: VoteDeps) -> None:
    polls = deps.polls

    def voter() -> tuple[str, bool]:
        """The request's voter id and whether it is new. A new id is noted on `g` for the response to set
        its cookie, a rejected cookie for the response to drop it; a known voter costs no `g` access."""
        try:
            voter_id, new = deps.cookies.voter(request)
        except BadRequest:
            g.voter_cookie = _DROP
            raise
        if new:
            g.voter_cookie = voter_id
        return voter_id, new

    def admit() -> None:
        """First for every vote request, whatever follows: limits count bad requests too."""
        deps.rate_limit.check(request.remote_addr or "unknown")
        deps.faults.apply()

    def cast(poll: Poll, option: Any) -> str:
        """Every check, then the XADD: a refused vote leaves nothing on the stream."""
        if closed := poll.window_message(datetime.now(UTC)):
            raise Conflict(closed)
        checked = _checked_option(poll, option)
        vote = Vote(poll=poll.id, voter=voter()[0], option=checked, accepted_ms=now_ms())
        return deps.queue.enqueue(vote)

    def page(poll: Poll | None, status: int = 200, **context: Any) -> tuple[str, int]:
        now = datetime.now(UTC)
        closed = poll.window_message(now) if poll else None
        return render_template(
            "index.html", poll=poll, polls=polls, now=now, closed=closed, **context
        ), status

    def show(poll: Poll) -> tuple[str, int]:
        current, new = voter()
        return page(poll, choice=None if new else _current_choice(deps.pool, poll, current))

    def vote_form(poll: Poll) -> tuple[str, int]:
        # Only the forms check a CSRF token: a JSON content type cannot be sent cross-site without a CORS
        # preflight, which is never granted, so the API skips the check and its per-request cost.
        deps.csrf.protect()
        admit()
        option = request.form.get("option")
        cast(poll, option)
        return page(poll, choice=option, message=f"Your vote for {option} was received.")

    def known(poll_id: str) -> Poll:
        poll = polls.get(poll_id)
        if poll is None:
            raise NotFound(f"there is no poll {poll_id!r}")
        return poll

    @app.get("/")
    def index() -> tuple[str, int]:
        return show(polls.default)

    @app.post("/")
    def default_vote_form() -> tuple[str, int]:
        return vote_form(polls.default)

    @app.get("/polls/<poll_id>")
    def poll_page(poll_id: str) -> tuple[str, int]:
        return show(known(poll_id))

    @app.post("/polls/<poll_id>")
    def poll_vote_form(poll_id: str) -> tuple[str, int]:
        return vote_form(known(poll_id))

    @app.post("/api/vote")
    def api_vote() -> tuple[dict[str, Any], int]:
        admit()
        body = _json_object()
        poll = polls.get(body.get("poll", polls.default.id))
        if poll is None:
            raise BadRequest("unknown poll")
        return {"accepted": True, "id": cast(poll, body.get("option"))}, 202

    @app.post("/api/polls/<poll_id>/vote")
    def api_poll_vote(poll_id: str) -> tuple[dict[str, Any], int]:
        admit()
        poll = known(poll_id)
        body = _json_object()
        if body.get("poll", poll.id) != poll.id:
            raise BadRequest("the poll in the body differs from the poll in the path")
        return {"accepted": True, "id": cast(poll, body.get("option"))}, 202

    @app.after_request
    def write_voter_cookie(response: Response) -> Response:
        cookie = g.get("voter_cookie")
        if cookie == _DROP:
            deps.cookies.clear(response)
        elif cookie:
            deps.cookies.issue(response, cookie)
        return response

    def form_poll() -> Poll | None:
        """The poll whose page the failed request came from (None for an unknown poll id)."""
        poll_id = (request.view_args or {}).get("poll_id")
        return polls.default if poll_id is None else polls.get(poll_id)

    def http_error(err: HTTPException) -> ResponseReturnValue:
        """The form gets a readable page, everything else JSON."""
        if not is_form_page(request.path):
            return json_http_error(err)
        body, status = page(form_poll(), status=err.code or 500, error=_form_message(err))
        response = app.make_response((body, status))
        response.headers.update({k: v for k, v in err.get_headers() if k.lower() == "retry-after"})
        return response

    def internal_error(err: Exception) -> ResponseReturnValue:
        response = unexpected_error(err)
        if is_form_page(request.path):
            return page(form_poll(), status=500, error="Something went wrong; please try again.")
        return response

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)
    app.add_template_filter(format_time, "when")


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


def _checked_option(poll: Poll, option: Any) -> str:
    if option is None or option == "":
        raise BadRequest("missing field: option")
    if not isinstance(option, str):
        raise BadRequest("option must be a string")
    if len(option) > MAX_OPTION_LENGTH:
        raise RequestEntityTooLarge(f"option longer than {MAX_OPTION_LENGTH} characters")
    if not poll.has_option(option):
        raise BadRequest("unknown option")
    return option


def _current_choice(pool: PgPool, poll: Poll, voter: str) -> str | None:
    """Best effort: the page still lets people vote while PostgreSQL is away."""
    try:
        return read_choice(pool, poll.id, voter)
    except psycopg2.Error as err:
        log.warning("could not read the current choice: %s", str(err).strip())
        return None


def _form_message(err: HTTPException) -> str:
    messages = {
        400: "Your vote could not be read: {detail}. Please choose one of the options.",
        404: "Sorry, {detail}.",
        409: "{detail}",  # the poll's window message, already a sentence for voters
        413: "That request was too large: {detail}.",
        429: "Too many votes from your address; please wait a moment.",
        503: "Votes cannot be recorded right now; please try again in a few seconds.",
    }
    template = messages.get(err.code or 500, "Your vote was not recorded: {detail}.")
    return template.format(detail=error_message(err))
