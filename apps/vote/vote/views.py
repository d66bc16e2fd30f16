"""What vote's two blueprints share: their dependencies and the checks every vote goes through.

Each poll has a page `/polls/<id>` (vote.pages) and an API `/api/polls/<id>/vote` (vote.api); `/` and
`/api/vote` stay as the default poll's (the first configured one). A vote outside the poll's window is a 409
and is never enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, g, request
from flask_wtf.csrf import CSRFProtect
from votingcommon.connections import PgPool
from votingcommon.faults import FaultInjector
from votingcommon.polls import MAX_OPTION_LENGTH, Poll, PollCatalog
from votingcommon.votes import Vote, now_ms
from werkzeug.exceptions import BadRequest, Conflict, RequestEntityTooLarge

from vote.queue import VoteQueue
from vote.ratelimit import VoteRateLimit
from vote.voters import VoterCookies

SERVICE = "vote"  # the key of VoteDeps in app.extensions
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


def current_deps() -> VoteDeps:
    """The current app's dependencies, stored by create_app (votingcommon.web.register_blueprints). Taken
    once per request and handed to the helpers below: each lookup through `current_app` costs ~0.7 µs."""
    return current_app.extensions[SERVICE]


def voter(deps: VoteDeps) -> tuple[str, bool]:
    """The request's voter id and whether it is new. A new id is noted on `g` for the response to set its
    cookie, a rejected cookie for the response to drop it; a known voter costs no `g` access."""
    try:
        voter_id, new = deps.cookies.voter(request)
    except BadRequest:
        g.voter_cookie = _DROP
        raise
    if new:
        g.voter_cookie = voter_id
    return voter_id, new


def write_voter_cookie(response: Response) -> Response:
    """After every page and API request, error answers included: what voter() noted on `g`."""
    cookie = g.get("voter_cookie")
    if cookie == _DROP:
        current_deps().cookies.clear(response)
    elif cookie:
        current_deps().cookies.issue(response, cookie)
    return response


def admit(deps: VoteDeps) -> None:
    """First for every vote request, whatever follows: limits count bad requests too."""
    deps.rate_limit.check(request.remote_addr or "unknown")
    deps.faults.apply()


def cast(deps: VoteDeps, poll: Poll, option: Any) -> str:
    """Every check, then the XADD: a refused vote leaves nothing on the stream."""
    if closed := poll.window_message(datetime.now(UTC)):
        raise Conflict(closed)
    checked = _checked_option(poll, option)
    vote = Vote(poll=poll.id, voter=voter(deps)[0], option=checked, accepted_ms=now_ms())
    return deps.queue.enqueue(vote)


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
